"""The dashboard's agent card: how many agents in each state, and the last runs."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest

from agents.models import Agent, AgentStatus, Run

RECENT_RUNS = 5


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


def agent_card_for(request: HttpRequest) -> dict[str, Any] | None:
    """The provider registered with tenants' dashboard (the request's scope is set)."""
    return agent_card()
