"""The heartbeat end to end against a fake model server: work, zero-token skips, wakes,
reports, failures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import (
    Agent,
    Comment,
    FailoverAttempt,
    Run,
    RunStatus,
    RunTrigger,
    SessionMessage,
    Task,
    TaskStatus,
    ToolCallRecord,
)
from agents.services.work import comment_create, goal_create, task_create
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


def _due_now(*agents: Agent) -> None:
    Agent.objects.unscoped().filter(pk__in=[a.pk for a in agents]).update(
        next_heartbeat_at=timezone.now() - timedelta(seconds=1)
    )


def test_no_work_heartbeat_makes_no_model_call(team, llm, runner):
    _due_now(team.boss, team.writer)
    runs = runner.tick()
    assert {r.status for r in runs} == {RunStatus.SKIPPED}
    assert {r.reason for r in runs} == {"no actionable work"}
    assert llm.chat_requests == []


def test_a_task_is_worked_reported_and_released(team, llm, runner):
    with tenant_scope(team.tenant):
        mission = goal_create(title="Be the favourite bakery of Leiden")
        goal = goal_create(title="Win the lunch crowd", parent=mission)
        task = task_create(title="Write the lunch menu post", assignee=team.writer, goal=goal)
    llm.script_chat(
        [
            llm.ok(tool_calls=[("update_task", {"status": "done"})], usage=(100, 20, 0)),
            llm.ok("Posted the lunch menu.", usage=(150, 10, 0)),
        ]
    )
    runs = runner.tick()  # the assignment woke Max
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    run = runs[0]
    assert run.trigger == RunTrigger.ASSIGNMENT
    assert run.task_id == task.pk
    assert (run.input_tokens, run.output_tokens, run.steps) == (250, 30, 2)
    assert run.answered_model == "glm-4.7" and run.fell_back is False
    with tenant_scope(team.tenant):
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE
        assert task.checkout_run_id is None
        report = Comment.objects.get(task=task)
        assert report.author_agent_id == team.writer.pk and report.run_id == run.pk
        assert report.body == "Posted the lunch menu."
        assert ToolCallRecord.objects.get(run=run).name == "update_task"
        lines = list(SessionMessage.objects.filter(run=run).values_list("role", flat=True))
        assert lines == ["assistant", "tool", "assistant"]
    first = llm.chat_requests[0].json()
    prompt = json.dumps(first["messages"])
    assert "Bake the best sourdough in Leiden" in prompt  # the mission
    assert "Be the favourite bakery of Leiden \\u2192 Win the lunch crowd" in prompt
    assert "Write the lunch menu post" in prompt
    assert {t["function"]["name"] for t in first["tools"]} >= {"update_task", "delegate"}


def test_own_comment_does_not_wake_but_a_mention_does(team, llm, runner):
    with tenant_scope(team.tenant):
        task = task_create(title="Plan the week", assignee=team.boss)
        Agent.objects.filter(pk=team.boss.pk).update(
            next_heartbeat_at=timezone.now() + timedelta(hours=1)
        )
        comment_create(task=task, body="@Cora I will do it myself", actor_agent=team.boss)
        assert Agent.objects.get(pk=team.boss.pk).next_heartbeat_at > timezone.now()
        assert not SessionMessage.objects.filter(session__agent=team.boss).exists()
        comment_create(task=task, body="@Max please draft the flyer", actor_agent=team.boss)
        max_ = Agent.objects.get(pk=team.writer.pk)
        assert max_.next_heartbeat_at <= timezone.now()
        assert max_.wake_trigger == RunTrigger.MENTION


def test_mention_mid_turn_is_handled_after_the_turn_in_order(team, llm, runner):
    with tenant_scope(team.tenant):
        task = task_create(title="Answer the caterer", assignee=team.writer)

    def during_first_call(request):
        with tenant_scope(team.tenant):
            comment_create(task=task, body="@Max also ask about Friday")
            comment_create(task=task, body="@Max and about Saturday")
        return llm.ok("Asked about the order.")

    llm.script_chat([during_first_call, llm.ok("Friday and Saturday asked too.")])
    runs = runner.tick()
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    second = llm.chat_requests[1].json()["messages"]
    last = second[-1]["content"]
    assert last.index("Friday") < last.index("Saturday")
    assert second[-2] == {"role": "assistant", "content": "Asked about the order."}
    with tenant_scope(team.tenant):
        assert not SessionMessage.objects.filter(status="pending").exists()


def test_failed_all_models_reschedules_at_the_soonest_expiry(team, llm, runner):
    with tenant_scope(team.tenant):
        task = task_create(title="Reply to the landlord", assignee=team.writer)
    llm.script_chat([], default=llm.unauthorized())
    runs = runner.tick()
    run = runs[0]
    assert run.status == RunStatus.FAILED_ALL_MODELS
    assert run.next_attempt_at is not None
    writer = Agent.objects.unscoped().get(pk=team.writer.pk)
    assert writer.next_heartbeat_at == run.next_attempt_at
    assert run.next_attempt_at > timezone.now() + timedelta(seconds=20)  # the 30 s cooldown
    with tenant_scope(team.tenant):
        assert Task.objects.get(pk=task.pk).checkout_run_id is None
        assert FailoverAttempt.objects.filter(call__run=run).count() >= 1
    assert "auth" in run.error_detail


def test_delegation_result_is_posted_on_the_parent(team, llm, runner):
    with tenant_scope(team.tenant):
        parent = task_create(title="Launch the spring menu", assignee=team.boss)
    llm.script_chat(
        [
            llm.ok(tool_calls=[("delegate", {"to": "Max", "title": "Write the launch post"})]),
            llm.ok("Delegated the post to Max."),
            # Max's heartbeat
            llm.ok(tool_calls=[("update_task", {"status": "done"})]),
            llm.ok("The launch post is live."),
        ]
    )
    runs = runner.tick()
    assert [r.agent_id for r in runs] == [team.boss.pk]
    runs = runner.tick()  # the delegation woke Max
    assert [(r.agent_id, r.status) for r in runs] == [(team.writer.pk, RunStatus.SUCCEEDED)]
    with tenant_scope(team.tenant):
        sub = Task.objects.get(parent=parent)
        assert sub.assignee_id == team.writer.pk and sub.status == TaskStatus.DONE
        posted = Comment.objects.filter(task=parent, author_agent=team.writer).get()
        assert "The launch post is live." in posted.body
        assert Agent.objects.get(pk=team.boss.pk).wake_trigger == RunTrigger.MENTION


def test_delegation_to_a_non_report_is_refused_to_the_model(team, llm, runner):
    with tenant_scope(team.tenant):
        task_create(title="Do the books", assignee=team.writer)
    llm.script_chat(
        [llm.ok(tool_calls=[("delegate", {"to": "Cora", "title": "x"})]), llm.ok("Could not.")]
    )
    runs = runner.tick()
    assert runs[0].status == RunStatus.SUCCEEDED
    with tenant_scope(team.tenant):
        record = ToolCallRecord.objects.get(run=runs[0])
        assert record.status == "failed" and "not one of your direct reports" in record.result
        assert Task.objects.count() == 1


def test_kill_switch_and_pause_skip_before_any_model_call(team, llm, runner):
    from agents.services.agents import agent_pause, tenant_heartbeats_set

    with tenant_scope(team.tenant):
        task_create(title="Anything", assignee=team.writer)
        task_create(title="Other", assignee=team.boss)
        agent_pause(agent=team.boss)
    tenant_heartbeats_set(tenant=team.tenant, paused=True)
    _due_now(team.writer)
    assert runner.tick() == []  # nothing dispatched while the switch is on
    tenant_heartbeats_set(tenant=team.tenant, paused=False)
    runs = runner.dispatch()
    assert [r.agent_id for r in runs] == [team.writer.pk]
    tenant_heartbeats_set(tenant=team.tenant, paused=True)
    done = runner.run_all()
    assert done[0].status == RunStatus.SKIPPED and "kill switch" in done[0].reason
    assert llm.chat_requests == []


def test_a_due_heartbeat_while_one_runs_is_coalesced(team, llm, runner):
    _due_now(team.writer)
    runs = runner.dispatch()
    assert len(runs) == 1
    _due_now(team.writer)
    assert runner.dispatch() == []
    _due_now(team.writer)
    runner.dispatch()
    assert Run.objects.unscoped().filter(agent=team.writer).count() == 1
    assert Run.objects.unscoped().get(agent=team.writer).coalesced == 2


def test_the_celery_task_runs_the_heartbeat_in_its_tenants_scope(team, llm):
    from agents.tasks import heartbeat_run

    with tenant_scope(team.tenant):
        task_create(title="Bake a test loaf", assignee=team.writer)
        run = Run.objects.create(agent=team.writer, trigger=RunTrigger.ASSIGNMENT)
    llm.script_chat([llm.ok("Baked.")])
    result = heartbeat_run.apply(kwargs={"tenant_id": team.tenant.pk, "run_id": run.pk})
    assert result.get() == RunStatus.SUCCEEDED
    again = heartbeat_run.apply(kwargs={"tenant_id": team.tenant.pk, "run_id": run.pk})
    assert again.get() == f"run {run.pk} is succeeded"  # a redelivery of a finished run
    assert len(llm.chat_requests) == 1


def test_a_task_can_route_to_another_chain(team, llm, runner):
    from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider
    from orion.core.fakes import FakeOpenAI

    with FakeOpenAI() as strong:
        provider = Provider.objects.create(name="strong", kind="openai", base_url=strong.base_url)
        AuthProfile.objects.create(provider=provider, label="s1", secret="key-strong-1")
        reasoning = ModelChain.objects.create(name="reasoning")
        ChainCandidate.objects.create(
            chain=reasoning, position=1, provider=provider, model="claude-sonnet"
        )
        with tenant_scope(team.tenant):
            task_create(title="Plan the quarter", assignee=team.boss, model_chain=reasoning)
        strong.script_chat([strong.ok("Plan written.")])
        runs = runner.tick()
        assert [r.answered_model for r in runs] == ["claude-sonnet"]
        assert llm.chat_requests == [] and len(strong.chat_requests) == 1


def test_nul_characters_from_the_model_do_not_fail_the_run(team, llm, runner):
    """PostgreSQL text and jsonb cannot hold NUL; a model that emits one is answered."""
    with tenant_scope(team.tenant):
        task_create(title="Write the lunch menu post", assignee=team.writer)
    llm.script_chat(
        [
            llm.ok(tool_calls=[("comment", {"body": "Draft\u0000 ready"})]),
            llm.ok("Done\u0000."),
        ]
    )
    runs = runner.tick()
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    with tenant_scope(team.tenant):
        record = ToolCallRecord.objects.get(run=runs[0])
        assert record.arguments == {"body": "Draft ready"}
        assert Comment.objects.filter(body="Draft ready").exists()
        assert SessionMessage.objects.filter(content="Done.").exists()
