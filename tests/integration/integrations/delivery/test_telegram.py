"""Telegram over the fake Bot API: HTML, the plain-text fallback, migration, what retries."""

from __future__ import annotations

import pytest

from integrations.delivery.services import delivery_send_now
from integrations.models import AttemptOutcome, ConnectionStatus, DeliveryStatus

from .conftest import attempts, connection_of, enqueue, fresh, run_to_end

pytestmark = pytest.mark.django_db(transaction=True)


def test_sent_in_html_once_and_the_connection_records_success(cast, tg):
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.SENT
    assert [(m["chat_id"], m["text"], m["parse_mode"]) for m in tg.accepted] == [
        ("-1001", "Hello <b>team</b>", "HTML")
    ]
    assert delivery.provider_message_id == str(tg.accepted[0]["id"])
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.SENT]
    assert connection_of(delivery).last_success_at is not None
    assert delivery_send_now(delivery_id=delivery.pk).status == DeliveryStatus.SENT
    assert len(tg.requests) == 1  # a second run of a sent delivery sends nothing


def test_a_parse_error_is_resent_once_as_plain_text(cast, tg):
    delivery = run_to_end(enqueue(cast.tenant, "telegram", body="2 < 3 and <b>bold"))
    assert delivery.status == DeliveryStatus.SENT and delivery.plain_text
    assert [(m["text"], m["parse_mode"]) for m in tg.accepted] == [("2 < 3 and <b>bold", None)]
    first, second = attempts(delivery)
    assert (first.outcome, first.http_status) == (AttemptOutcome.PERMANENT, 400)
    assert "sending again as plain text" in first.error
    assert second.outcome == AttemptOutcome.SENT
    assert len(tg.requests) == 2


def test_a_group_migrated_to_a_supergroup_is_followed(cast, tg):
    tg.migrate("-1001", "-1009999")
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.SENT
    assert [m["chat_id"] for m in tg.accepted] == ["-1009999"]
    assert connection_of(delivery).config["chat_id"] == "-1009999"
    assert [a.outcome for a in attempts(delivery)] == [
        AttemptOutcome.PERMANENT,
        AttemptOutcome.SENT,
    ]


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("revoked", "refused the bot token"),
        ("kicked", "can no longer post"),
        ("chat_not_found", "does not know this chat"),
    ],
)
def test_a_broken_channel_is_disabled_after_one_attempt(cast, tg, fault, words):
    if fault == "revoked":
        tg.revoke()
    else:
        tg.fail_next(fault)
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.FAILED
    assert len(attempts(delivery)) == 1 and len(tg.requests) == 1
    connection = connection_of(delivery)
    assert connection.status == ConnectionStatus.DISABLED
    assert words in connection.last_error and words in delivery.last_error


@pytest.mark.parametrize("fault", ["429", "503"])
def test_429_and_503_are_retried_after_the_wait(cast, tg, fault):
    tg.fail_next(fault)
    delivery = enqueue(cast.tenant, "telegram")
    first = delivery_send_now(delivery_id=delivery.pk)
    assert first.status == DeliveryStatus.RETRYING
    if fault == "429":
        assert first.retry_in >= 0.2  # the fake's parameters.retry_after
        assert attempts(delivery)[0].retry_after_ms == 200
    else:
        assert 0.36 <= first.retry_in <= 0.44  # the 400 ms floor, 10 % jitter
    early = delivery_send_now(delivery_id=delivery.pk)  # not due yet: not claimed
    assert early.status == DeliveryStatus.RETRYING and len(tg.requests) == 1
    delivery = run_to_end(delivery)
    assert delivery.status == DeliveryStatus.SENT
    assert [a.outcome for a in attempts(delivery)] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SENT,
    ]
    assert len(tg.accepted) == 1


@pytest.mark.parametrize("fault", ["500", "accept_then_500"])
def test_an_ambiguous_answer_makes_the_delivery_unknown_and_is_not_resent(cast, tg, fault):
    tg.fail_next(fault)
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.UNKNOWN]
    assert len(tg.requests) == 1


def test_three_refusals_fail_the_delivery_and_mark_the_connection(cast, tg):
    tg.fail_next("503", "503", "503")
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.FAILED
    assert "gave up after 3 tries" in delivery.last_error
    assert len(tg.requests) == 3 and tg.accepted == []
    assert connection_of(delivery).status == ConnectionStatus.ERROR


def test_a_server_that_is_down_is_retried_then_reached(cast, tg):
    delivery = enqueue(cast.tenant, "telegram")
    tg.stop()
    assert delivery_send_now(delivery_id=delivery.pk).status == DeliveryStatus.RETRYING
    assert "could not reach Telegram" in attempts(delivery)[0].error
    tg.start()
    assert run_to_end(delivery).status == DeliveryStatus.SENT
    assert len(tg.accepted) == 1


