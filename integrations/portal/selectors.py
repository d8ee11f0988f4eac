"""Reads of a tenant's deliveries for the portal (always within the asking tenant)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from integrations.delivery.send import REDACTED_PURPOSES
from integrations.models import Delivery, DeliveryAttempt

RECENT = 10
HIDDEN_BODY = "(not shown: it carries a one-time link)"


def deliveries_shown(rows: Iterable[Delivery]) -> list[Delivery]:
    """`rows` with `shown_body`: the body, or a note where the body is not to be shown."""
    rows = list(rows)
    for row in rows:
        row.shown_body = HIDDEN_BODY if row.purpose in REDACTED_PURPOSES else row.body
    return rows


def deliveries_recent(*, tenant_id: int, kind: str = "", limit: int = RECENT) -> list[Delivery]:
    rows = Delivery.objects.unscoped().filter(tenant_id=tenant_id)
    if kind:
        rows = rows.filter(kind=kind)
    return deliveries_shown(rows.order_by("-created_at", "-id")[:limit])


def deliveries_page(*, tenant_id: int) -> QuerySet[Delivery]:
    return Delivery.objects.unscoped().filter(tenant_id=tenant_id).order_by("-created_at", "-id")


def delivery_get(*, tenant_id: int, pk: int) -> Delivery | None:
    found = Delivery.objects.unscoped().filter(tenant_id=tenant_id, pk=pk)
    return next(iter(deliveries_shown(found)), None)


def delivery_attempts(*, delivery: Delivery) -> list[DeliveryAttempt]:
    return list(
        DeliveryAttempt.objects.unscoped()
        .filter(tenant_id=delivery.tenant_id, delivery=delivery)
        .order_by("number")
    )
