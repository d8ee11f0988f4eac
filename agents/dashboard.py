"""The dashboard's agent card: how many agents in each state, the last runs, what needs the
customer (stuck or failed runs, paused agents, approvals waiting) and what happened since
their last visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from agents.models import Agent, AgentStatus, Run
from agents.portal.selectors import attention, briefing_latest, since_visit

RECENT_RUNS = 5
FIRST_VISIT_WINDOW = timedelta(hours=24)
LAST_VISIT_TTL_S = 90 * 24 * 3600


def agent_card(*, limit: int = RECENT_RUNS) -> dict[str, Any] | None:
    """Two queries in the current tenant scope; None when the tenant has no agents."""
    counts = Agent.objects.order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in counts}
    total = sum(by_status.values())
    if not total:
        return None
    runs = list(
        Run.objects.select_related("agent")
        .only(
            "id",
            "agent__name",
            "status",
            "trigger",
            "summary",
            "reason",
            "created_at",
            "ended_at",
        )
        .order_by("-created_at", "-id")[:limit]
    )
    statuses = [(label, by_status.get(value, 0)) for value, label in AgentStatus.choices]
    return {"total": total, "by_status": [s for s in statuses if s[1]], "runs": runs}


def last_visit_swap(*, membership_id: int, now: datetime) -> datetime:
    """When this member last opened the dashboard (a day ago on the first visit), and
    remember now. Kept in the cache (Redis in production): losing it only widens the
    "since your last visit" window to a day."""
    key = f"portal:last-visit:{membership_id}"
    seen = cache.get(key)
    cache.set(key, now.timestamp(), timeout=LAST_VISIT_TTL_S)
    if isinstance(seen, int | float):
        return datetime.fromtimestamp(seen, tz=UTC)
    return now - FIRST_VISIT_WINDOW


def agent_card_for(request: HttpRequest) -> dict[str, Any] | None:
    """The provider registered with tenants' dashboard (the request's scope is set)."""
    card = agent_card()
    if card is not None:
        now = timezone.now()
        since = last_visit_swap(membership_id=request.membership.pk, now=now)
        card["attention"] = attention(now=now)
        card["since"] = since_visit(since=since)
        card["briefing"] = briefing_latest()
    return card
