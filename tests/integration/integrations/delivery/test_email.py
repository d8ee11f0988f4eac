"""Email through Django's SMTP backend to a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import pytest

from integrations.delivery.services import delivery_enqueue, delivery_send_now
from integrations.email.transport import message_id
from integrations.models import AttemptOutcome, DeliveryStatus

from .conftest import attempts, run_to_end

pytestmark = pytest.mark.django_db(transaction=True)


def _mail(cast, key="mail-1"):
    (delivery,) = delivery_enqueue(
        tenant_id=cast.tenant.pk,
        kind="email",
        body="Your report is ready.",
        key=key,
        subject="Daily report",
        recipient="boss@acme.test",
        purpose="report",
    )
    return delivery


def test_sent_through_smtp_with_a_message_id_from_the_key(cast, smtp):
    delivery = run_to_end(_mail(cast))
    assert delivery.status == DeliveryStatus.SENT
    (message,) = smtp.messages
    expected = message_id(tenant_id=cast.tenant.pk, key="mail-1")
    assert message["Message-ID"] == expected == delivery.provider_message_id
    assert (message["To"], message["Subject"]) == ("boss@acme.test", "Daily report")
    assert message.get_payload().strip() == "Your report is ready."


def test_a_server_that_is_down_is_retried_then_reached(cast, smtp):
    delivery = _mail(cast)
    smtp.stop()
    assert delivery_send_now(delivery_id=delivery.pk).status == DeliveryStatus.RETRYING
    assert "could not reach the mail server" in attempts(delivery)[0].error
    smtp.start()
    assert run_to_end(delivery).status == DeliveryStatus.SENT
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("fault", ["rcpt_450", "data_451"])
def test_a_4xx_reply_is_retried(cast, smtp, fault):
    smtp.fail_next(fault)
    delivery = run_to_end(_mail(cast))
    assert delivery.status == DeliveryStatus.SENT and len(smtp.messages) == 1
    assert [a.outcome for a in attempts(delivery)] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SENT,
    ]


@pytest.mark.parametrize(
    ("fault", "words"), [("rcpt_550", "refused the address"), ("data_554", "554")]
)
def test_a_5xx_reply_fails_the_delivery(cast, smtp, fault, words):
    smtp.fail_next(fault)
    delivery = run_to_end(_mail(cast))
    assert delivery.status == DeliveryStatus.FAILED and words in delivery.last_error
    assert smtp.messages == [] and len(attempts(delivery)) == 1


def test_a_connection_dropped_after_data_is_unknown_and_not_resent(cast, smtp):
    smtp.fail_next("accept_then_close")
    delivery = run_to_end(_mail(cast))
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert len(smtp.messages) == 1 and len(attempts(delivery)) == 1


def test_a_subject_with_line_breaks_is_sent_on_one_line(cast, smtp):
    (delivery,) = delivery_enqueue(
        tenant_id=cast.tenant.pk,
        kind="email",
        body="Numbers inside.",
        key="mail-2",
        subject="Weekly\nreport \r\n for Acme",
        recipient="boss@acme.test",
    )
    delivery = run_to_end(delivery)
    assert delivery.status == DeliveryStatus.SENT
    (message,) = smtp.messages
    assert message["Subject"] == "Weekly report for Acme"
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.SENT]
