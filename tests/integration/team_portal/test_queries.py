"""The dashboard, the board, the agent page and the run page read a fixed number of queries:
more tasks, runs, comments and model calls do not add any."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Run
from agents.services.agents import agent_pause
from agents.services.work import goal_create, task_create
from tenants.scope import tenant_scope
from tests.integration.team_portal.conftest import run_with_calls

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(cast, team, n: int) -> None:
    """n more of everything: tasks in every column, goals, runs, stuck runs, paused agents."""
    statuses = ["backlog", "todo", "in_progress", "blocked", "in_review", "done"]
    with tenant_scope(cast.tenant):
        for i in range(n):
            goal = goal_create(title=f"goal {i}")
            for status in statuses:
                task_create(
                    title=f"task {i} {status}",
                    status=status,
                    assignee=team.agents[i % len(team.agents)],
                    goal=goal,
                )
        for agent in team.agents[1:3]:
            agent_pause(agent=agent)
    for i in range(n):
        agent = team.agents[i % len(team.agents)]
        Run.objects.unscoped().create(tenant=cast.tenant, agent=agent, status="stuck")
        Run.objects.unscoped().create(tenant=cast.tenant, agent=agent, status="succeeded")


@pytest.mark.parametrize("url", ["/", "/tasks/", "/goals/", "/agents/", "agent", "task"])
def test_pages_read_constant_queries(client_as, cast, team, url):
    if url == "agent":
        url = f"/agents/{team.task.assignee_id}/"
    elif url == "task":
        url = f"/tasks/{team.task.pk}/"
    client = client_as("member")
    _queries(client, url)  # the first dashboard visit also stores the visit
    few = _queries(client, url)
    _grow(cast, team, 5)
    assert _queries(client, url) == few


def test_board_filters_read_constant_queries(client_as, cast, team):
    client = client_as("member")
    url = f"/tasks/?agent={team.coordinator.pk}"
    few = _queries(client, url)
    _grow(cast, team, 4)
    assert _queries(client, url) == few


def test_run_page_reads_constant_queries(client_as, cast, team):
    client = client_as("member")
    small = run_with_calls(cast.tenant, team.coordinator, calls=1)
    big = run_with_calls(cast.tenant, team.coordinator, calls=6)
    assert _queries(client, f"/runs/{small.pk}/") == _queries(client, f"/runs/{big.pk}/")


def test_board_caps_each_column(client_as, cast, team):
    from agents.portal.selectors import BOARD_COLUMN_LIMIT

    with tenant_scope(cast.tenant):
        for i in range(BOARD_COLUMN_LIMIT + 3):
            task_create(title=f"bulk {i}", status="backlog")
    body = client_as("viewer").get("/tasks/").content.decode()
    assert f"Showing {BOARD_COLUMN_LIMIT} of {BOARD_COLUMN_LIMIT + 3}." in body
