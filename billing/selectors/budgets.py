"""Reads: budget room and spend."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from billing.models import Budget, BudgetPeriod, UsageEvent
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


def budget_overview(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """This month's budget, spend and holds, the company's and each agent's (in cents)."""
    month = month_of(tz=tenant.timezone, at=now or timezone.now())
    budget = Budget.objects.filter(tenant_id=tenant.pk).first()
    periods = {p.agent_id: p for p in BudgetPeriod.objects.filter(month=month)}
    company = periods.pop(TENANT_WIDE, None)

    def cents(micros: int | None) -> float | None:
        return None if micros is None else round(micros / MICROS_PER_CENT, 4)

    return {
        "month": month.isoformat(),
        "limit_cents": budget.limit_cents if budget else None,
        "soft_pct": budget.soft_pct if budget else 80,
        "spent_cents": cents(company.spent_micros) if company else 0,
        "reserved_cents": cents(company.reserved_micros) if company else 0,
        "soft_reached_at": company.soft_reached_at if company else None,
        "exceeded_at": company.exceeded_at if company else None,
        "agents": [
            {
                "agent_id": agent_id,
                "limit_cents": cents(p.limit_micros),
                "spent_cents": cents(p.spent_micros),
                "reserved_cents": cents(p.reserved_micros),
                "soft_reached_at": p.soft_reached_at,
                "exceeded_at": p.exceeded_at,
            }
            for agent_id, p in sorted(periods.items())
        ],
    }


def usage_day(*, tenant: Tenant, day: date) -> dict:
    """One local calendar day of the tenant's usage (see `usage_between`)."""
    zone = ZoneInfo(tenant.timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return {"day": day.isoformat(), **usage_between(start=start, end=end)}


def usage_between(*, start: datetime, end: datetime) -> dict:
    """The current tenant's usage in [start, end), per agent and per session: calls,
    tokens, cost, the models used and how many calls fell back. One query per grouping:
    the rows come per (key, model) and are summed here."""
    events = UsageEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    sums = ("calls", "input_tokens", "output_tokens", "cost_micros", "fell_back", "unpriced")

    def rows(by: str) -> list[dict]:
        grouped = (
            events.values(by, "model")
            .annotate(
                calls=Count("id"),
                input_tokens=Sum("input_tokens"),
                output_tokens=Sum("output_tokens"),
                cost_micros=Sum("cost_micros"),
                fell_back=Count("id", filter=Q(fell_back=True)),
                unpriced=Count("id", filter=Q(unpriced=True)),
            )
            .order_by(by, "model")
        )
        folded: dict[int | None, dict] = {}
        models: dict[int | None, list[str]] = {}
        for part in grouped:
            row = folded.setdefault(part[by], {by: part[by], **dict.fromkeys(sums, 0)})
            for name in sums:
                row[name] += part[name]
            models.setdefault(part[by], []).append(part["model"])
        return [
            dict(row, cost_cents=row["cost_micros"] / MICROS_PER_CENT, models=models[key])
            for key, row in folded.items()
        ]

    return {"agents": rows("agent_id"), "sessions": rows("session_id")}
