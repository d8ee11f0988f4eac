"""Checkout and run leases under real concurrency: separate processes, real PostgreSQL."""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, Comment, Run, RunStatus, Task, ToolCallRecord
from agents.services.agents import agent_create
from agents.services.heartbeat import heartbeat_execute
from agents.services.work import task_create
from tenants.scope import tenant_scope

from .processes import require_postgresql, spawn

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_processes_check_out_one_task_exactly_one_wins(team):
    require_postgresql()
    with tenant_scope(team.tenant):
        task = task_create(title="Call the flour supplier", assignee=team.writer)
        runs = []
        for n in range(20):
            agent = agent_create(tenant=team.tenant, name=f"Helper{n}", role="admin")
            runs.append(
                Run.objects.create(
                    agent=agent,
                    status=RunStatus.RUNNING,
                    lease_until=timezone.now() + timedelta(minutes=5),
                )
            )
    start_at = time.time() + 3.0  # every process is set up before anyone tries
    code = """
import json, sys, time
from agents.models import Run, Task
from agents.services.work import CheckoutConflict, task_checkout
from tenants.scope import tenant_scope
tenant_id, task_id, run_id, start_at = {args}
with tenant_scope(tenant_id):
    task, run = Task.objects.get(pk=task_id), Run.objects.get(pk=run_id)
    time.sleep(max(start_at - time.time(), 0))
    try:
        task_checkout(task=task, run=run)
        print(json.dumps({{"won": run_id}}))
    except CheckoutConflict as exc:
        print(json.dumps({{"lost": run_id, "holder": exc.holder_run_id}}))
"""
    procs = [spawn(code.format(args=(team.tenant.pk, task.pk, run.pk, start_at))) for run in runs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    winners = [r["won"] for r in results if "won" in r]
    assert len(winners) == 1
    assert {r["holder"] for r in results if "lost" in r} == {winners[0]}
    assert Task.objects.unscoped().get(pk=task.pk).checkout_run_id == winners[0]


def test_a_dead_runs_lease_is_reclaimed(team):
    with tenant_scope(team.tenant):
        task = task_create(title="Count the till", assignee=team.writer)
        dead = Run.objects.create(
            agent=team.writer, status=RunStatus.RUNNING, lease_until=timezone.now()
        )
        Task.objects.filter(pk=task.pk).update(checkout_run=dead)
        Run.objects.filter(pk=dead.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        other = Run.objects.create(
            agent=team.boss,
            status=RunStatus.RUNNING,
            lease_until=timezone.now() + timedelta(minutes=5),
        )
        from agents.services.work import task_checkout

        task_checkout(task=task, run=other)
        assert Task.objects.get(pk=task.pk).checkout_run_id == other.pk


def test_a_redelivered_heartbeat_resumes_its_run_after_a_worker_is_killed(team, llm):
    require_postgresql()
    with tenant_scope(team.tenant):
        task = task_create(title="Order the spring flour", assignee=team.writer)
        run = Run.objects.create(agent=team.writer, trigger="assignment")
    llm.script_chat(
        [
            llm.ok(tool_calls=[("comment", {"body": "Ordering now."})], usage=(50, 5, 0)),
            llm.slow(60, llm.ok("too late")),  # the worker dies while waiting for this
            llm.ok("Ordered 40 kg.", usage=(60, 6, 0)),
        ]
    )
    worker = spawn(
        "from agents.services.heartbeat import heartbeat_execute\n"
        "from tenants.scope import tenant_scope\n"
        f"with tenant_scope({team.tenant.pk}):\n"
        f"    heartbeat_execute(run_id={run.pk}, owner='doomed-worker')\n"
    )
    llm.wait_for(2, timeout=30)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    held = Run.objects.unscoped().get(pk=run.pk)
    assert held.status == RunStatus.RUNNING and held.lease_owner == "doomed-worker"
    with tenant_scope(team.tenant):
        # While the dead worker's lease runs, a redelivery is told to come back later.
        claim = heartbeat_execute(run_id=run.pk, owner="second-worker")
        assert claim.run is None and claim.retry_in is not None
        Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        claim = heartbeat_execute(run_id=run.pk, owner="second-worker")
    assert claim.run is not None and claim.resumed
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert len(llm.chat_requests) == 3  # step 1 was replayed from its stored answer
    with tenant_scope(team.tenant):
        assert ToolCallRecord.objects.filter(run=run).count() == 1
        bodies = list(Comment.objects.filter(task=task).values_list("body", flat=True))
        assert bodies == ["Ordering now.", "Ordered 40 kg."]  # the tool ran once
        assert Run.objects.filter(agent=team.writer).count() == 1


def test_a_run_whose_workers_keep_dying_still_becomes_stuck(team):
    from agents.services.heartbeat import run_claim
    from agents.services.sweeps import runs_mark_stuck

    long_ago = timezone.now() - timedelta(minutes=35)
    with tenant_scope(team.tenant):
        run = Run.objects.create(
            agent=team.writer,
            status=RunStatus.RUNNING,
            lease_owner="dead-1",
            lease_until=timezone.now() - timedelta(seconds=1),
            started_at=long_ago,
            last_progress_at=long_ago,
        )
        assert run_claim(run_id=run.pk, owner="dead-2").run is not None  # a takeover...
    assert runs_mark_stuck() == [run.pk]  # ...is not progress


def test_a_worker_that_lost_its_run_writes_nothing(team, llm):
    """The sweep (or another worker) took the run while this worker waited on the model:
    its report, task release and close are all dropped."""
    with tenant_scope(team.tenant):
        task = task_create(title="Price the cakes", assignee=team.writer)
        run = Run.objects.create(agent=team.writer, trigger="assignment")

    def meanwhile_taken_over(request):
        Run.objects.unscoped().filter(pk=run.pk).update(lease_owner="other-worker")
        return llm.ok("Priced.")

    llm.script_chat([meanwhile_taken_over])
    with tenant_scope(team.tenant):
        claim = heartbeat_execute(run_id=run.pk, owner="slow-worker")
        assert claim.run is not None
        held = Run.objects.get(pk=run.pk)
        assert (held.status, held.lease_owner) == (RunStatus.RUNNING, "other-worker")
        assert not Comment.objects.filter(task=task).exists()
        assert Task.objects.get(pk=task.pk).checkout_run_id == run.pk


def test_a_message_that_arrives_after_a_crash_gets_its_own_turn(team, llm):
    from agents.services.work import comment_create

    with tenant_scope(team.tenant):
        task = task_create(title="Order flour", assignee=team.writer)
        run = Run.objects.create(agent=team.writer, trigger="assignment")

    def answer_then_die(request):
        # The answer is stored; the worker "dies" before its report: we make the model
        # call succeed and the run lose its lease, as a killed worker leaves it.
        return llm.ok("Ordered 40 kg.")

    llm.script_chat([answer_then_die, llm.ok("Yeast ordered too.")])
    with tenant_scope(team.tenant):
        from agents.providers.base import ChatMessage, ChatRequest
        from agents.services.loop import step_call_key
        from agents.services.model_calls import model_call_run

        model_call_run(
            request=ChatRequest(messages=[ChatMessage(role="user", content="x")]),
            key=step_call_key(run, 1),
            agent=team.writer,
            run=run,
        )
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING,
            lease_owner="dead",
            lease_until=timezone.now() - timedelta(seconds=1),
            started_at=timezone.now(),
            last_progress_at=timezone.now(),
            task=task,
        )
        from agents.services.work import session_for, task_session_key

        Run.objects.filter(pk=run.pk).update(
            session=session_for(agent_id=team.writer.pk, key=task_session_key(task.pk))
        )
        Task.objects.filter(pk=task.pk).update(checkout_run=run)
        comment_create(task=task, body="@Max also order yeast")
        claim = heartbeat_execute(run_id=run.pk, owner="second")
        assert claim.resumed
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED and run.steps == 2
    assert len(llm.chat_requests) == 2  # step 1 replayed; the new message got a request
    assert "also order yeast" in json.dumps(llm.chat_requests[1].json()["messages"])


def test_a_mention_on_someone_elses_task_is_answered_without_taking_it(team, llm, runner):
    from agents.services.work import comment_create

    with tenant_scope(team.tenant):
        task = task_create(title="Write the newsletter", assignee=team.writer)
        Agent.objects.filter(pk=team.writer.pk).update(
            next_heartbeat_at=timezone.now() + timedelta(hours=1)
        )
        comment_create(task=task, body="@Cora what should the newsletter lead with?")
    llm.script_chat([llm.ok("Lead with the spring menu.")])
    runs = runner.tick()
    assert [(r.agent_id, r.status) for r in runs] == [(team.boss.pk, RunStatus.SUCCEEDED)]
    with tenant_scope(team.tenant):
        task.refresh_from_db()
        assert task.checkout_run_id is None and task.status == "todo"
        answer = Comment.objects.filter(task=task, author_agent=team.boss).get()
        assert answer.body == "Lead with the spring menu."
