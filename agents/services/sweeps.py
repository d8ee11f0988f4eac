"""Sweeps over every tenant's runs (no model calls): stuck runs and runs whose worker died.

A Run with no progress for ORION_RUN_STUCK_AFTER_S (queued and never started, or running)
is marked stuck: its task lease and its unanswered messages are given back and the agent's
coordinator is told on the task (a mention wakes it) or, without a task, gets a task."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Run, RunStatus
from agents.services.api_work import API_LEASE_OWNER
from agents.services.heartbeat import run_give_back
from agents.services.work import comment_create, task_create
from tenants.scope import tenant_scope

SWEEP_BATCH = 500
REQUEUE_AFTER_S = 300


def _tell_coordinator(run: Run, note: str) -> None:
    boss = run.agent.reports_to
    if run.task is not None:
        mention = f"@{boss.name} " if boss is not None else ""
        comment_create(task=run.task, body=f"{mention}{note}")
    elif boss is not None:
        task_create(title=f"Run {run.pk} of {run.agent.name} is stuck", body=note, assignee=boss)


def runs_mark_stuck(*, now: datetime | None = None) -> list[int]:
    """Mark stuck runs (compare-and-set on the status seen); returns their ids."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ORION_RUN_STUCK_AFTER_S)
    candidates = list(
        Run.objects.unscoped()
        .filter(
            Q(status=RunStatus.RUNNING, last_progress_at__lt=cutoff)
            | Q(status=RunStatus.QUEUED, created_at__lt=cutoff)
        )
        .select_related("agent__reports_to", "task")[:SWEEP_BATCH]
    )
    stuck = []
    for run in candidates:
        since = run.last_progress_at or run.created_at
        note = (
            f"Run {run.pk} of {run.agent.name} is stuck: no progress since "
            f"{since:%Y-%m-%d %H:%M} UTC. Its task was released."
        )
        with tenant_scope(run.tenant_id), transaction.atomic():
            # Compare-and-set on what made it stuck: a run that progressed (or was claimed
            # from the queue) since it was read is left alone.
            quiet = (
                Q(last_progress_at__lt=cutoff)
                if run.status == RunStatus.RUNNING
                else Q(created_at__lt=cutoff)
            )
            taken = Run.objects.filter(quiet, pk=run.pk, status=run.status).update(
                status=RunStatus.STUCK, reason=note, ended_at=now, lease_until=None
            )
            if not taken:
                continue
            run_give_back(run, run.task)
            _tell_coordinator(run, note)
        stuck.append(run.pk)
    return stuck


def runs_with_dead_worker(*, now: datetime | None = None) -> list[Run]:
    """Runs to enqueue again (the claim is a compare-and-set, so a second delivery is
    harmless): running ones whose lease expired (their worker died and the broker may not
    redeliver) and queued ones whose message seems lost (older than REQUEUE_AFTER_S)."""
    now = now or timezone.now()
    lost = now - timedelta(seconds=REQUEUE_AFTER_S)
    return list(
        Run.objects.unscoped()
        .filter(
            Q(status=RunStatus.RUNNING, lease_until__lt=now)
            | Q(status=RunStatus.QUEUED, created_at__lt=lost)
        )
        .exclude(lease_owner=API_LEASE_OWNER)  # an outside runtime's run: only stuck-swept
        .order_by("id")[:SWEEP_BATCH]
    )
