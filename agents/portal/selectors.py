"""Reads for the customer's portal pages, in the request's tenant scope (the scoped managers
see only the tenant's rows, so another tenant's primary key reads as "not found").

Each page reads a fixed number of queries whatever the number of agents, tasks or runs:
lists are capped and related rows come with select_related / one prefetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from agents.models import (
    LIVE_RUN_STATUSES,
    OPEN_TASK_STATUSES,
    Agent,
    AgentStatus,
    Comment,
    FailoverAttempt,
    Goal,
    ModelCall,
    Run,
    RunStatus,
    SessionMessage,
    Task,
    TaskStatus,
    ToolCallRecord,
)
from agents.services.briefing import BRIEFING_TITLE

BOARD_COLUMN_LIMIT = 50
AGENT_RUNS_LIMIT = 20
ATTENTION_LIMIT = 10
STUCK_WINDOW = timedelta(days=7)


# -- agents ---------------------------------------------------------------------------------


@dataclass
class OrgNode:
    agent: Agent
    reports: list[OrgNode] = field(default_factory=list)


def agents_list() -> list[Agent]:
    return list(Agent.objects.select_related("reports_to", "model_chain").order_by("name"))


def org_chart(*, agents: list[Agent]) -> list[OrgNode]:
    """The reports_to forest, bosses first (the services refuse cycles)."""
    nodes = {a.pk: OrgNode(a) for a in agents}
    roots = []
    for agent in agents:
        boss = nodes.get(agent.reports_to_id) if agent.reports_to_id else None
        (boss.reports if boss else roots).append(nodes[agent.pk])
    return roots


def agent_get(*, pk: int) -> Agent | None:
    return Agent.objects.select_related("reports_to", "model_chain").filter(pk=pk).first()


def agent_runs_recent(*, agent_id: int, limit: int = AGENT_RUNS_LIMIT) -> list[Run]:
    return list(
        Run.objects.filter(agent_id=agent_id)
        .select_related("task")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Progress:
    """Where a "run now" stands: waiting for the dispatcher, running, or done."""

    state: str  # "waiting" | "running" | "done" | "not_active"
    run: Run | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "not_active")


def run_progress(*, agent: Agent, since: datetime) -> Progress:
    """The first run of `agent` opened at or after `since` (when the person asked)."""
    run = (
        Run.objects.filter(agent_id=agent.pk, created_at__gte=since - timedelta(seconds=1))
        .order_by("created_at", "id")
        .first()
    )
    if run is None:
        live = Run.objects.filter(agent_id=agent.pk, status__in=LIVE_RUN_STATUSES).first()
        if live is not None:  # the run already going when the person asked
            return Progress("running", live)
        if agent.status != AgentStatus.ACTIVE:
            return Progress("not_active")
        return Progress("waiting")
    return Progress("running" if run.is_live else "done", run)


# -- tasks ----------------------------------------------------------------------------------


BOARD_STATUSES = (
    TaskStatus.BACKLOG,
    TaskStatus.TODO,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BLOCKED,
    TaskStatus.IN_REVIEW,
    TaskStatus.DONE,
)


@dataclass(frozen=True)
class Column:
    status: str
    label: str
    tasks: list[Task]
    total: int


def task_board(
    *, agent_id: int | None = None, goal_id: int | None = None, limit: int = BOARD_COLUMN_LIMIT
) -> list[Column]:
    """One column per status, each capped at `limit` tasks (highest priority first), with
    the column totals from one aggregate: 2 queries whatever the number of tasks."""
    rows = Task.objects.all()
    if agent_id is not None:
        rows = rows.filter(assignee_id=agent_id)
    if goal_id is not None:
        rows = rows.filter(goal_id=goal_id)
    totals = {r["status"]: r["n"] for r in rows.order_by().values("status").annotate(n=Count("id"))}
    ranked = (
        rows.select_related("assignee", "goal")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("status")],
                order_by=[F("priority").desc(), F("id").asc()],
            )
        )
        .filter(status__in=BOARD_STATUSES)
    )
    by_status: dict[str, list[Task]] = {s: [] for s in BOARD_STATUSES}
    for task in ranked.filter(rank__lte=limit).order_by("-priority", "id"):
        by_status[task.status].append(task)
    return [
        Column(status=s, label=TaskStatus(s).label, tasks=by_status[s], total=totals.get(s, 0))
        for s in BOARD_STATUSES
    ]


def task_get(*, pk: int) -> Task | None:
    return (
        Task.objects.select_related("assignee", "goal", "parent", "created_by_user")
        .filter(pk=pk)
        .first()
    )


def task_comments(*, task_id: int) -> list[Comment]:
    return list(
        Comment.objects.filter(task_id=task_id)
        .select_related("author_user", "author_agent")
        .prefetch_related("mentions")
        .order_by("created_at", "id")
    )


def task_runs(*, task_id: int, limit: int = 10) -> list[Run]:
    return list(
        Run.objects.filter(task_id=task_id).select_related("agent").order_by("-created_at")[:limit]
    )


def goals_list() -> list[Goal]:
    return list(Goal.objects.select_related("owner").order_by("id"))


# -- goals ----------------------------------------------------------------------------------


@dataclass
class GoalNode:
    goal: Goal
    open_tasks: int = 0
    done_tasks: int = 0
    children: list[GoalNode] = field(default_factory=list)


def goal_tree() -> list[GoalNode]:
    """The goals from the mission down, with their open and finished task counts (2
    queries)."""
    goals = goals_list()
    counts = (
        Task.objects.filter(goal__isnull=False)
        .order_by()
        .values("goal_id")
        .annotate(
            done=Count("id", filter=Q(status=TaskStatus.DONE)),
            open=Count("id", filter=Q(status__in=OPEN_TASK_STATUSES)),
        )
    )
    nodes = {g.pk: GoalNode(g) for g in goals}
    for row in counts:
        node = nodes.get(row["goal_id"])
        if node is not None:
            node.open_tasks, node.done_tasks = row["open"], row["done"]
    roots = []
    for goal in goals:
        parent = nodes.get(goal.parent_id) if goal.parent_id else None
        (parent.children if parent else roots).append(nodes[goal.pk])
    return roots


# -- runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunDetail:
    run: Run
    transcript: list[SessionMessage]
    tool_calls: list[ToolCallRecord]
    model_calls: list[ModelCall]


def _tool_name(call: Any) -> str:
    if not isinstance(call, dict):
        return "?"
    function = call.get("function")
    name = call.get("name") or (function.get("name") if isinstance(function, dict) else None)
    return str(name or "?")


def _with_tool_names(lines: Any) -> list[SessionMessage]:
    """Each line with `tool_names`: the tools the model asked for on it, whatever the
    provider's shape of the stored calls."""
    found = list(lines)
    for line in found:
        calls = line.tool_calls if isinstance(line.tool_calls, list) else []
        line.tool_names = [_tool_name(c) for c in calls]
    return found


