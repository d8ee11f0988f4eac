"""The control-plane API's fixtures: the fixed cast (tests/conftest.py), a small world in
each of the two companies, and clients for people and for agent keys.

The rows are written through the services inside a tenant scope that is closed again
before the test runs, so every API call finds its scope only through the API itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from agents.models import Agent, Goal, Task
from agents.services.agents import agent_create
from agents.services.api_keys import api_key_create
from agents.services.work import goal_create, task_create
from tenants.scope import tenant_scope

ROLES = ["owner", "admin", "member", "viewer"]
EVERYONE = [*ROLES, "outsider"]


@dataclass
class World:
    boss: Agent
    writer: Agent
    mission_goal: Goal
    goal: Goal
    task: Task
    other_agent: Agent  # of the other company
    other_goal: Goal
    other_task: Task


@pytest.fixture
def world(cast) -> World:
    tenant, other = cast.tenant, cast.other_tenant
    tenant.mission = "Fix every leak in Leiden within a day"
    tenant.save()
    with tenant_scope(tenant):
        boss = agent_create(tenant=tenant, name="Cora", role="coordinator", interval_s=3600)
        writer = agent_create(
            tenant=tenant, name="Max", role="marketing", reports_to=boss, interval_s=3600
        )
        mission_goal = goal_create(title="Be the most trusted plumber in town")
        goal = goal_create(title="Get 20 new reviews", parent=mission_goal, owner=writer)
        task = task_create(
            title="Ask last week's customers for a review", assignee=writer, goal=goal
        )
    with tenant_scope(other):
        other_agent = agent_create(tenant=other, name="Otto", role="admin", interval_s=3600)
        other_goal = goal_create(title="Sell more bread")
        other_task = task_create(title="Bake", assignee=other_agent, goal=other_goal)
    return World(boss, writer, mission_goal, goal, task, other_agent, other_goal, other_task)


def key_client(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def agent_key(world) -> Callable[..., tuple[APIClient, object]]:
    """`agent_key(agent)` issues a key for the agent and returns (client, issued key)."""

    def make(agent: Agent | None = None, label: str = "runtime"):
        agent = agent or world.writer
        with tenant_scope(agent.tenant_id):
            issued = api_key_create(agent=agent, label=label)
        return key_client(issued.plaintext), issued

    return make
