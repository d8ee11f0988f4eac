"""starter_team_create: the templates become a tenant's agents (org chart, schedules in the
tenant's time zone, tools, chain), with a mission, a goal tree and first tasks; idempotent;
bad input writes nothing."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import Agent, ChainCandidate, Goal, ModelChain, Provider, Task, TaskStatus
from agents.services.agents import agent_create
from agents.services.starter import starter_team_create
from agents.starter_teams import COORDINATOR_TOOLS, SMALL_BUSINESS, WORKER_TOOLS
from agents.tools import tool_names
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

MISSION = "Bake the best sourdough in Leiden and know every regular by name."


@pytest.fixture
def tenant(cast):
    cast.tenant.timezone = "Europe/Amsterdam"
    cast.tenant.save()
    return cast.tenant


@pytest.fixture
def chain(db) -> ModelChain:
    provider = Provider.objects.create(
        name="fakeai", kind="openai", base_url="http://127.0.0.1:9/v1"
    )
    chain = ModelChain.objects.create(name="cheap")
    ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="m")
    return chain


def _by_template(agents):
    return {a.template: a for a in agents}


@pytest.mark.django_db
def test_the_team_its_org_chart_schedules_tools_and_chain(tenant, chain, cast):
    agents = starter_team_create(tenant=tenant, chain=chain, actor_user=cast.owner, mission=MISSION)
    team = _by_template(agents)
    assert list(team) == ["coordinator", "admin", "website", "marketing", "reporting"]
    boss = team["coordinator"]
    assert (boss.name, boss.role, boss.reports_to_id) == ("Cora", "coordinator", None)
    assert {a.reports_to_id for a in agents if a is not boss} == {boss.pk}
    assert boss.allowed_tools == list(COORDINATOR_TOOLS)
    # Every worker has the control-plane tools plus its role's integrations tools, all
    # registered, and none that sends or publishes in the company's name on its own.
    for agent in agents:
        assert set(WORKER_TOOLS) <= set(agent.allowed_tools) <= tool_names()
        assert not {"gmail_send", "wordpress_update"} & set(agent.allowed_tools)
    assert {"gmail_draft", "calendar_freebusy"} <= set(team["admin"].allowed_tools)
    assert "wordpress_draft" in team["marketing"].allowed_tools
    assert "notify_owner" in team["reporting"].allowed_tools
    assert {a.model_chain_id for a in agents} == {chain.pk}
    assert all(a.instructions and a.title for a in agents)
    # The coordinator's morning is 07:30 in the tenant's time zone, not in UTC.
    assert (boss.schedule_kind, boss.cron) == ("cron", "30 7 * * *")
    local = boss.next_heartbeat_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert (local.hour, local.minute) == (7, 30)
    assert timezone.now() < boss.next_heartbeat_at <= timezone.now() + timedelta(days=1)
    inbox = team["admin"]
    assert (inbox.schedule_kind, inbox.interval_s) == ("interval", 1800)
    assert AuditEvent.objects.unscoped().filter(tenant=tenant, verb="agent.created").count() == 5


@pytest.mark.django_db
def test_mission_goal_tree_and_first_tasks_for_the_right_agents(tenant, cast):
    team = _by_template(starter_team_create(tenant=tenant, actor_user=cast.owner, mission=MISSION))
    tenant.refresh_from_db()
    assert tenant.mission == MISSION
    event = AuditEvent.objects.unscoped().get(tenant=tenant, verb="tenant.mission_changed")
    assert event.after == {"mission": MISSION} and event.actor_user == cast.owner
    with tenant_scope(tenant):
        root = Goal.objects.get(parent=None)
        assert root.title == MISSION and root.owner == team["coordinator"]
        subgoals = {g.title: g for g in Goal.objects.filter(parent=root)}
        assert len(subgoals) == 2
        tasks = {t.title: t for t in Task.objects.all()}
        assert len(tasks) == len(SMALL_BUSINESS.tasks) == 5
        for spec in SMALL_BUSINESS.tasks:
            task = tasks[spec.title]
            assert task.assignee == team[spec.assignee]
            assert task.status == TaskStatus.TODO
            assert task.created_by_user == cast.owner
            assert (task.goal == root) == (spec.goal == "mission")
        post = tasks["Draft this week's social post"]
        assert post.parent == tasks["Plan the team's first week"]
        assert post.goal.parent == root
        # Every agent has work for its first heartbeat.
        assert set(Task.objects.values_list("assignee", flat=True)) == {a.pk for a in team.values()}


@pytest.mark.django_db
def test_a_second_call_duplicates_nothing(tenant, cast):
    first = starter_team_create(tenant=tenant, mission=MISSION)
    again = starter_team_create(tenant=tenant, mission=MISSION)
    assert [a.pk for a in again] == [a.pk for a in first]
    with tenant_scope(tenant):
        assert (Agent.objects.count(), Goal.objects.count(), Task.objects.count()) == (5, 3, 5)
    assert (
        AuditEvent.objects.unscoped().filter(tenant=tenant, verb="tenant.mission_changed").count()
        == 1
    )


@pytest.mark.django_db
def test_a_missing_member_is_added_back_without_new_work(tenant):
    first = _by_template(starter_team_create(tenant=tenant))
    with tenant_scope(tenant):
        Agent.objects.filter(pk=first["reporting"].pk).delete()
        again = _by_template(starter_team_create(tenant=tenant))
        assert again["reporting"].pk != first["reporting"].pk
        assert again["reporting"].reports_to == first["coordinator"]
        assert Agent.objects.count() == 5
        assert Task.objects.count() == 5  # the work was seeded once
        # No mission given: the root goal says what the team is for in general terms.
        assert Goal.objects.get(parent=None).title == SMALL_BUSINESS.default_mission_goal


@pytest.mark.django_db
def test_each_tenant_gets_its_own_team(tenant, cast):
    starter_team_create(tenant=tenant)
    starter_team_create(tenant=cast.other_tenant)
    for each in (tenant, cast.other_tenant):
        with tenant_scope(each):
            assert Agent.objects.count() == 5
            assert Task.objects.count() == 5
            assert {t.assignee.tenant_id for t in Task.objects.select_related("assignee")} == {
                each.pk
            }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"team": "enterprise"}, "team"),
        ({"mission": "   "}, "mission"),
        ({"mission": "x" * 2001}, "mission"),
        ({"chain": ModelChain(pk=999_999, name="gone")}, "model_chain"),
    ],
)
def test_bad_input_writes_nothing(tenant, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        starter_team_create(tenant=tenant, **kwargs)
    assert field in caught.value.message_dict
    with tenant_scope(tenant):
        assert not Agent.objects.exists() and not Goal.objects.exists()
    tenant.refresh_from_db()
    assert tenant.mission == ""


@pytest.mark.django_db
def test_a_name_taken_by_someone_else_rolls_everything_back(tenant):
    with tenant_scope(tenant):
        mine = agent_create(tenant=tenant, name="Remy", role="reporting")
    with pytest.raises(ValidationError) as caught:
        starter_team_create(tenant=tenant, mission=MISSION)
    assert "name" in caught.value.message_dict
    with tenant_scope(tenant):
        assert list(Agent.objects.all()) == [mine]
        assert not Goal.objects.exists() and not Task.objects.exists()
    tenant.refresh_from_db()
    assert tenant.mission == ""


@pytest.mark.django_db(transaction=True)
def test_the_first_tasks_wake_their_agents_on_commit(tenant):
    """Committed for real: the assignments bring every first heartbeat forward to now."""
    before = timezone.now()
    agents = starter_team_create(tenant=tenant)
    with tenant_scope(tenant):
        due = dict(Agent.objects.values_list("pk", "next_heartbeat_at"))
        assert all(before <= due[a.pk] <= timezone.now() for a in agents)
        assert set(Agent.objects.values_list("wake_trigger", flat=True)) == {"assignment"}
