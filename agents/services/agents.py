"""Writes of agents: create, update, pause/resume, wake. Each validates, writes the row and
its audit event in one transaction, and raises ValidationError (nothing written) on bad
input."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent, AgentStatus, ModelChain, PauseReason, RunTrigger, ScheduleKind
from agents.services.schedule import cron_validate, next_heartbeat_after
from tenants.models import Tenant
from tenants.services.audit import audit_record

EDITABLE_FIELDS = (
    "name",
    "title",
    "role",
    "template",
    "instructions",
    "reports_to",
    "model_chain",
    "schedule_kind",
    "interval_s",
    "cron",
    "allowed_tools",
    "max_steps",
    "max_run_tokens",
    "monthly_budget_cents",
)


def _snapshot(agent: Agent) -> dict[str, Any]:
    return {
        "name": agent.name,
        "title": agent.title,
        "role": agent.role,
        "status": agent.status,
        "pause_reason": agent.pause_reason,
        "reports_to": agent.reports_to_id,
        "model_chain": agent.model_chain_id,
        "schedule_kind": agent.schedule_kind,
        "interval_s": agent.interval_s,
        "cron": agent.cron,
        "allowed_tools": list(agent.allowed_tools or []),
        "max_steps": agent.max_steps,
        "max_run_tokens": agent.max_run_tokens,
        "monthly_budget_cents": agent.monthly_budget_cents,
    }


def _validate(agent: Agent) -> None:
    """Everything a person can get wrong, as field errors."""
    from agents.tools import tool_names

    if agent.schedule_kind == ScheduleKind.CRON:
        cron_validate(agent.cron)
    if agent.reports_to_id is not None:
        boss = Agent.objects.filter(pk=agent.reports_to_id).first()
        if boss is None:
            raise ValidationError({"reports_to": "That agent is not in this company."})
        seen, named = {agent.pk}, boss.name
        while boss is not None:
            if boss.pk in seen:
                raise ValidationError(
                    {"reports_to": f"{agent.name} cannot report to {named}: that is a cycle."}
                )
            seen.add(boss.pk)
            boss = boss.reports_to if boss.reports_to_id else None
    if not isinstance(agent.allowed_tools, list) or not all(
        isinstance(t, str) for t in agent.allowed_tools
    ):
        raise ValidationError({"allowed_tools": "A list of tool names."})
    unknown = sorted(set(agent.allowed_tools) - tool_names())
    if unknown:
        raise ValidationError({"allowed_tools": f"Unknown tools: {', '.join(unknown)}."})
    if (
        agent.model_chain_id is not None
        and not ModelChain.objects.filter(pk=agent.model_chain_id).exists()
    ):
        raise ValidationError({"model_chain": "No such model chain."})
    if Agent.objects.filter(name__iexact=agent.name).exclude(pk=agent.pk).exists():
        raise ValidationError({"name": f"An agent called {agent.name!r} exists already."})
    try:
        agent.full_clean(exclude=["tenant", "reports_to", "model_chain", "name"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    if not agent.name.strip():
        raise ValidationError({"name": "An agent needs a name."})


def _apply(agent: Agent, values: dict[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Not editable: {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        if name in ("reports_to", "model_chain"):
            setattr(agent, f"{name}_id", getattr(value, "pk", value))
        else:
            setattr(agent, name, value)


def _save(agent: Agent) -> None:
    """Save; a twin created concurrently under the same name is a field error, not a 500."""
    try:
        with transaction.atomic():
            agent.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"An agent called {agent.name!r} exists already."}) from exc


def _first_due(agent: Agent, tenant: Tenant, now: datetime) -> datetime:
    agent.next_heartbeat_at = None
    return next_heartbeat_after(agent=agent, timezone_name=tenant.timezone, after=now)


@transaction.atomic
def agent_create(*, tenant: Tenant, actor_user: Any = None, **values: Any) -> Agent:
    agent = Agent(tenant=tenant)
    _apply(agent, values)
    _validate(agent)
    agent.next_heartbeat_at = _first_due(agent, tenant, timezone.now())
    _save(agent)
    audit_record(
        tenant=tenant,
        verb="agent.created",
        target=agent,
        actor_user=actor_user,
        after=_snapshot(agent),
    )
    return agent


@transaction.atomic
def agent_update(*, agent: Agent, actor_user: Any = None, **values: Any) -> Agent:
    agent = Agent.objects.select_for_update().select_related("tenant").get(pk=agent.pk)
    before = _snapshot(agent)
    _apply(agent, values)
    _validate(agent)
    if any(before[k] != _snapshot(agent)[k] for k in ("schedule_kind", "interval_s", "cron")):
        agent.next_heartbeat_at = _first_due(agent, agent.tenant, timezone.now())
    _save(agent)
    after = _snapshot(agent)
    if after != before:
        audit_record(
            tenant=agent.tenant_id,
            verb="agent.updated",
            target=agent,
            actor_user=actor_user,
            before=before,
            after=after,
        )
    return agent


@transaction.atomic
def agent_pause(*, agent: Agent, reason: str = PauseReason.MANUAL, actor_user: Any = None) -> Agent:
    """Pause: no new heartbeat starts; a running one stops at its next step."""
    changed = Agent.objects.filter(pk=agent.pk, status=AgentStatus.ACTIVE).update(
        status=AgentStatus.PAUSED, pause_reason=reason
    )
    agent.refresh_from_db()
    if changed:
        audit_record(
            tenant=agent.tenant_id,
            verb="agent.paused",
            target=agent,
            actor_user=actor_user,
            after={"status": agent.status, "pause_reason": reason},
        )
    return agent


@transaction.atomic
def agent_resume(*, agent: Agent, actor_user: Any = None) -> Agent:
    """Resume a paused agent; its next heartbeat falls due now."""
    changed = Agent.objects.filter(pk=agent.pk, status=AgentStatus.PAUSED).update(
        status=AgentStatus.ACTIVE, pause_reason="", next_heartbeat_at=timezone.now()
    )
    agent.refresh_from_db()
    if changed:
        audit_record(
            tenant=agent.tenant_id,
            verb="agent.resumed",
            target=agent,
            actor_user=actor_user,
            after={"status": agent.status},
        )
    return agent


@transaction.atomic
def agent_terminate(*, agent: Agent, actor_user: Any = None) -> Agent:
    Agent.objects.filter(pk=agent.pk).update(status=AgentStatus.TERMINATED, next_heartbeat_at=None)
    agent.refresh_from_db()
    audit_record(
        tenant=agent.tenant_id, verb="agent.terminated", target=agent, actor_user=actor_user
    )
    return agent


def agent_wake(*, agent_id: int, trigger: str = RunTrigger.MANUAL, after_s: float = 0) -> bool:
    """Bring the agent's next heartbeat forward to now (or `after_s` from now); the
    dispatcher picks it up on a tick. Never pushes a heartbeat later; True when it was
    brought forward."""
    at = timezone.now() + timedelta(seconds=after_s)
    return bool(  # by primary key: it also runs in on_commit callbacks outside any scope
        Agent.objects.unscoped()
        .filter(pk=agent_id, status=AgentStatus.ACTIVE)
        .filter(Q(next_heartbeat_at__gt=at) | Q(next_heartbeat_at__isnull=True))
        .update(next_heartbeat_at=at, wake_trigger=trigger)
    )


def tenant_heartbeats_set(*, tenant: Tenant, paused: bool, actor_user: Any = None) -> Tenant:
    """The tenant-wide kill switch: no heartbeat starts while it is on, and running ones
    stop at their next step."""
    with transaction.atomic():
        changed = (
            Tenant.objects.filter(pk=tenant.pk)
            .exclude(heartbeats_paused=paused)
            .update(heartbeats_paused=paused)
        )
        if changed:
            audit_record(
                tenant=tenant,
                verb="tenant.heartbeats_paused" if paused else "tenant.heartbeats_resumed",
                target=tenant,
                actor_user=actor_user,
                after={"heartbeats_paused": paused},
            )
    tenant.refresh_from_db()
    return tenant
