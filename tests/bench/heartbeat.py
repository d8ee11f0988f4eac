"""Heartbeats and the dispatcher.

Heartbeats: M agents with two tasks each, the fake model server answering at once (half
report at once, half call a tool first), one worker (this process) running them back to
back through `heartbeat_execute`, exactly as the Celery task does; a warm-up round works
the first tasks, the second round is measured (agents already at work this month). Reported:
heartbeats per second, orchestration time per heartbeat (wall time minus the time the
model calls spent on the wire, read from the FailoverAttempt rows), SQL statements per
heartbeat on every connection (the ledger's own one and savepoints included): the worst
case, and apart for a heartbeat that reports at once and one that uses a tool first; the
same with a backlog of 2,000 other tasks (it must not grow), and the worker's peak RSS.

Dispatcher: 10,000 agents over 1,000 tenants, due times spread over 60 s; the tick runs
every second (as its PeriodicTask does) and finished runs are closed between ticks, as
workers would. Reported: p95 lag from due time to enqueue, statements per tick (max).

Peer: django-celery-beat's DatabaseScheduler holding one PeriodicTask per agent, the
design the issue rules out, at its documented best (its own schedule cache; measured is
the work a beat tick does once the cache is warm, and the full reload after any change),
against our tick over the same 10,000 agents in the same run.
"""

from __future__ import annotations

import resource
import time
from datetime import timedelta

M_AGENTS = 200
SMALL_BACKLOG, LARGE_BACKLOG = 5, 2000
N_DISPATCH_AGENTS, N_TENANTS = 10_000, 1_000
SPREAD_S = 60


class StatementCounter:
    """Counts SQL statements on the given connections (execute wrappers)."""

    def __init__(self, *conns) -> None:
        self.conns = conns
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._cms = [c.execute_wrapper(self) for c in self.conns]
        for cm in self._cms:
            cm.__enter__()
        return self

    def __exit__(self, *exc):
        for cm in reversed(self._cms):
            cm.__exit__(*exc)


def _provider_chain(url: str):
    from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider

    provider = Provider.objects.create(name="bench", kind="openai", base_url=url)
    AuthProfile.objects.create(provider=provider, label="k1", secret="bench-key-1111")
    chain = ModelChain.objects.create(name="bench", is_default=True)
    ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
    return chain


