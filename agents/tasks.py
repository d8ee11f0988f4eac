"""Celery adapters for the control plane: the dispatcher tick, the heartbeat, the sweep."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from celery import shared_task
from django.conf import settings

from agents.models import Run
from agents.services.dispatch import dispatch_due
from agents.services.heartbeat import heartbeat_execute
from agents.services.sweeps import runs_mark_stuck, runs_with_dead_worker
from tenants.tasks import tenant_task

# The walk must end before Celery's soft limit interrupts it (then it records its attempts).
DEADLINE_MARGIN_S = 20


@shared_task(ignore_result=True)
def dispatch_tick() -> int:
    """Scheduled every second by beat (a PeriodicTask, editable in the admin)."""
    return len(dispatch_due().runs)


@tenant_task(bind=True, ignore_result=True, max_retries=None)
def heartbeat_run(self: Any, *, tenant_id: int, run_id: int) -> str:
    soft = self.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
    owner = f"{socket.gethostname()}:{os.getpid()}:{self.request.id or 'eager'}"
    claim = heartbeat_execute(
        run_id=run_id, owner=owner, deadline=time.time() + max(soft - DEADLINE_MARGIN_S, 5)
    )
    if claim.run is None and claim.retry_in is not None:
        raise self.retry(countdown=claim.retry_in)
    return claim.run.status if claim.run is not None else claim.why


def heartbeat_enqueue(run: Run) -> None:
    heartbeat_run.apply_async(kwargs={"tenant_id": run.tenant_id, "run_id": run.pk})


@shared_task(ignore_result=True)
def runs_sweep() -> dict[str, int]:
    """Every minute: stuck runs, and runs whose worker died (enqueued again to resume)."""
    stuck = runs_mark_stuck()
    orphans = runs_with_dead_worker()
    for run in orphans:
        heartbeat_enqueue(run)
    return {"stuck": len(stuck), "resumed": len(orphans)}
