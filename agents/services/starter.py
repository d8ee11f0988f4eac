"""Instantiate a starter team for a tenant: its agents (through `agent_create`), the
company mission, a first goal tree and a few tasks so the team has work on its first
heartbeat. Idempotent: agents are found again by their template key, and the first goals
and tasks are only written when the team is new."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.models import Agent, Goal, ModelChain, Task
from agents.services.agents import agent_create
from agents.services.work import goal_create, task_create
from agents.starter_teams import DEFAULT_TEAM, TEAMS, StarterTeam
from tenants.models import Tenant
from tenants.scope import tenant_scope
from tenants.services.audit import audit_record

MAX_MISSION = 2000


def _mission_set(tenant: Tenant, mission: Any, actor_user: Any) -> None:
    if not isinstance(mission, str) or not mission.strip():
        raise ValidationError({"mission": "Write the company's mission in a sentence or two."})
    mission = mission.strip()
    if len(mission) > MAX_MISSION:
        raise ValidationError({"mission": f"At most {MAX_MISSION:,} characters."})
    if mission == tenant.mission:
        return
    before = tenant.mission
    Tenant.objects.filter(pk=tenant.pk).update(mission=mission)
    tenant.mission = mission
    audit_record(
        tenant=tenant,
        verb="tenant.mission_changed",
        target=tenant,
        actor_user=actor_user,
        before={"mission": before},
        after={"mission": mission},
    )


def _work_seed(
    team: StarterTeam, tenant: Tenant, agents: dict[str, Agent], actor_user: Any
) -> None:
    """The mission goal, its sub-goals, and the first tasks (which wake their assignees)."""
    mission = tenant.mission or team.default_mission_goal
    goals: dict[str, Goal] = {
        "mission": goal_create(
            title=mission if len(mission) <= 200 else mission[:197] + "...",
            description="The company mission: every goal below serves it.",
            owner=agents.get("coordinator"),
            actor_user=actor_user,
        )
    }
    for spec in team.goals:
        goals[spec.key] = goal_create(
            title=spec.title,
            description=spec.description,
            parent=goals[spec.parent or "mission"],
            owner=agents.get(spec.owner) if spec.owner else None,
            actor_user=actor_user,
        )
    tasks: dict[str, Task] = {}
    for spec in team.tasks:
        tasks[spec.key] = task_create(
            title=spec.title,
            body=spec.body,
            assignee=agents[spec.assignee],
            goal=goals[spec.goal],
            priority=spec.priority,
            parent=tasks[spec.parent] if spec.parent else None,
            actor_user=actor_user,
        )


def starter_team_create(
    *,
    tenant: Tenant,
    chain: ModelChain | None = None,
    actor_user: Any = None,
    mission: str | None = None,
    team: str = DEFAULT_TEAM,
) -> list[Agent]:
    """Give `tenant` the starter team (agents on `chain`, or the platform default when None)
    and return its agents in template order. A second call creates only the agents that are
    missing and writes no goals or tasks again. Bad input raises ValidationError with
    nothing written. The first tasks wake their agents when the outermost transaction
    commits: a caller with its own transaction opens it inside `tenant_scope(tenant)`."""
    spec = TEAMS.get(team)
    if spec is None:
        raise ValidationError({"team": f"No starter team {team!r} (choose from {sorted(TEAMS)})."})
    if chain is not None and not ModelChain.objects.filter(pk=chain.pk).exists():
        raise ValidationError({"model_chain": "No such model chain."})
    with tenant_scope(tenant), transaction.atomic():
        if mission is not None:
            _mission_set(tenant, mission, actor_user)
        found = {
            a.template: a
            for a in Agent.objects.filter(template__in=[t.key for t in spec.agents]).order_by("id")
        }
        fresh = not found
        agents: dict[str, Agent] = {}
        # Templates are ordered so that a boss comes before its reports.
        for template in spec.agents:
            if template.key in found:
                agents[template.key] = found[template.key]
                continue
            agents[template.key] = agent_create(
                tenant=tenant,
                actor_user=actor_user,
                reports_to=agents[template.reports_to] if template.reports_to else None,
                model_chain=chain,
                **template.values(),
            )
        if fresh:
            _work_seed(spec, tenant, agents, actor_user)
    return [agents[t.key] for t in spec.agents]
