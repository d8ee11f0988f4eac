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
from django.db.models import Q
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
    Run,
    RunStatus,
    Session,
    SessionMessage,
    Task,
    TaskStatus,
)
from agents.providers.base import ChatMessage
from agents.services.agents import agent_wake
from agents.services.loop import LoopState, LoopStopped, loop_turn
from agents.services.work import (
    CheckoutConflict,
    comment_create,
    session_for,
    task_checkout,
    task_release,
    task_session_key,
)
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
        )
    )
    run = Run.objects.select_related("agent__tenant", "task").filter(pk=run_id).first()
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
    resumed = run.started_at is not None
    if not resumed:
        run.started_at = now
        Run.objects.filter(pk=run_id).update(started_at=now)
    return Claim(run, resumed=resumed)


def _close(run: Run, status: str, **values: object) -> None:
    Run.objects.filter(pk=run.pk).update(
        status=status, ended_at=timezone.now(), lease_until=None, **values
    )
    run.status = status


def _skip(run: Run, reason: str) -> Run:
    _close(run, RunStatus.SKIPPED, reason=reason)
    return run


def _inbox(agent: Agent, run: Run) -> tuple[Task | None, Session | None]:
    """The work for this heartbeat: a task someone is talking to the agent about (oldest
    pending message first), else its most important ready task."""
    if run.task_id is not None:  # resumed
        return run.task, session_for(agent_id=agent.pk, key=task_session_key(run.task_id))
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
        return task, waiting.session
    tasks = list(
        Task.objects.filter(assignee=agent, status__in=ACTIONABLE_TASK_STATUSES)
        .exclude(blockers__status__in=OPEN_TASK_STATUSES)
        .order_by("-priority", "due_at", "id")[:INBOX_CANDIDATES]
    )
    for task in tasks:
        if task.checkout_run_id in (None, run.pk) or not _held(task):
            return task, None
    return (tasks[0], None) if tasks else (None, None)


def _held(task: Task) -> bool:
    return Run.objects.filter(
        pk=task.checkout_run_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    ).exists()


def _take_messages(run: Run, session: Session, step: int) -> list[SessionMessage]:
    """Claim the session's pending messages for the turn starting at `step` (in arrival
    order); on resume, the ones this run had claimed for it."""
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
    last = (
        ModelCall.objects.filter(run=run, status="succeeded")
        .order_by("-created_at", "-id")
        .values("provider", "model")
        .first()
    )
    fell_back = FailoverAttempt.objects.filter(
        call__run=run, status="succeeded", candidate_index__gt=0
    ).exists()
    return {
        "answered_provider": (last or {}).get("provider", ""),
        "answered_model": (last or {}).get("model", ""),
        "fell_back": fell_back,
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
    claim = run_claim(run_id=run_id, owner=owner)
    run = claim.run
    if run is None:
        return claim
    agent = run.agent
    tenant = agent.tenant
    if tenant.heartbeats_paused:
        return Claim(_skip(run, "the company's heartbeats are paused (kill switch)"))
    if agent.status != AgentStatus.ACTIVE:
        why = f" ({agent.get_pause_reason_display()})" if agent.pause_reason else ""
        return Claim(_skip(run, f"{agent.name} is {agent.status}{why}"))
    task, session = _inbox(agent, run)
    if task is None and session is None:
        return Claim(_skip(run, "no actionable work"))
    if task is not None:
        try:
            task_checkout(task=task, run=run)
        except CheckoutConflict as exc:
            return Claim(_skip(run, f"task {task.pk} is checked out by run {exc.holder_run_id}"))
        session = session or session_for(agent_id=agent.pk, key=task_session_key(task.pk))
        if run.task_id is None:
            Run.objects.filter(pk=run.pk).update(task=task, session=session)
    elif run.session_id is None:
        Run.objects.filter(pk=run.pk).update(session=session)
    state = _work(run, agent, task, session, deadline=deadline, resumed=claim.resumed)
    if state is not None:
        _report(run, agent, task, state)
        if Run.objects.filter(pk=run.pk, coalesced__gt=0).exists():
            agent_wake(agent_id=agent.pk, trigger=run.trigger)
    return Claim(run, resumed=claim.resumed)


def _work(
    run: Run,
    agent: Agent,
    task: Task | None,
    session: Session,
    *,
    deadline: float | None,
    resumed: bool,
) -> LoopState | None:
    """Turns until no message waits; None when the run ended otherwise (recorded)."""
    system = system_prompt(agent=agent, mission=agent.tenant.mission)
    chain = task.model_chain if task is not None and task.model_chain_id else None
    state = LoopState()
    try:
        while True:
            first = state.step == 0
            messages = _take_messages(run, session, state.step + 1)
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
