"""The morning briefing: the coordinator's first scheduled run of the day gets a briefing
task with the day gathered (tasks open and done, overnight runs and failures), works it
through the real heartbeat against a fake model server, and the dashboard shows its report."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from agents.models import Agent, Run, Task
from agents.services.briefing import BRIEFING_TITLE, briefing_title
from agents.services.starter import starter_team_create
from agents.services.work import task_update
from tenants.scope import tenant_scope
from tests.integration.control_plane.conftest import Runner

# Transactional: the heartbeat's ledger commits on its own connection, like in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def morning(cast, chain):
    cast.tenant.timezone = "Europe/Amsterdam"
    cast.tenant.save(update_fields=["timezone"])
    agents = starter_team_create(tenant=cast.tenant, chain=chain, mission="Fix every leak.")
    cora, iris = agents[0], agents[1]
    with tenant_scope(cast.tenant):
        task_update(task=Task.objects.filter(assignee=iris).first(), status="done")
    Run.objects.unscoped().create(
        tenant=cast.tenant, agent=iris, status="failed_all_models", reason="every key cooling"
    )
    # the starter tasks woke everyone on commit: only the coordinator is due now
    Agent.objects.unscoped().filter(tenant=cast.tenant).update(
        next_heartbeat_at=timezone.now() + timedelta(days=1), wake_trigger=""
    )
    Agent.objects.unscoped().filter(pk=cora.pk).update(
        next_heartbeat_at=timezone.now() - timedelta(seconds=1)
    )
    return cora


def _briefings(tenant) -> list[Task]:
    with tenant_scope(tenant):
        return list(Task.objects.filter(title__startswith=BRIEFING_TITLE))


def test_the_coordinators_scheduled_run_briefs_and_the_dashboard_shows_it(
    cast,
    morning,
    llm,
    client_as,
):
    runner = Runner()
    llm.script_chat(
        [
            llm.ok(tool_calls=[("update_task", {"status": "done"})]),
            llm.ok("Good morning: one task done, Iris could not reach a model."),
        ]
    )
    (run,) = runner.dispatch()
    assert run.agent_id == morning.pk and run.trigger == "schedule"
    assert _briefings(cast.tenant) == []  # gathered by the heartbeat, not in the tick
    (done,) = runner.run_all()
    (briefing,) = _briefings(cast.tenant)
    today = timezone.now().astimezone(ZoneInfo("Europe/Amsterdam"))
    assert briefing.title == briefing_title(today)
    assert briefing.assignee_id == morning.pk and briefing.created_by_agent_id == morning.pk
    assert "Finished since yesterday: 1" in briefing.body
    assert "Iris: Failed: every model failed — every key cooling" in briefing.body
    assert done.status == "succeeded" and done.task_id == briefing.pk
    sent = llm.chat_requests[0].json()["messages"]
    assert any("Finished since yesterday: 1" in str(m.get("content")) for m in sent)
    body = client_as("member").get("/").content.decode()
    assert "Cora&#x27;s report" in body or "Cora's report" in body
    assert "Good morning: one task done" in body


def test_one_briefing_a_day(cast, morning, llm):
    runner = Runner()
    runner.tick()
    Agent.objects.unscoped().filter(pk=morning.pk).update(
        next_heartbeat_at=timezone.now() - timedelta(seconds=1), wake_trigger=""
    )
    assert len(runner.tick()) == 1
    assert len(_briefings(cast.tenant)) == 1


def test_an_interval_schedule_is_not_a_briefing(cast, morning, llm):
    Agent.objects.unscoped().filter(pk=morning.pk).update(schedule_kind="interval")
    Runner().tick()
    assert _briefings(cast.tenant) == []


def test_run_now_is_not_a_briefing(cast, morning, llm):
    Agent.objects.unscoped().filter(pk=morning.pk).update(wake_trigger="manual")
    Runner().tick()
    assert _briefings(cast.tenant) == []


def test_other_agents_scheduled_runs_are_not_briefings(cast, morning, llm):
    Agent.objects.unscoped().filter(pk=morning.pk).update(next_heartbeat_at=None)
    Agent.objects.unscoped().filter(tenant=cast.tenant, template="admin").update(
        next_heartbeat_at=timezone.now() - timedelta(seconds=1)
    )
    Runner().tick()
    assert _briefings(cast.tenant) == []