def _heartbeats(llm) -> dict:
    from django.db import connections
    from django.utils import timezone

    from agents.models import Agent, FailoverAttempt, Run, Task
    from agents.services.agents import agent_create
    from agents.services.dispatch import dispatch_due
    from agents.services.heartbeat import heartbeat_execute
    from agents.services.work import task_create
    from orion.core.rows import INDEPENDENT_ALIAS
    from tenants.models import Tenant
    from tenants.scope import tenant_scope
    from tests.bench.harness import p50, pct

    tenants = [
        Tenant.objects.create(name=f"T{i}", slug=f"t{i}", heartbeat_concurrency=M_AGENTS)
        for i in range(M_AGENTS // 10)
    ]
    agents = []
    for i in range(M_AGENTS):
        tenant = tenants[i % len(tenants)]
        with tenant_scope(tenant):
            agent = agent_create(tenant=tenant, name=f"Agent{i}", role="admin")
            # Half report at once (one model call); half use a tool first (two calls).
            kind = " [tool]" if i % 2 else ""
            task_create(title=f"First task for {i}{kind}", assignee=agent, priority=2)
            task_create(title=f"Task for {i}{kind}", assignee=agent)
            agents.append(agent)
    llm.script_chat([], default=lambda req: _answer(llm, req))

    def beat(run: Run) -> None:
        with tenant_scope(run.tenant_id):
            heartbeat_execute(run_id=run.pk, owner="bench-worker")

    def due_runs() -> list[Run]:
        Agent.objects.unscoped().update(next_heartbeat_at=timezone.now() - timedelta(seconds=1))
        runs: list[Run] = []
        dispatch_due(enqueue=runs.append)
        return runs

    # Warm-up round: every agent's first heartbeat of the month opens its budget period;
    # measured are the heartbeats of agents already at work (and connections warm).
    for run in due_runs():
        beat(run)
    runs = due_runs()
    conns = (
        [connections["default"], connections[INDEPENDENT_ALIAS]]
        if connections["default"].vendor == "postgresql"
        else [connections["default"]]
    )
    walls, statements = [], {True: [], False: []}
    with_tool = {
        r.pk: "[tool]" in r.title
        for r in Task.objects.unscoped().filter(assignee__in=agents).only("title", "assignee")
    }
    tool_of = {run.pk: with_tool[_task_of(run)] for run in runs}
    started = time.perf_counter()
    for run in runs:
        with StatementCounter(*conns) as counter:
            t0 = time.perf_counter()
            beat(run)
            walls.append((time.perf_counter() - t0) * 1000)
        statements[tool_of[run.pk]].append(counter.count)
    elapsed = time.perf_counter() - started
    wire = {run_id: ms for run_id, ms in _wire_ms(FailoverAttempt, [r.pk for r in runs]).items()}
    orchestration = [w - wire.get(r.pk, 0.0) for w, r in zip(walls, runs, strict=True)]
    ok = Run.objects.unscoped().filter(pk__in=[r.pk for r in runs], status="succeeded").count()
    assert ok == len(runs), f"only {ok} of {len(runs)} heartbeats succeeded"

    # The same heartbeat with a large backlog of other tasks in the tenant.
    big = tenants[0]
    with tenant_scope(big):
        Task.objects.bulk_create(
            [Task(tenant=big, title=f"backlog {i}", status="backlog") for i in range(LARGE_BACKLOG)]
        )
        agent = Agent.objects.filter(tenant=big).first()
        task_create(title="One more", assignee=agent)
    Agent.objects.unscoped().filter(pk=agent.pk).update(next_heartbeat_at=timezone.now())
    more: list[Run] = []
    dispatch_due(enqueue=more.append)
    with StatementCounter(*conns) as counter:
        beat(more[0])
    return {
        "heartbeats": len(runs),
        "per_s": len(runs) / elapsed,
        "p50_ms": p50(orchestration),
        "p95_ms": pct(orchestration, 95),
        "wall_p50_ms": p50(walls),
        "queries": max(statements[False] + statements[True]),  # every connection, worst case
        "queries_report_only": max(statements[False]),  # one model call, no tool
        "queries_with_tool": max(statements[True]),  # two model calls and a tool call
        "queries_backlog_2000": counter.count,
    }


def _answer(llm, request):
    messages = request.json()["messages"]
    if "[tool]" not in messages[1]["content"] or messages[-1]["role"] == "tool":
        return llm.ok("Done and reported.", usage=(120, 8, 0))
    return llm.ok(tool_calls=[("update_task", {"status": "done"})], usage=(100, 12, 0))


def _task_of(run) -> int:
    from agents.models import Task

    return Task.objects.unscoped().filter(assignee_id=run.agent_id).values_list("pk", flat=True)[0]


def _wire_ms(FailoverAttempt, run_ids: list[int]) -> dict[int, float]:
    from django.db.models import Sum

    rows = (
        FailoverAttempt.objects.unscoped()
        .filter(call__run_id__in=run_ids)
        .values("call__run_id")
        .annotate(ms=Sum("duration_ms"))
    )
    return {row["call__run_id"]: row["ms"] or 0.0 for row in rows}


def _dispatcher() -> dict:
    from django.db import connections
    from django.utils import timezone

    from agents.models import Agent, Run
    from agents.services.dispatch import dispatch_due
    from tenants.models import Tenant
    from tests.bench.harness import pct

    Agent.objects.unscoped().update(next_heartbeat_at=None)  # the heartbeat part's agents
    tenants = Tenant.objects.bulk_create(
        [Tenant(name=f"D{i}", slug=f"d{i}") for i in range(N_TENANTS)]
    )
    start = timezone.now() + timedelta(seconds=2)
    per = N_DISPATCH_AGENTS // N_TENANTS
    created = Agent.objects.unscoped().bulk_create(
        [
            Agent(
                tenant=tenants[i % N_TENANTS],
                name=f"D{i}",
                role="admin",
                interval_s=3600,
                next_heartbeat_at=start + timedelta(seconds=SPREAD_S * i / N_DISPATCH_AGENTS),
            )
            for i in range(N_TENANTS * per)
        ],
        batch_size=2000,
    )
    _analyze()
    lags: list[float] = []
    due_of = {agent.pk: agent.next_heartbeat_at.timestamp() for agent in created}

    def enqueue(run: Run) -> None:
        lags.append(time.time() - due_of[run.agent_id])

    tick_statements, tick_ms = [], []
    end = time.time() + SPREAD_S + 4
    next_tick = time.time()
    while time.time() < end and len(lags) < N_DISPATCH_AGENTS:
        time.sleep(max(next_tick - time.time(), 0))
        next_tick += 1.0
        with StatementCounter(connections["default"]) as counter:
            t0 = time.perf_counter()
            dispatch_due(enqueue=enqueue)
            tick_ms.append((time.perf_counter() - t0) * 1000)
        tick_statements.append(counter.count)
        Run.objects.unscoped().filter(status="queued").update(status="succeeded")  # workers
    return {
        "dispatched": len(lags),
        "lag_p50_ms": pct(lags, 50) * 1000,
        "lag_p95_ms": pct(lags, 95) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "tick_p95_ms": pct(tick_ms, 95),
        "tick_queries": max(tick_statements),
    }


def _analyze() -> None:
    """Fresh planner statistics after the bulk load, as a live table has them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _beat_peer() -> dict:
    """django-celery-beat with one PeriodicTask per agent (10,000 rows)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
    from django_celery_beat.schedulers import DatabaseScheduler

    from orion.celery import app
    from tests.bench.harness import p50

    # Only the agents' entries: Orion's own beat tasks would be due and sent on the first
    # tick (this throwaway database is the benchmark's alone).
    PeriodicTask.objects.update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=3600, period="seconds")
    PeriodicTask.objects.bulk_create(
        [
            PeriodicTask(name=f"agent {i}", task="agents.tasks.dispatch_tick", interval=every)
            for i in range(N_DISPATCH_AGENTS)
        ],
        batch_size=2000,
    )
    PeriodicTasks.update_changed()
    scheduler = DatabaseScheduler(app=app, lazy=True)
    reload_ms, tick_ms = [], []
    for _ in range(3):
        PeriodicTasks.update_changed()  # any edit anywhere forces a full reload
        t0 = time.perf_counter()
        scheduler._schedule = None
        scheduler.schedule  # noqa: B018  (the property reloads every row)
        reload_ms.append((time.perf_counter() - t0) * 1000)
    scheduler.tick()  # the first tick builds beat's heap of the 10,000 entries
    for _ in range(5):
        # Beat's own tick, as its service loop calls it: a change check against
        # PeriodicTasks, then only the heap's head (every entry is an hour away).
        t0 = time.perf_counter()
        scheduler.tick()
        tick_ms.append((time.perf_counter() - t0) * 1000)
    scheduler.close()  # beat's own sync of what it sent (nothing: no entry was due)
    PeriodicTask.objects.filter(name__startswith="agent ").delete()
    return {"beat_reload_ms": p50(reload_ms), "beat_tick_ms": p50(tick_ms)}


def run() -> dict:
    from tests.bench.harness import django_test_db

    with django_test_db():
        from django.db import connection

        from orion.core.fakes import FakeOpenAI
        from orion.core.rows import independent_close

        with FakeOpenAI() as llm:
            _provider_chain(llm.base_url)
            beats = _heartbeats(llm)
        dispatch = _dispatcher()
        peer = _beat_peer()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        independent_close()
        return {
            "db": connection.vendor,
            **beats,
            "rss_mb": rss_mb,
            **dispatch,
            **peer,
        }
