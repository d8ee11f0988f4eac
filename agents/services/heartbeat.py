"""One heartbeat: claim the Run, skip early when there is nothing to do, check out the most
important task, work it in the agent loop, report, close the Run.

A heartbeat with no actionable work ends before any model call. Re-delivery of the same
heartbeat (a worker died) resumes the same Run once its lease has expired: the loop replays
stored model answers and tool results instead of repeating them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.context import system_prompt, task_prompt
from agents.models import (
    ACTIONABLE_TASK_STATUSES,
    OPEN_TASK_STATUSES,
    Agent,
    AgentStatus,
    FailoverAttempt,
    MessageRole,
    MessageStatus,
    ModelCall,
    PauseReason,
    Run,
    RunStatus,
    Session,
    SessionMessage,
    Task,
    TaskStatus,
)
from agents.providers.base import ChatMessage
from agents.services.agents import agent_pause, agent_wake
from agents.services.loop import LoopState, LoopStopped, loop_turn
from agents.services.work import (
    CheckoutConflict,
    comment_create,
    session_for,
    task_checkout,
    task_release,
    task_session_key,
)
from billing.services.budgets import BudgetExceeded
from orion.reliability import FallbackSummaryError

logger = logging.getLogger(__name__)
INBOX_CANDIDATES = 5


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take a run: the run, or why not (and when to try again)."""

    run: Run | None
    resumed: bool = False
    retry_in: float | None = None
    why: str = ""


