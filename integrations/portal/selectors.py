"""Reads of a tenant's deliveries for the portal (always within the asking tenant)."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.models import Delivery, DeliveryAttempt

RECENT = 10


def deliveries_recent(*, tenant_id: int, kind: str = "", limit: int = RECENT) -> list[Delivery]:
    rows = Delivery.objects.unscoped().filter(tenant_id=tenant_id)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("-created_at", "-id")[:limit])


def deliveries_page(*, tenant_id: int) -> QuerySet[Delivery]:
    return Delivery.objects.unscoped().filter(tenant_id=tenant_id).order_by("-created_at", "-id")


def delivery_get(*, tenant_id: int, pk: int) -> Delivery | None:
    return Delivery.objects.unscoped().filter(tenant_id=tenant_id, pk=pk).first()


def delivery_attempts(*, delivery: Delivery) -> list[DeliveryAttempt]:
    return list(
        DeliveryAttempt.objects.unscoped()
        .filter(tenant_id=delivery.tenant_id, delivery=delivery)
        .order_by("number")
    )
