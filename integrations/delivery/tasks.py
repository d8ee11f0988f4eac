"""Celery adapters of the Delivery path: the send task, queueing it, and the sweep."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from integrations.delivery.send import delivery_send_now
from integrations.delivery.sweep import deliveries_overdue
from orion.core.rows import independent_close
from tenants.tasks import tenant_task

log = logging.getLogger(__name__)


@tenant_task(bind=True, ignore_result=True, acks_late=True)
def delivery_send(self: Any, *, tenant_id: int, delivery_id: int) -> str:
    """Try the delivery once; a retry is a new message with a countdown (a worker never
    sleeps). Run eagerly (tests, `make run` without a worker) a retry is left to the sweep:
    an eager countdown would run at once."""
    result = delivery_send_now(delivery_id=delivery_id)
    if self.request.is_eager:
        independent_close()  # a request thread: leave no second connection behind
    elif result.retry_in is not None:
        delivery_queue(tenant_id=tenant_id, delivery_ids=[delivery_id], countdown=result.retry_in)
    return result.status


def delivery_queue(*, tenant_id: int, delivery_ids: list[int], countdown: float = 0) -> None:
    """Send a message to the broker per delivery. A broker that is down loses nothing: the
    rows are due in the database and the sweep queues them again."""
    for delivery_id in delivery_ids:
        try:
            delivery_send.apply_async(
                kwargs={"tenant_id": tenant_id, "delivery_id": delivery_id},
                countdown=max(countdown, 0),
                retry=False,
            )
        except Exception:
            log.warning("delivery %s: not queued (broker unavailable); the sweep will", delivery_id)


@shared_task(ignore_result=True, expires=60)
def deliveries_sweep() -> int:
    """Every 15 s (beat): queue again deliveries whose retry time passed (a lost broker
    message) and sends whose lease expired (a worker died mid-send)."""
    overdue = deliveries_overdue()
    for tenant_id, delivery_id in overdue:
        delivery_queue(tenant_id=tenant_id, delivery_ids=[delivery_id])
    return len(overdue)
