"""Staff edits in the control-plane admin go through the services: validated (a bad edit
answers 400 with the message and writes nothing) and audited (before/after)."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from agents.models import Agent, AgentApiKey, Goal, Task
from tenants.models import AuditEvent
from tests.integration.control_admin.conftest import A, text

pytestmark = pytest.mark.django_db


def _agent_post(agent: Agent, **overrides) -> dict[str, str]:
    data = {
        "name": agent.name,
        "title": agent.title,
        "role": agent.role,
        "template": agent.template,
        "instructions": agent.instructions,
        "status": agent.status,
        "reports_to": str(agent.reports_to_id or ""),
        "model_chain": str(agent.model_chain_id or ""),
        "schedule_kind": agent.schedule_kind,
        "interval_s": str(agent.interval_s),
        "cron": agent.cron,
        "allowed_tools": json.dumps(agent.allowed_tools),
        "max_steps": str(agent.max_steps),
        "max_run_tokens": str(agent.max_run_tokens),
        "monthly_budget_cents": str(agent.monthly_budget_cents or ""),
    }
    data.update(overrides)
    return data


def _events(tenant, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.unscoped().filter(tenant=tenant, **filters).order_by("id"))


def _snapshot(agent: Agent) -> dict:
    row = Agent.objects.unscoped().get(pk=agent.pk)
    return {f.attname: getattr(row, f.attname) for f in Agent._meta.concrete_fields}


def test_an_agent_edit_is_audited_with_before_and_after(staff, cast, world):
    max_ = world.agent
    response = staff.post(
        f"{A}/agent/{max_.pk}/change/",
        _agent_post(max_, title="Newsletter writer", schedule_kind="cron", cron="30 7 * * 1-5"),
    )
    assert response.status_code == 302, text(response)[:3000]
    row = Agent.objects.unscoped().get(pk=max_.pk)
    assert (row.title, row.schedule_kind, row.cron) == ("Newsletter writer", "cron", "30 7 * * 1-5")
    assert row.next_heartbeat_at is not None and row.next_heartbeat_at > timezone.now()
    (event,) = _events(cast.tenant, verb="agent.updated", target_id=str(max_.pk))
    assert event.actor_user.email == "ops@orion.test"
    assert (event.before["schedule_kind"], event.after["schedule_kind"]) == ("interval", "cron")
    assert (event.before["cron"], event.after["cron"]) == ("", "30 7 * * 1-5")
    assert event.after["name"] == "Max"


def test_an_agent_added_in_the_admin_is_audited_in_its_tenant(staff, cast, world):
    data = _agent_post(world.agent, name="Nina", reports_to=str(world.boss.pk))
    response = staff.post(f"{A}/agent/add/", {**data, "tenant": str(cast.tenant.pk)})
    assert response.status_code == 302, text(response)[:3000]
    nina = Agent.objects.unscoped().get(name="Nina")
    assert (nina.tenant_id, nina.reports_to_id) == (cast.tenant.pk, world.boss.pk)
    assert nina.next_heartbeat_at is not None
    (event,) = _events(cast.tenant, verb="agent.created", target_id=str(nina.pk))
    assert event.after["reports_to"] == world.boss.pk and event.actor_user is not None


def test_status_in_the_form_goes_through_pause_and_resume(staff, cast, world):
    url = f"{A}/agent/{world.agent.pk}/change/"
    assert staff.post(url, _agent_post(world.agent, status="paused")).status_code == 302
    row = Agent.objects.unscoped().get(pk=world.agent.pk)
    assert (row.status, row.pause_reason) == ("paused", "manual")
    assert staff.post(url, _agent_post(row, status="active")).status_code == 302
    assert Agent.objects.unscoped().get(pk=world.agent.pk).status == "active"
    verbs = [e.verb for e in _events(cast.tenant, target_id=str(world.agent.pk))]
    assert verbs[-2:] == ["agent.paused", "agent.resumed"]


BAD_EDITS = {
    "reports_to cycle": (
        lambda w: {"reports_to": str(w.agent.pk)},
        "boss",
        "that is a cycle.",
    ),
    "unparsable cron": (
        lambda w: {"schedule_kind": "cron", "cron": "61 25 * * *"},
        "agent",
        "'61 25 * * *' does not parse",
    ),
    "cron with 3 fields": (
        lambda w: {"schedule_kind": "cron", "cron": "every day please"},
        "agent",
        "must have 5 fields",
    ),
    "reports_to another tenant's agent": (
        lambda w: {"reports_to": str(w.foreign.pk)},
        "agent",
        "Pick an agent of the same tenant.",
    ),
    "unknown tool": (
        lambda w: {"allowed_tools": '["rm_rf"]'},
        "agent",
        "Unknown tools: rm_rf.",
    ),
    "interval too short": (lambda w: {"interval_s": "5"}, "agent", "greater than or equal to 60"),
    "empty required interval": (lambda w: {"interval_s": ""}, "agent", "This field is required."),
    "terminated back to active": (None, "agent", "A terminated agent stays terminated"),
}


@pytest.mark.parametrize("case", BAD_EDITS)
def test_a_bad_agent_edit_answers_400_with_the_message_and_writes_nothing(staff, cast, world, case):
    change, who, message = BAD_EDITS[case]
    agent = getattr(world, who)
    if change is None:  # terminate first (through the form), then try to bring it back
        url = f"{A}/agent/{agent.pk}/change/"
        assert staff.post(url, _agent_post(agent, status="terminated")).status_code == 302
        agent = Agent.objects.unscoped().get(pk=agent.pk)
        change = lambda w: {"status": "active"}  # noqa: E731
    before, events = _snapshot(agent), AuditEvent.objects.unscoped().count()
    response = staff.post(f"{A}/agent/{agent.pk}/change/", _agent_post(agent, **change(world)))
    assert response.status_code == 400
    assert message in text(response)
    assert _snapshot(agent) == before
    assert AuditEvent.objects.unscoped().count() == events


def test_a_duplicate_name_is_refused_in_its_tenant_only(staff, cast, world):
    data = {**_agent_post(world.agent, name="cora", reports_to=""), "tenant": str(cast.tenant.pk)}
    response = staff.post(f"{A}/agent/add/", data)
    assert response.status_code == 400
    assert "already exists" in text(response)
    response = staff.post(f"{A}/agent/add/", {**data, "tenant": str(cast.other_tenant.pk)})
    assert response.status_code == 302
    assert Agent.objects.unscoped().filter(tenant=cast.other_tenant, name="cora").exists()


def test_reports_to_choices_are_the_agents_own_tenant(staff, world):
    response = staff.get(f"{A}/agent/{world.agent.pk}/change/")
    choices = {a.name for a in response.context["adminform"].form.fields["reports_to"].queryset}
    assert choices == {"Cora"}


# -- actions -------------------------------------------------------------------------------


def _act(staff, model: str, action: str, rows) -> None:
    data = {"action": action, "_selected_action": [str(r.pk) for r in rows]}
    response = staff.post(f"{A}/{model}/", data)
    assert response.status_code == 302, text(response)[:2000]


def test_pause_resume_and_run_now_actions_are_audited(staff, cast, world):
    agents = [world.agent, world.foreign]
    _act(staff, "agent", "pause", agents)
    rows = Agent.objects.unscoped().filter(pk__in=[a.pk for a in agents])
    assert {(a.status, a.pause_reason) for a in rows} == {("paused", "manual")}
    assert len(_events(cast.tenant, verb="agent.paused")) == 1
    assert len(_events(cast.other_tenant, verb="agent.paused")) == 1

    _act(staff, "agent", "run_now", agents)  # paused agents are not woken
    assert not _events(cast.tenant, verb="agent.woken")

    _act(staff, "agent", "resume", agents)
    assert {a.status for a in rows.all()} == {"active"}
    Agent.objects.unscoped().filter(pk__in=[a.pk for a in agents]).update(
        next_heartbeat_at=timezone.now() + timezone.timedelta(hours=1)
    )
    _act(staff, "agent", "run_now", agents)
    now = timezone.now()
    for agent in rows.all():
        assert agent.next_heartbeat_at <= now and agent.wake_trigger == "manual"
    (event,) = _events(cast.tenant, verb="agent.woken")
    assert event.actor_user.email == "ops@orion.test"


def test_revoking_an_agent_key_is_audited_once(staff, cast, world):
    _act(staff, "agentapikey", "revoke", [world.key])
    _act(staff, "agentapikey", "revoke", [world.key])
    assert AgentApiKey.objects.unscoped().get(pk=world.key.pk).revoked_at is not None
    assert len(_events(cast.tenant, verb="agent_key.revoked")) == 1


# -- goals and tasks ------------------------------------------------------------------------


def test_a_goal_edit_is_audited_and_a_cycle_refused(staff, cast, world):
    with_child = Goal.objects.unscoped().create(
        tenant=cast.tenant, title="Newsletter", parent=world.goal
    )
    url = f"{A}/goal/{world.goal.pk}/change/"
    data = {"title": "Sell more sourdough", "description": "", "status": "active"}
    assert staff.post(url, {**data, "owner": str(world.boss.pk)}).status_code == 302
    goal = Goal.objects.unscoped().get(pk=world.goal.pk)
    assert (goal.title, goal.owner_id) == ("Sell more sourdough", world.boss.pk)
    (event,) = _events(cast.tenant, verb="goal.updated")
    assert (event.before["title"], event.after["title"]) == ("Sell more bread", goal.title)

    response = staff.post(url, {**data, "parent": str(with_child.pk)})
    assert response.status_code == 400
    assert "A goal cannot sit under itself: that is a cycle." in text(response)
    assert Goal.objects.unscoped().get(pk=world.goal.pk).parent_id is None


def test_a_task_edit_is_audited_and_another_tenants_assignee_refused(staff, cast, world):
    url = f"{A}/task/{world.task.pk}/change/"
    data = {"title": "Write the newsletter", "status": "blocked", "priority": "3"}
    assert staff.post(url, {**data, "assignee": str(world.boss.pk)}).status_code == 302
    task = Task.objects.unscoped().get(pk=world.task.pk)
    assert (task.status, task.priority, task.assignee_id) == ("blocked", 3, world.boss.pk)
    (event,) = _events(cast.tenant, verb="task.updated")
    assert (event.before["assignee"], event.after["assignee"]) == (world.agent.pk, world.boss.pk)

    response = staff.post(url, {**data, "assignee": str(world.foreign.pk)})
    assert response.status_code == 400
    assert "That assignee is not in this company." in text(response)
    assert Task.objects.unscoped().get(pk=world.task.pk).assignee_id == world.boss.pk
    assert len(_events(cast.tenant, verb="task.updated")) == 1


def test_work_is_never_added_or_deleted_in_the_admin(staff, world):
    for model, row in (("goal", world.goal), ("task", world.task), ("agent", world.agent)):
        if model != "agent":
            assert staff.get(f"{A}/{model}/add/").status_code == 403
        assert staff.post(f"{A}/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
