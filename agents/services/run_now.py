"""Run now, asked by a person (portal, admin) or over the API: bring the agent's heartbeat
forward and audit who asked."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.models import Agent, AgentStatus, RunTrigger
from agents.services.agents import agent_wake
from tenants.services.audit import audit_record


@transaction.atomic
def agent_run_now(
    *, agent: Agent, actor_user: Any = None, actor_agent: Agent | None = None
) -> bool:
    """Make the agent due now (the dispatcher's next tick opens the run). A paused or
    terminated agent is refused; True when its heartbeat was brought forward, False when a
    heartbeat was already due (asking twice changes nothing)."""
    if agent.status != AgentStatus.ACTIVE:
        raise ValidationError(
            f"{agent.name} is {agent.get_status_display().lower()}: resume it first."
        )
    woken = agent_wake(agent_id=agent.pk, trigger=RunTrigger.MANUAL)
    if woken:
        audit_record(
            tenant=agent.tenant_id,
            verb="agent.woken",
            target=agent,
            actor_user=actor_user,
            actor_agent=actor_agent,
            after={"trigger": RunTrigger.MANUAL},
        )
    return woken