def run_claim(*, run_id: int, owner: str) -> Claim:
    """Take the run: queued → running, or running whose lease expired (its worker died).
    A compare-and-set: of two deliveries of one heartbeat exactly one gets it."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.ORION_RUN_LEASE_S)
    taken = (
        Run.objects.filter(pk=run_id)
        .filter(Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, lease_until__lt=now))
        .update(
            status=RunStatus.RUNNING,
            lease_owner=owner[:64],
            lease_until=lease,
            last_progress_at=now,
            started_at=Coalesce("started_at", Value(now)),
        )
    )
    run = Run.objects.select_related("agent__tenant", "task", "session").filter(pk=run_id).first()
    if run is None:
        return Claim(None, why="no such run")
    if not taken:
        if run.status == RunStatus.RUNNING and run.lease_until is not None:
            return Claim(
                None,
                retry_in=max((run.lease_until - now).total_seconds(), 1.0),
                why=f"run {run_id} is held by {run.lease_owner}",
            )
        return Claim(None, why=f"run {run_id} is {run.status}")
    return Claim(run, resumed=run.started_at != now)


def _close(run: Run, status: str, **values: object) -> None:
    Run.objects.filter(pk=run.pk).update(
        status=status,
        ended_at=timezone.now(),
        lease_until=None,
        task_id=run.task_id,
        session_id=run.session_id,
        **values,
    )
    run.status = status


def _skip(run: Run, reason: str) -> Run:
    _close(run, RunStatus.SKIPPED, reason=reason)
    return run


def _inbox(agent: Agent, run: Run) -> tuple[Task | None, Session | None, bool]:
    """The work for this heartbeat: a task someone is talking to the agent about (oldest
    pending message first), else its most important ready task; and whether messages wait."""
    if run.task_id is not None or run.session_id is not None:  # resumed
        return run.task, run.session, True
    waiting = (
        SessionMessage.objects.filter(session__agent=agent, status=MessageStatus.PENDING)
        .select_related("session")
        .order_by("id")
        .first()
    )
    if waiting is not None:
        key = waiting.session.key
        task = None
        if key.startswith("task:"):
            task = Task.objects.filter(pk=int(key.split(":", 1)[1])).first()
        return task, waiting.session, True
    tasks = list(
        Task.objects.filter(assignee=agent, status__in=ACTIONABLE_TASK_STATUSES)
        .exclude(blockers__status__in=OPEN_TASK_STATUSES)
        .order_by("-priority", "due_at", "id")[:INBOX_CANDIDATES]
    )
    for task in tasks:
        if task.checkout_run_id in (None, run.pk) or not _held(task):
            return task, None, False
    return (tasks[0], None, False) if tasks else (None, None, False)


def _held(task: Task) -> bool:
    return Run.objects.filter(
        pk=task.checkout_run_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    ).exists()


def _pending(session: Session) -> bool:
    return SessionMessage.objects.filter(session=session, status=MessageStatus.PENDING).exists()


def _take_messages(run: Run, session: Session, step: int) -> list[SessionMessage]:
    """Claim the session's pending messages for the turn starting at `step` (in arrival
    order); on resume, the ones this run had claimed for it."""
    with transaction.atomic():
        SessionMessage.objects.filter(session=session, status=MessageStatus.PENDING).update(
            status=MessageStatus.DONE, run=run, step=step
        )
        return list(
            SessionMessage.objects.filter(run=run, step=step, role=MessageRole.USER).order_by("id")
        )


def _opening(task: Task | None, messages: list[SessionMessage], first: bool) -> str:
    parts = [task_prompt(task=task)] if task is not None and first else []
    if messages:
        parts.append("New messages for you (oldest first):")
        parts.extend(f"- {m.author_label or 'someone'}: {m.content}" for m in messages)
    return "\n".join(parts) or "Check your tasks and report."


def _answered_by(run: Run) -> dict[str, object]:
    """Which provider/model gave the run's last answer, and whether any answer came from
    a fallback candidate (one query)."""
    fallback = FailoverAttempt.objects.filter(
        call__run=OuterRef("run"), status="succeeded", candidate_index__gt=0
    )
    last = (
        ModelCall.objects.filter(run=run, status="succeeded")
        .order_by("-created_at", "-id")
        .values("provider", "model", fell_back=Exists(fallback))
        .first()
    )
    if last is None:
        return {"answered_provider": "", "answered_model": "", "fell_back": False}
    return {
        "answered_provider": last["provider"],
        "answered_model": last["model"],
        "fell_back": last["fell_back"],
    }


def _report(run: Run, agent: Agent, task: Task | None, state: LoopState) -> None:
    """The report, durably with the run's close: a comment on the task, the task handed
    back, and for a sub-task that is finished, its result posted on the parent task."""
    summary = state.content.strip() or f"({state.stopped or 'no answer'})"
    if state.stopped:
        summary = f"{summary}\n\n(stopped: {state.stopped})"
    with transaction.atomic():
        if task is not None:
            comment_create(task=task, body=summary, actor_agent=agent, run=run)
            if task.parent_id is not None:
                _post_to_parent(run, agent, task.pk, summary)
            task_release(task_id=task.pk, run_id=run.pk)
        _close(
            run,
            RunStatus.SUCCEEDED,
            summary=summary[:4000],
            steps=state.step,
            input_tokens=state.input_tokens,
            output_tokens=state.output_tokens,
            **_answered_by(run),
        )


def _post_to_parent(run: Run, agent: Agent, task_id: int, summary: str) -> None:
    """A finished sub-task's result goes on the parent task, waking whoever owns it."""
    task = Task.objects.select_related("parent__assignee").get(pk=task_id)
    if task.parent_id is None or task.status not in (TaskStatus.DONE, TaskStatus.IN_REVIEW):
        return
    boss = task.parent.assignee
    mention = f"@{boss.name} " if boss is not None else ""
    comment_create(
        task=task.parent,
        body=f"{mention}Sub-task #{task.pk} ({task.title}) is {task.status}: {summary}",
        actor_agent=agent,
        run=run,
    )


def run_give_back(run: Run, task: Task | None) -> None:
    """On failure: the task's lease and the messages of the unfinished turn go back."""
    if task is not None:
        task_release(task_id=task.pk, run_id=run.pk)
    SessionMessage.objects.filter(run=run, role=MessageRole.USER).update(
        status=MessageStatus.PENDING, run=None, step=None
    )


def heartbeat_execute(*, run_id: int, owner: str, deadline: float | None = None) -> Claim:
    """Run (or resume) one heartbeat. Returns the claim: its run is None when another
    worker holds the run (retry after `retry_in`) or it had ended already."""
    with transaction.atomic():  # claim to checkout: one commit, no model call inside
        claim = run_claim(run_id=run_id, owner=owner)
        run = claim.run
        if run is None:
            return claim
        work = _begin(run, resumed=claim.resumed)
        if work is None:
            return claim
    task, session, messages_waiting = work
    state = _work(
        run,
        run.agent,
        task,
        session,
        deadline=deadline,
        resumed=claim.resumed,
        messages_waiting=messages_waiting,
    )
    if state is not None:
        _report(run, run.agent, task, state)
        if Run.objects.filter(pk=run.pk, coalesced__gt=0).exists():
            agent_wake(agent_id=run.agent_id, trigger=run.trigger)
    return claim


