"""The live dashboard: what needs the customer on top (stuck run, model failure, paused
agent, approval waiting) with links, what happened since the last visit, and the next
step when there is nothing yet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Run
from agents.services.agents import agent_pause
from agents.services.work import task_update
from tenants.scope import tenant_scope
from tests.integration.team_portal.conftest import ROLES

pytestmark = pytest.mark.django_db


def _run(tenant, agent, status: str, **values) -> Run:
    return Run.objects.unscoped().create(
        tenant=tenant, agent=agent, status=status, ended_at=timezone.now(), **values
    )


@pytest.mark.parametrize("role", ROLES)
def test_what_needs_the_customer_is_on_top_with_links(client_as, team, cast, role):
    cora, iris = team.coordinator, team.task.assignee
    stuck = _run(cast.tenant, cora, "stuck", reason="no progress for 30 minutes")
    failed = _run(cast.tenant, iris, "failed_all_models")
    with tenant_scope(cast.tenant):
        agent_pause(agent=team.agent("Maya"))
        task_update(task=team.task, status="in_review")
    body = client_as(role).get("/").content.decode()
    top = body.index("Needs you")
    assert top < body.index("Getting set up")
    assert f'/runs/{stuck.pk}/"' in body and "no progress for 30 minutes" in body
    assert f'/runs/{failed.pk}/"' in body and "could not reach any model" in body
    assert "<strong>Maya</strong> is paused" in body
    assert f'/tasks/{team.task.pk}/"' in body and "Approval waiting" in body


def test_nothing_needs_the_customer_no_section(client_as, team):
    assert "Needs you" not in client_as("owner").get("/").content.decode()


def test_the_other_companys_trouble_is_not_shown(client_as, team, cast):
    _run(cast.other_tenant, team.other_agent, "stuck", reason="globex trouble")
    assert "globex trouble" not in client_as("owner").get("/").content.decode()


def test_since_the_last_visit(client_as, team, cast):
    client = client_as("member")
    first = client.get("/").content.decode()
    assert "Since your last visit" in first and "1 succeeded" in first  # the fixture's run
    second = client.get("/").content.decode()
    assert "Quiet since then" in second
    _run(cast.tenant, team.coordinator, "succeeded")
    with tenant_scope(cast.tenant):
        task_update(task=team.task, status="done")
    third = client.get("/").content.decode()
    assert "1 succeeded" in third and "1 task done" in third and "Answer Mrs Smith" in third


def test_runs_before_the_last_visit_are_not_counted_again(client_as, team, cast):
    old = _run(cast.tenant, team.coordinator, "failed")
    Run.objects.unscoped().filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    body = client_as("viewer").get("/").content.decode()
    assert "1 failed" not in body


def test_empty_dashboard_points_to_the_starter_team(client_as, cast):
    body = client_as("owner").get("/").content.decode()
    assert "Pick a starter team" in body and 'href="/agents/"' in body
    assert "Needs you" not in body and "Since your last visit" not in body