def run_detail(*, pk: int) -> RunDetail | None:
    """A run with its transcript, tool calls and every model call with its attempts (each
    with the key's label): 5 queries whatever their number."""
    run = Run.objects.select_related("agent", "task").filter(pk=pk).first()
    if run is None:
        return None
    attempts = FailoverAttempt.objects.select_related("profile").order_by("seq")
    calls = (
        ModelCall.objects.filter(run_id=run.pk)
        .order_by("created_at", "id")
        .prefetch_related(Prefetch("attempts", queryset=attempts))
    )
    return RunDetail(
        run=run,
        transcript=_with_tool_names(SessionMessage.objects.filter(run_id=run.pk).order_by("id")),
        tool_calls=list(ToolCallRecord.objects.filter(run_id=run.pk).order_by("step", "index")),
        model_calls=list(calls),
    )


# -- the dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    stuck_runs: list[Run]
    failed_runs: list[Run]
    paused_agents: list[Agent]
    in_review: list[Task]

    @property
    def empty(self) -> bool:
        return not (self.stuck_runs or self.failed_runs or self.paused_agents or self.in_review)


def attention(*, now: datetime | None = None, limit: int = ATTENTION_LIMIT) -> Attention:
    """What needs the customer: runs stuck or failed on every model lately, paused agents,
    tasks waiting for an approval (in review). 4 queries."""
    since = (now or timezone.now()) - STUCK_WINDOW
    recent = Run.objects.select_related("agent").filter(created_at__gte=since)
    return Attention(
        stuck_runs=list(recent.filter(status=RunStatus.STUCK).order_by("-created_at")[:limit]),
        failed_runs=list(
            recent.filter(status=RunStatus.FAILED_ALL_MODELS).order_by("-created_at")[:limit]
        ),
        paused_agents=list(Agent.objects.filter(status=AgentStatus.PAUSED).order_by("name")),
        in_review=list(
            Task.objects.select_related("assignee")
            .filter(status=TaskStatus.IN_REVIEW)
            .order_by("-priority", "id")[:limit]
        ),
    )


@dataclass(frozen=True)
class SinceVisit:
    since: datetime
    runs_by_status: list[tuple[str, int]]
    tasks_done: list[Task]
    tasks_done_total: int


def since_visit(*, since: datetime, limit: int = ATTENTION_LIMIT) -> SinceVisit:
    """Runs (counted by outcome) and tasks finished since `since`. 3 queries."""
    counts = (
        Run.objects.filter(created_at__gte=since)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    )
    by_status = {r["status"]: r["n"] for r in counts}
    done = Task.objects.filter(status=TaskStatus.DONE, completed_at__gte=since)
    return SinceVisit(
        since=since,
        runs_by_status=[(label, by_status[v]) for v, label in RunStatus.choices if v in by_status],
        tasks_done=list(done.select_related("assignee").order_by("-completed_at")[:limit]),
        tasks_done_total=done.count(),
    )


def briefing_latest() -> tuple[Task, Comment | None] | None:
    """The latest morning briefing (`agents.services.briefing`) and the coordinator's report
    on it, if it has written one. 2 queries."""
    task = (
        Task.objects.filter(title__startswith=BRIEFING_TITLE, created_by_agent__isnull=False)
        .order_by("-created_at", "-id")
        .first()
    )
    if task is None:
        return None
    report = (
        Comment.objects.filter(task_id=task.pk, author_agent__isnull=False)
        .select_related("author_agent")
        .order_by("-created_at", "-id")
        .first()
    )
    return task, report
