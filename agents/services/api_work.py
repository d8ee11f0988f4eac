"""The work an outside runtime (or a person for an agent) does over the API: checkout,
release, and acknowledging inbox messages.

Checkout: a task lease is always held by a live Run, so a checkout made over
HTTP (a person on behalf of an agent, or an outside runtime with its agent key) uses the
agent's live run, or opens one (trigger manual, status running, leased to "api").

An API-opened run holds its lease for ORION_RUN_LEASE_S; every checkout through it extends
the lease, and releasing its last task closes it, so the agent's scheduled heartbeats are
not coalesced into it longer than needed. A run left open past its lease is never run by
a worker: its task lease becomes reclaimable, and the stuck sweep closes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import (
    LIVE_RUN_STATUSES,
    Agent,
    AgentStatus,
    MessageStatus,
    Run,
    RunStatus,
    RunTrigger,
    SessionMessage,
    Task,
)
from agents.services.work import CheckoutConflict, task_checkout, task_release
from tenants.services.audit import audit_record

API_LEASE_OWNER = "api"


def api_run_for(*, agent: Agent) -> tuple[Run, bool]:
    """The agent's live run, else a new one opened for the API (and True). An active
    agent only."""
    if agent.status != AgentStatus.ACTIVE:
        raise ValidationError({"agent": f"{agent.name} is {agent.status}."})
    for _ in range(3):
        now = timezone.now()
        lease = now + timedelta(seconds=settings.ORION_RUN_LEASE_S)
        run = Run.objects.filter(agent=agent, status__in=LIVE_RUN_STATUSES).first()
        if run is not None:
            if run.lease_owner == API_LEASE_OWNER:
                Run.objects.filter(pk=run.pk, status__in=LIVE_RUN_STATUSES).update(
                    lease_until=lease, last_progress_at=now
                )
            return run, False
        try:
            with transaction.atomic():  # the one-live-run constraint is the claim
                run = Run.objects.create(
                    tenant_id=agent.tenant_id,
                    agent=agent,
                    trigger=RunTrigger.MANUAL,
                    status=RunStatus.RUNNING,
                    lease_owner=API_LEASE_OWNER,
                    lease_until=lease,
                    started_at=now,
                    last_progress_at=now,
                )
            return run, True
        except IntegrityError:
            continue  # another request opened it meanwhile: use that one
    raise ValidationError({"agent": f"{agent.name}'s run could not be opened; try again."})


def api_task_checkout(
    *, task: Task, agent: Agent, actor_user: Any = None, actor_agent: Agent | None = None
) -> Run:
    """Check `task` out for `agent`'s live run; raises CheckoutConflict with nothing left
    behind (a run opened for this checkout is cancelled again)."""
    for _ in range(3):
        run, opened = api_run_for(agent=agent)
        with transaction.atomic():
            # The run's row lock serialises checkouts and releases through it, so a run is
            # never closed while another request's checkout puts a task on it.
            if not _lock_live(run):
                continue  # it ended meanwhile: open or find the next one
            already = task.checkout_run_id == run.pk
            try:
                task_checkout(task=task, run=run)
            except CheckoutConflict as exc:
                conflict = exc
                if opened and not Task.objects.filter(checkout_run_id=run.pk).exists():
                    _close(run, RunStatus.CANCELLED, "Opened over the API; the checkout lost.")
            else:
                conflict = None
        if conflict is not None:  # raised after the commit, so the cancel is kept
            raise conflict
        break
    else:
        raise ValidationError({"agent": f"{agent.name}'s run kept ending; try again."})
    if not already:
        audit_record(
            tenant=task.tenant_id,
            verb="task.checked_out",
            target=task,
            actor_user=actor_user,
            actor_agent=actor_agent,
            after={"agent": agent.pk, "run": run.pk},
        )
    return run


def api_task_release(
    *, task: Task, agent: Agent, actor_user: Any = None, actor_agent: Agent | None = None
) -> bool:
    """Give the task back if `agent`'s live run holds it; an API-opened run that then holds
    nothing is closed. False when the agent's run does not hold the task."""
    run = Run.objects.filter(agent=agent, status__in=LIVE_RUN_STATUSES).first()
    if run is None:
        return False
    with transaction.atomic():
        if not _lock_live(run) or not task_release(task_id=task.pk, run_id=run.pk):
            return False
        task.checkout_run_id, task.checked_out_at = None, None
        audit_record(
            tenant=task.tenant_id,
            verb="task.released",
            target=task,
            actor_user=actor_user,
            actor_agent=actor_agent,
            after={"agent": agent.pk, "run": run.pk},
        )
        if (
            run.lease_owner == API_LEASE_OWNER
            and not Task.objects.filter(checkout_run_id=run.pk).exists()
        ):
            _close(run, RunStatus.SUCCEEDED, "Opened over the API; its last task was released.")
    return True


def _lock_live(run: Run) -> bool:
    """Lock the run's row for this transaction; False when it is no longer live."""
    return Run.objects.select_for_update().filter(pk=run.pk, status__in=LIVE_RUN_STATUSES).exists()


def _close(run: Run, status: str, summary: str) -> None:
    Run.objects.filter(pk=run.pk, status__in=LIVE_RUN_STATUSES).update(
        status=status, ended_at=timezone.now(), lease_until=None, summary=summary
    )
    run.status = status


@transaction.atomic
def api_inbox_ack(
    *,
    agent: Agent,
    message_ids: list[int],
    actor_user: Any = None,
    actor_agent: Agent | None = None,
) -> int:
    """Mark `agent`'s waiting messages among `message_ids` handled (by its live run, if
    any); other ids are ignored. Returns how many were acknowledged."""
    run = Run.objects.filter(agent=agent, status__in=LIVE_RUN_STATUSES).first()
    pending = SessionMessage.objects.filter(
        pk__in=message_ids, session__agent=agent, status=MessageStatus.PENDING
    )
    ids = list(pending.values_list("pk", flat=True))
    if not ids:
        return 0
    done = SessionMessage.objects.filter(pk__in=ids, status=MessageStatus.PENDING).update(
        status=MessageStatus.DONE, run=run
    )
    audit_record(
        tenant=agent.tenant_id,
        verb="inbox.acknowledged",
        target=agent,
        actor_user=actor_user,
        actor_agent=actor_agent,
        after={"messages": ids},
    )
    return done
