"""The morning briefing: the coordinator's first run of the day on its cron schedule (its starter
schedule is 07:30 in the tenant's time zone) gets a briefing task whose body is the day
gathered from the rows — open and finished tasks, the runs since the last briefing and their
failures — so the heartbeat works it like any task and its report is posted as a comment.
The dashboard shows the latest one
(`agents.portal.selectors.briefing_latest`). Gathering costs no model call; one briefing per tenant
and local day (the task's title carries the date)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count

from agents.models import (
    OPEN_TASK_STATUSES,
    AgentRole,
    Run,
    RunStatus,
    RunTrigger,
    ScheduleKind,
    Task,
    TaskPriority,
    TaskStatus,
)
from agents.services.work import task_create
from tenants.scope import tenant_scope

BRIEFING_TITLE = "Morning briefing"
WINDOW = timedelta(hours=24)
LISTED = 10
FAILED = (RunStatus.FAILED, RunStatus.FAILED_ALL_MODELS, RunStatus.STUCK)


def briefing_title(day: datetime) -> str:
    return f"{BRIEFING_TITLE} {day:%Y-%m-%d}"


def briefing_gather(*, since: datetime) -> str:
    """The day in plain lines, read in the current tenant scope (5 queries)."""
    open_counts = Counter(
        dict(
            Task.objects.filter(status__in=OPEN_TASK_STATUSES)
            .order_by()
            .values_list("status")
            .annotate(n=Count("id"))
        )
    )
    done = list(
        Task.objects.filter(status=TaskStatus.DONE, completed_at__gte=since)
        .select_related("assignee")
        .order_by("-completed_at")[:LISTED]
    )
    waiting = list(
        Task.objects.filter(status=TaskStatus.IN_REVIEW).order_by("-priority", "id")[:LISTED]
    )
    runs = Counter(
        dict(
            Run.objects.filter(created_at__gte=since)
            .order_by()
            .values_list("status")
            .annotate(n=Count("id"))
        )
    )
    failures = list(
        Run.objects.filter(created_at__gte=since, status__in=FAILED)
        .select_related("agent")
        .order_by("-created_at")[:LISTED]
    )
    labels = dict(TaskStatus.choices)
    lines = ["Gathered for the morning briefing. Summarise it for the owner in a few lines."]
    total_open = sum(open_counts.values())
    lines.append(
        f"Open tasks: {total_open}"
        + (
            " ("
            + ", ".join(f"{n} {labels[s].lower()}" for s, n in sorted(open_counts.items()))
            + ")"
            if total_open
            else ""
        )
    )
    lines.append(f"Finished since yesterday: {len(done)}")
    lines.extend(f"- {t.title} ({t.assignee.name if t.assignee else 'a person'})" for t in done)
    lines.append(f"Waiting for an approval: {len(waiting)}")
    lines.extend(f"- {t.title}" for t in waiting)
    run_labels = dict(RunStatus.choices)
    lines.append(
        f"Runs overnight: {sum(runs.values())}"
        + (
            " (" + ", ".join(f"{n} {run_labels[s].lower()}" for s, n in sorted(runs.items())) + ")"
            if runs
            else ""
        )
    )
    lines.extend(f"- {r.agent.name}: {run_labels[r.status]} — {r.reason or '-'}" for r in failures)
    return "\n".join(lines)


def briefings_open(*, runs: list[Run], now: datetime) -> list[Task]:
    """For each coordinator's run due to its cron schedule among `runs` (agents and tenants
    loaded), the day's briefing task assigned to it, created once per local day. The
    heartbeat calls it as it starts (the gathering runs on a worker, never in the
    dispatcher's tick), so its inbox finds the task; written as the coordinator's own
    action, so it wakes nobody."""
    made = []
    for run in runs:
        agent = run.agent
        if (
            run.trigger != RunTrigger.SCHEDULE
            or agent.role != AgentRole.COORDINATOR
            or agent.schedule_kind != ScheduleKind.CRON
        ):
            continue
        local = now.astimezone(ZoneInfo(agent.tenant.timezone))
        title = briefing_title(local)
        with tenant_scope(agent.tenant_id):
            if Task.objects.filter(title=title).exists():
                continue
            made.append(
                task_create(
                    title=title,
                    body=briefing_gather(since=now - WINDOW),
                    assignee=agent,
                    priority=TaskPriority.URGENT,  # first thing in the morning
                    actor_agent=agent,
                )
            )
    return made
