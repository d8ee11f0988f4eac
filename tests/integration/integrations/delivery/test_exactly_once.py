"""Exactly once: a worker PROCESS is SIGKILLed right after the provider took the message
and before it heard back; the re-run never sends a second copy (Slack asks; the others
mark the delivery unknown). Needs PostgreSQL: the worker is another process."""

from __future__ import annotations

import signal
import time

import pytest

from integrations.delivery.services import delivery_send_now
from integrations.delivery.sweep import deliveries_overdue
from integrations.models import AttemptOutcome, DeliveryStatus
from tests.integration.control_plane.processes import require_postgresql, spawn

from .conftest import attempts, enqueue, fresh

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_S = 1


def _worker(delivery, settings_values: dict) -> object:
    lines = [
        "from django.conf import settings",
        f"settings.ORION_DELIVERY_LEASE_S = {LEASE_S}",
        *(f"settings.{name} = {value!r}" for name, value in settings_values.items()),
        "from integrations.delivery.services import delivery_send_now",
        f"delivery_send_now(delivery_id={delivery.pk})",
    ]
    return spawn("\n".join(lines))


def _kill_after(process, wait) -> None:
    """Wait for the provider to take the message, then SIGKILL the worker."""
    try:
        wait()
    except TimeoutError:
        process.kill()
        raise AssertionError(f"the worker did not send: {process.communicate()[1]}") from None
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL, stderr


def _fake_settings(kind, fake) -> dict:
    if kind == "email":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": fake.host,
            "EMAIL_PORT": fake.port,
        }
    name = {"telegram": "TELEGRAM", "discord": "DISCORD", "slack": "SLACK"}[kind]
    return {f"ORION_{name}_API_BASE": fake.base_url}


def _rerun_after_the_lease(delivery) -> None:
    """The broker redelivers at once: the live lease keeps that run out. Once the lease
    has run out, the sweep hands the delivery on and the re-run settles it."""
    assert delivery_send_now(delivery_id=delivery.pk).status == DeliveryStatus.SENDING
    time.sleep(LEASE_S + 0.2)
    assert (delivery.tenant_id, delivery.pk) in deliveries_overdue()
    delivery_send_now(delivery_id=delivery.pk)


@pytest.mark.parametrize("kind", ["telegram", "discord", "slack", "email"])
def test_killed_after_the_provider_took_it_is_one_message(cast, kind, request):
    require_postgresql()
    fake = request.getfixturevalue({"telegram": "tg", "discord": "dc", "slack": "sl",
                                    "email": "smtp"}[kind])  # fmt: skip
    fake.fail_next("accept_then_hang")
    delivery = enqueue(cast.tenant, kind, body=f"one {kind} message")
    worker = _worker(delivery, _fake_settings(kind, fake))
    taken = fake.wait_messages if kind == "email" else fake.wait_accepted
    _kill_after(worker, lambda: taken(1, timeout=30))
    (started,) = attempts(delivery)
    assert started.outcome == AttemptOutcome.STARTED  # committed before the request left
    assert fresh(delivery).status == DeliveryStatus.SENDING

    _rerun_after_the_lease(delivery)

    delivery = fresh(delivery)
    count = len(fake.messages) if kind == "email" else len(fake.accepted)
    assert count == 1
    if kind == "slack":  # asked Slack, which has it: sent, not sent again
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.provider_message_id == fake.accepted[0]["ts"]
        assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.SENT]
    else:
        assert delivery.status == DeliveryStatus.UNKNOWN
        assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.UNKNOWN]
        assert "not sent again" in delivery.last_error
    assert delivery.lease_token == "" and delivery.lease_until is None


def test_slack_killed_before_slack_took_it_is_asked_then_sent_once(cast, sl):
    require_postgresql()
    sl.fail_next("hang")
    delivery = enqueue(cast.tenant, "slack")
    worker = _worker(delivery, _fake_settings("slack", sl))
    _kill_after(worker, lambda: sl.wait_for(1, timeout=30))
    _rerun_after_the_lease(delivery)
    delivery = fresh(delivery)
    assert delivery.status == DeliveryStatus.SENT and len(sl.accepted) == 1
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.UNKNOWN, AttemptOutcome.SENT]
