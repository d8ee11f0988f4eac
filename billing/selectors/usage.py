"""Reads: usage over a range of the tenant's calendar days, for the charts and the CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from billing.models import UsageEvent
from tenants.models import Tenant
from tenants.scope import tenant_scope


def _events(tenant: Tenant, start: date, end: date) -> QuerySet:
    zone = ZoneInfo(tenant.timezone)
    return UsageEvent.objects.filter(
        created_at__gte=datetime.combine(start, time.min, tzinfo=zone),
        created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def usage_range(*, tenant: Tenant, start: date, end: date) -> dict:
    """Per local day: spend per agent, calls and calls that fell back; per model: calls
    and spend. Two queries, whatever the number of events. Costs in micro-USD."""
    events = _events(tenant, start, end)
    per_day = (
        events.annotate(day=TruncDate("created_at", tzinfo=ZoneInfo(tenant.timezone)))
        .values("day", "agent_id")
        .annotate(
            cost=Sum("cost_micros"),
            calls=Count("id"),
            fell_back=Count("id", filter=Q(fell_back=True)),
        )
        .order_by("day", "agent_id")
    )
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    daily = {
        d: {"day": d, "cost_micros": 0, "calls": 0, "fell_back": 0, "agents": {}} for d in days
    }
    agents: set[int | None] = set()
    for row in per_day:
        slot = daily[row["day"]]
        slot["agents"][row["agent_id"]] = row["cost"]
        slot["cost_micros"] += row["cost"]
        slot["calls"] += row["calls"]
        slot["fell_back"] += row["fell_back"]
        agents.add(row["agent_id"])
    for slot in daily.values():
        slot["fallback_rate"] = slot["fell_back"] / slot["calls"] if slot["calls"] else None
    models = list(
        events.values("model")
        .annotate(calls=Count("id"), cost_micros=Sum("cost_micros"))
        .order_by("-calls", "model")
    )
    calls = sum(m["calls"] for m in models)
    for m in models:
        m["share"] = m["calls"] / calls
    fell_back = sum(slot["fell_back"] for slot in daily.values())
    return {
        "start": start,
        "end": end,
        "agents": sorted(agents, key=lambda a: (a is None, a or 0)),
        "daily": list(daily.values()),
        "models": models,
        "calls": calls,
        "cost_micros": sum(m["cost_micros"] for m in models),
        "fell_back": fell_back,
        "fallback_rate": fell_back / calls if calls else None,
    }


CSV_FIELDS = (
    "created_at", "day", "agent_id", "run_id", "session_id", "provider", "model",
    "input_tokens", "output_tokens", "cached_tokens", "cost_usd", "unpriced", "fell_back",
    "attempts", "latency_ms",
)  # fmt: skip


def usage_rows(*, tenant: Tenant, start: date, end: date) -> Iterator[tuple]:
    """Every model call of the range, oldest first, as CSV_FIELDS tuples (times in the
    tenant's zone). Streams in chunks and carries its own tenant scope: a streamed
    response is read after the request's scope has ended."""
    zone = ZoneInfo(tenant.timezone)
    with tenant_scope(tenant):
        rows = _events(tenant, start, end).order_by("created_at", "id").values_list(
            "created_at", "agent_id", "run_id", "session_id", "provider", "model",
            "input_tokens", "output_tokens", "cached_tokens", "cost_micros", "unpriced",
            "fell_back", "attempts", "latency_ms",
        )  # fmt: skip
        for created, *middle, cost, unpriced, fell, attempts, latency in rows.iterator(2000):
            local = created.astimezone(zone)
            yield (
                local.isoformat(timespec="seconds"),
                local.date().isoformat(),
                *middle,
                f"{cost / 1_000_000:.6f}",
                unpriced,
                fell,
                attempts,
                "" if latency is None else round(latency, 1),
            )
