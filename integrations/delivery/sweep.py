"""Finding deliveries the broker lost: due for a while and not claimed, or claimed by a
worker whose lease ran out (it died mid-send; the re-run settles its started attempt)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integrations.models import Delivery, DeliveryStatus

GRACE = timedelta(seconds=60)  # past this, a due delivery's message is taken as lost
BATCH = 500


def deliveries_overdue(*, grace: timedelta = GRACE, limit: int = BATCH) -> list[tuple[int, int]]:
    """(tenant_id, delivery_id) of overdue deliveries, oldest first."""
    now = timezone.now()
    waiting = Q(
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRYING],
        next_attempt_at__lte=now - grace,
    )
    expired = Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
    return list(
        Delivery.objects.unscoped()
        .filter(waiting | expired)
        .order_by("next_attempt_at", "pk")
        .values_list("tenant_id", "pk")[:limit]
    )
