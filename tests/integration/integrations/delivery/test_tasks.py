"""The Celery side: a real worker process sends and reschedules with a countdown; the
sweep re-queues what the broker lost; two runs racing for one delivery send it once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from integrations.delivery.services import delivery_enqueue, delivery_send_now
from integrations.delivery.sweep import deliveries_overdue
from integrations.delivery.tasks import deliveries_sweep
from integrations.models import AttemptOutcome, Delivery, DeliveryStatus
from orion.core.fakes.server import Reply
from orion.core.rows import independent_close

from .conftest import attempts, connect, enqueue, fresh

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_final(delivery, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = fresh(delivery)
        if row.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN):
            return row
        time.sleep(0.05)
    raise AssertionError(f"delivery still {fresh(delivery).status} after {timeout}s")


def test_a_worker_sends_after_commit_and_retries_with_a_countdown(cast, tg, worker):
    process = worker(ORION_TELEGRAM_API_BASE=tg.base_url)
    tg.fail_next("503")
    connect(cast.tenant, "telegram")
    with transaction.atomic():
        (delivery,) = delivery_enqueue(
            tenant_id=cast.tenant.pk, kind="telegram", body="from the worker", key="w1"
        )
    delivery = _wait_final(delivery)
    assert delivery.status == DeliveryStatus.SENT, process.stderr
    assert [a.outcome for a in attempts(delivery)] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SENT,
    ]
    first, second = tg.requests
    assert second.received_at - first.received_at >= 0.36  # the 400 ms floor, less jitter
    assert len(tg.accepted) == 1


def test_the_sweep_queues_again_what_the_broker_lost(cast, tg, monkeypatch):
    from orion.celery import app

    # Their messages sit in a broker no one reads; one of them for five minutes already.
    delivery = enqueue(cast.tenant, "telegram")
    Delivery.objects.unscoped().filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    fresh_one = enqueue(cast.tenant, "telegram", key="just-queued")
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    overdue = deliveries_overdue()
    assert (cast.tenant.pk, delivery.pk) in overdue
    assert (cast.tenant.pk, fresh_one.pk) not in overdue  # its message is still on the way
    assert deliveries_sweep() == 1
    assert fresh(delivery).status == DeliveryStatus.SENT and len(tg.accepted) == 1


def test_two_runs_racing_for_one_delivery_send_it_once(cast, tg):
    tg.script("POST", "/bot*", lambda request: Reply(delay=0.3, json={"ok": True, "result": {}}))
    delivery = enqueue(cast.tenant, "telegram")
    results: list[str] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(delivery_send_now(delivery_id=delivery.pk).status)
        finally:
            connection.close()
            independent_close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [DeliveryStatus.SENDING, DeliveryStatus.SENT]
    assert len(tg.requests) == 1 and len(attempts(delivery)) == 1