def test_a_disconnected_channel_fails_the_queued_delivery(cast, tg):
    from integrations.services.connections import connection_disconnect

    delivery = enqueue(cast.tenant, "telegram")
    connection_disconnect(tenant_id=cast.tenant.pk, kind="telegram")
    delivery = run_to_end(delivery)
    assert delivery.status == DeliveryStatus.FAILED
    assert "connection was removed" in delivery.last_error
    assert tg.requests == [] and fresh(delivery).attempt_count == 0


def test_rate_limits_with_a_wait_do_not_use_up_the_tries(cast, tg):
    tg.retry_after = 0.05
    tg.fail_next("429", "429", "429", "429", "503", "503")
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.SENT and len(tg.accepted) == 1
    assert [a.http_status for a in attempts(delivery)] == [429, 429, 429, 429, 503, 503, None]


def test_no_answer_after_sending_is_unknown_and_not_resent(cast, tg, settings):
    settings.ORION_DELIVERY_TIMEOUT_S = 0.3
    tg.fail_next("accept_then_hang")
    delivery = run_to_end(enqueue(cast.tenant, "telegram"))
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert "did not answer in time" in delivery.last_error
    assert len(tg.requests) == 1 and len(tg.accepted) == 1


def test_a_secret_no_key_opens_fails_the_delivery_and_disables_the_channel(cast, tg):
    from cryptography.fernet import Fernet

    from integrations.models import Connection
    from orion.core.secrets import Secret

    delivery = enqueue(cast.tenant, "telegram")
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"token": "1:x"}').decode()
    Connection.objects.unscoped().filter(pk=delivery.connection_id).update(secret=Secret(foreign))
    result = delivery_send_now(delivery_id=delivery.pk)
    assert result.status == DeliveryStatus.FAILED and result.retry_in is None
    delivery = fresh(delivery)
    assert delivery.status == DeliveryStatus.FAILED and delivery.lease_token == ""
    assert "can no longer be read" in delivery.last_error
    assert attempts(delivery) == [] and tg.requests == []
    connection = connection_of(delivery)
    assert connection.status == ConnectionStatus.DISABLED
    assert "connect the channel again" in connection.last_error


@pytest.mark.parametrize(("said", "kept_ms"), [(-3, 0), (10**8, 3_600_000)])
def test_a_nonsense_retry_after_is_bounded_not_a_crash(cast, tg, said, kept_ms):
    from orion.core.fakes.server import Reply

    refusal = Reply(
        status=429,
        json={
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests",
            "parameters": {"retry_after": said},
        },
    )
    tg.script("POST", "/bot*", [refusal], default=tg._send_message)
    delivery = enqueue(cast.tenant, "telegram")
    result = delivery_send_now(delivery_id=delivery.pk)
    assert result.status == DeliveryStatus.RETRYING
    (attempt,) = attempts(delivery)
    assert (attempt.outcome, attempt.retry_after_ms) == (AttemptOutcome.TRANSIENT, kept_ms)
    assert fresh(delivery).status == DeliveryStatus.RETRYING and tg.accepted == []


def test_a_channel_disabled_meanwhile_stays_disabled_when_a_send_gives_up(cast, tg):
    from django.db import connection as db

    from integrations.services.connections import connection_record_error
    from orion.core.fakes.server import Reply

    delivery = enqueue(cast.tenant, "telegram")
    unavailable = Reply(status=503, json={"ok": False, "description": "Service Unavailable"})

    def kicked_meanwhile(request):  # another delivery's 403 disables the channel meanwhile
        connection_record_error(
            connection_id=delivery.connection_id,
            error="The bot can no longer post in this chat",
            status=ConnectionStatus.DISABLED,
        )
        db.close()
        return unavailable

    tg.script("POST", "/bot*", [unavailable, unavailable, kicked_meanwhile])
    delivery = run_to_end(delivery)
    assert (
        delivery.status == DeliveryStatus.FAILED and "gave up after 3 tries" in delivery.last_error
    )
    connection = connection_of(delivery)
    assert connection.status == ConnectionStatus.DISABLED
    assert connection.last_error == "The bot can no longer post in this chat"


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ({"ok": False, "description": "Too Many Requests", "parameters": 7}, 429),
        ({"ok": True, "result": "sent"}, 200),
    ],
)
def test_a_body_in_a_shape_telegram_never_sends_is_read_not_a_crash(cast, tg, reply, status):
    from orion.core.fakes.server import Reply

    tg.script("POST", "/bot*", [Reply(status=status, json=reply)], default=tg._send_message)
    delivery = enqueue(cast.tenant, "telegram")
    result = delivery_send_now(delivery_id=delivery.pk)
    expected = DeliveryStatus.SENT if status == 200 else DeliveryStatus.RETRYING
    assert result.status == expected == fresh(delivery).status
    assert attempts(delivery)[0].outcome != AttemptOutcome.STARTED
