"""The dispatcher and the sweep: due times, fairness between tenants, stuck runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import Agent, Comment, Run, RunStatus, SessionMessage, Task
from agents.services.agents import agent_create, agent_update
from agents.services.schedule import next_heartbeat_after
from agents.services.sweeps import runs_mark_stuck
from agents.services.work import comment_create, task_checkout, task_create
from tenants.models import Tenant
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


def test_cron_is_read_in_the_tenants_time_zone(team):
    agent = Agent(schedule_kind="cron", cron="30 7 * * *")
    after = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    due = next_heartbeat_after(agent=agent, timezone_name="Europe/Berlin", after=after)
    assert due == datetime(2026, 7, 2, 5, 30, tzinfo=UTC)  # 07:30 CEST


def test_interval_keeps_its_phase_after_a_late_dispatch():
    base = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    agent = Agent(schedule_kind="interval", interval_s=600, next_heartbeat_at=base)
    late = base + timedelta(minutes=25)
    assert next_heartbeat_after(agent=agent, timezone_name="UTC", after=late) == base + timedelta(
        minutes=30
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"schedule_kind": "cron", "cron": "61 * * * *"}, "cron"),
        ({"schedule_kind": "cron", "cron": "every morning"}, "cron"),
        ({"allowed_tools": ["launch_rockets"]}, "allowed_tools"),
        ({"interval_s": 5}, "interval_s"),
    ],
)
def test_bad_agent_input_is_a_field_error_and_writes_nothing(team, values, field):
    with tenant_scope(team.tenant):
        before = Agent.objects.get(pk=team.writer.pk)
        with pytest.raises(ValidationError) as err:
            agent_update(agent=team.writer, **values)
        assert field in err.value.message_dict
        after = Agent.objects.get(pk=team.writer.pk)
        assert (after.cron, after.interval_s, after.allowed_tools) == (
            before.cron,
            before.interval_s,
            before.allowed_tools,
        )


def test_reports_to_cycle_is_refused(team):
    with tenant_scope(team.tenant):
        with pytest.raises(ValidationError) as err:
            agent_update(agent=team.boss, reports_to=team.writer)
        assert err.value.message_dict["reports_to"] == [
            "Cora cannot report to Max: that is a cycle."
        ]
        assert Agent.objects.get(pk=team.boss.pk).reports_to_id is None


def test_task_for_another_tenants_agent_is_refused(team, cast):
    with tenant_scope(cast.other_tenant):
        stranger = agent_create(tenant=cast.other_tenant, name="Zed", role="admin")
    with tenant_scope(team.tenant):
        with pytest.raises(ValidationError) as err:
            task_create(title="Sneaky", assignee=stranger.pk)
        assert "assignee" in err.value.message_dict
        assert not Task.objects.exists()


def _team_with_work(tenant: Tenant, n: int) -> list[Agent]:
    agents = []
    with tenant_scope(tenant):
        for i in range(n):
            agent = agent_create(tenant=tenant, name=f"A{tenant.pk}x{i}", role="admin")
            task_create(title=f"Job {i}", assignee=agent)
            agents.append(agent)
    return agents


def test_fairness_cap_holds_with_two_tenants_of_ten_agents(cast, chain, llm, runner):
    a, b = cast.tenant, cast.other_tenant
    _team_with_work(a, 10)
    _team_with_work(b, 10)
    llm.script_chat([], default=llm.ok("Done."))
    seen: set[int] = set()
    for _ in range(12):
        runner.dispatch()
        for tenant in (a, b):
            live = Run.objects.unscoped().filter(tenant=tenant, status__in=["queued", "running"])
            assert live.count() <= 2
        # Finish only one run per tick, so live runs pile up if the cap leaks.
        if runner.enqueued:
            runner.enqueued = runner.enqueued[1:] + runner.enqueued[:1]
            run = runner.enqueued.pop(0)
            with tenant_scope(run.tenant_id):
                from agents.services.heartbeat import heartbeat_execute

                heartbeat_execute(run_id=run.pk, owner="w")
            seen.add(run.tenant_id)
    assert seen == {a.pk, b.pk}  # neither tenant starved the other
    runner.run_all()
    for _ in range(30):
        if not runner.tick():
            break
    assert Run.objects.unscoped().filter(status="succeeded").count() == 20


def test_a_run_without_progress_is_stuck_released_and_reported(team, settings):
    with tenant_scope(team.tenant):
        task = task_create(title="Reconcile invoices", assignee=team.writer)
        run = Run.objects.create(agent=team.writer, status=RunStatus.RUNNING, task=task)
        task_checkout(task=task, run=run)
        comment_create(task=task, body="@Max also the December ones")
        SessionMessage.objects.filter(session__agent=team.writer).update(
            status="done", run=run, step=1
        )
        Run.objects.filter(pk=run.pk).update(
            last_progress_at=timezone.now() - timedelta(minutes=31),
            lease_until=timezone.now() + timedelta(minutes=1),
        )
        fresh = Run.objects.create(
            agent=team.boss, status=RunStatus.RUNNING, last_progress_at=timezone.now()
        )
    assert runs_mark_stuck() == [run.pk]
    assert runs_mark_stuck() == []  # a second sweep finds nothing new
    with tenant_scope(team.tenant):
        run.refresh_from_db()
        assert run.status == RunStatus.STUCK and "no progress since" in run.reason
        assert Task.objects.get(pk=task.pk).checkout_run_id is None
        assert (
            SessionMessage.objects.filter(status="pending", session__agent=team.writer).count() == 1
        )
        note = Comment.objects.filter(task=task).order_by("-id").first()
        assert note.body.startswith("@Cora Run") and note.author_agent_id is None
        assert Agent.objects.get(pk=team.boss.pk).wake_trigger == "mention"
        assert Run.objects.get(pk=fresh.pk).status == RunStatus.RUNNING


def test_only_worker_runs_with_an_expired_lease_are_resumed_by_the_sweep(team):
    from agents.services.api_work import API_LEASE_OWNER
    from agents.services.sweeps import runs_with_dead_worker

    expired = timezone.now() - timedelta(seconds=1)
    with tenant_scope(team.tenant):
        worker_run = Run.objects.create(
            agent=team.writer, status=RunStatus.RUNNING, lease_owner="w1", lease_until=expired
        )
        Run.objects.create(
            agent=team.boss,
            status=RunStatus.RUNNING,
            lease_owner=API_LEASE_OWNER,
            lease_until=expired,
        )
    assert [r.pk for r in runs_with_dead_worker()] == [worker_run.pk]


def test_a_queued_run_whose_message_was_lost_is_enqueued_again(team):
    from agents.services.sweeps import REQUEUE_AFTER_S, runs_with_dead_worker

    with tenant_scope(team.tenant):
        lost = Run.objects.create(agent=team.writer)
        fresh = Run.objects.create(agent=team.boss)
        Run.objects.filter(pk=lost.pk).update(
            created_at=timezone.now() - timedelta(seconds=REQUEUE_AFTER_S + 1)
        )
    assert [r.pk for r in runs_with_dead_worker()] == [lost.pk]
    assert fresh.status == RunStatus.QUEUED