def _begin(run: Run, *, resumed: bool) -> tuple[Task | None, Session, bool] | None:
    """Skip early (recorded, zero tokens) or check out the work: (task, session, whether
    messages wait). None when the run was skipped."""
    agent = run.agent
    if agent.tenant.heartbeats_paused:
        _skip(run, "the company's heartbeats are paused (kill switch)")
        return None
    if agent.status != AgentStatus.ACTIVE:
        why = f" ({agent.get_pause_reason_display()})" if agent.pause_reason else ""
        _skip(run, f"{agent.name} is {agent.status}{why}")
        return None
    task, session, messages_waiting = _inbox(agent, run)
    if task is None and session is None:
        _skip(run, "no actionable work")
        return None
    if task is not None:
        try:
            task_checkout(task=task, run=run)
        except CheckoutConflict as exc:
            _skip(run, f"task {task.pk} is checked out by run {exc.holder_run_id}")
            return None
        session = session or session_for(agent_id=agent.pk, key=task_session_key(task.pk))
    # Written with the first progress or the close: a run resumed before that finds the
    # same task again (checked out by itself) or the same waiting messages.
    run.task, run.session = task, session
    if messages_waiting and not resumed:  # the messages it claims must find it again
        Run.objects.filter(pk=run.pk).update(task=task, session=session)
    return task, session, messages_waiting


def _work(
    run: Run,
    agent: Agent,
    task: Task | None,
    session: Session,
    *,
    deadline: float | None,
    resumed: bool,
    messages_waiting: bool,
) -> LoopState | None:
    """Turns until no message waits (a message that arrived mid-turn gets the next turn);
    None when the run ended otherwise (recorded)."""
    system = system_prompt(agent=agent, mission=agent.tenant.mission)
    chain = task.model_chain if task is not None and task.model_chain_id else None
    state = LoopState()
    try:
        while True:
            first = state.step == 0
            waiting = messages_waiting if first else _pending(session)
            messages = _take_messages(run, session, state.step + 1) if waiting or resumed else []
            if not first and not messages:
                return state
            state.messages.append(ChatMessage(role="user", content=_opening(task, messages, first)))
            state = loop_turn(
                run=run,
                agent=agent,
                task=task,
                session=session,
                system=system,
                state=state,
                chain=chain,
                deadline=deadline,
                resumed=resumed,
            )
            if state.stopped:
                return state
    except FallbackSummaryError as exc:
        soonest = (
            datetime.fromtimestamp(exc.soonest_expiry, tz=UTC)
            if exc.soonest_expiry is not None
            else None
        )
        with transaction.atomic():
            run_give_back(run, task)
            _close(
                run,
                RunStatus.FAILED_ALL_MODELS,
                error_detail=str(exc)[:8000],
                next_attempt_at=soonest,
                steps=state.step,
                **_answered_by(run),
            )
            if soonest is not None:
                Agent.objects.filter(pk=agent.pk).update(next_heartbeat_at=soonest)
    except LoopStopped as exc:
        with transaction.atomic():
            run_give_back(run, task)
            _close(run, RunStatus.CANCELLED, reason=str(exc), steps=state.step)
    except BudgetExceeded as exc:  # refused before the request: the agent waits for room
        with transaction.atomic():
            run_give_back(run, task)
            _close(run, RunStatus.SKIPPED, reason=f"budget: {exc}", steps=state.step)
            agent_pause(agent=agent, reason=PauseReason.BUDGET)
    except Exception as exc:
        logger.exception("heartbeat run %s failed", run.pk)
        with transaction.atomic():
            run_give_back(run, task)
            _close(
                run,
                RunStatus.FAILED,
                error_detail=f"{type(exc).__name__}: {exc}"[:8000],
                steps=state.step,
            )
    return None
