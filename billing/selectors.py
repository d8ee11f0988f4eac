"""Reads: budget room and spend."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from billing.models import Budget, BudgetPeriod
from billing.models.budgets import MICROS_PER_CENT, TENANT_WIDE
from billing.services.budgets import month_of
from tenants.models import Tenant


def budget_has_room(
    *,
    tenant: Tenant,
    agent_id: int | None = None,
    agent_limit_cents: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether this month the tenant's budget, and the agent's, still have room."""
    month = month_of(tz=tenant.timezone, at=now or timezone.now())
    limit = Budget.objects.filter(tenant_id=tenant.pk).values_list("limit_cents", flat=True).first()
    if limit == 0 or (agent_id is not None and agent_limit_cents == 0):
        return False
    full = Q()
    if limit is not None:
        full |= Q(
            agent_id=TENANT_WIDE, spent_micros__gte=limit * MICROS_PER_CENT - F("reserved_micros")
        )
    if agent_id is not None and agent_limit_cents is not None:
        full |= Q(
            agent_id=agent_id,
            spent_micros__gte=agent_limit_cents * MICROS_PER_CENT - F("reserved_micros"),
        )
    if not full:
        return True
    return not BudgetPeriod.objects.filter(tenant_id=tenant.pk, month=month).filter(full).exists()
