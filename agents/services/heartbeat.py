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
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.context import system_prompt, task_prompt
from agents.models import (
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
from agents.selectors import tasks_actionable
from agents.services.agents import agent_pause, agent_wake
from agents.services.briefing import briefings_open
from agents.services.failover_store import ConcurrentWalk
from agents.services.loop import LoopState, LoopStopped, RunLost, loop_turn, step_call_key
from agents.services.work import (
    CheckoutConflict,
    comment_create,
    session_for,
    task_checkout,
    task_holder_is_live,
    task_release,
    task_session_key,
)
from billing.selectors import billing_block_reason
from billing.services.budgets import BudgetExceeded
from orion.reliability import FallbackSummaryError

logger = logging.getLogger(__name__)
INBOX_CANDIDATES = 5
CONFLICT_RETRY_S = 60  # an agent whose task another live run holds looks again this soon


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
            # A takeover keeps the progress clock: a run whose workers keep dying makes no
            # progress and the stuck sweep must see it.
            last_progress_at=Case(
                When(status=RunStatus.QUEUED, then=Value(now)), default=F("last_progress_at")
            ),
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
    """End the run, only while this worker still holds it (raises RunLost otherwise, so
    the caller's transaction, the report included, rolls back)."""
    closed = Run.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, lease_owner=run.lease_owner
    ).update(
        status=status,
        ended_at=timezone.now(),
        lease_until=None,
        task_id=run.task_id,
        session_id=run.session_id,
        **values,
    )
    if not closed:
        raise RunLost(f"run {run.pk} was taken over or ended while {run.lease_owner} worked it")
    run.status = status


def _skip(run: Run, reason: str) -> Run:
    _close(run, RunStatus.SKIPPED, reason=reason)
    return run


@dataclass(frozen=True)
class Work:
    """What a heartbeat works on. `checkout`: the task is the agent's own and is leased to
    the run; a message on someone else's task is answered without taking it."""

    task: Task | None
    session: Session | None
    messages_waiting: bool
    checkout: bool


def _inbox(agent: Agent, run: Run) -> Work | None:
    """The work for this heartbeat: a conversation waiting for the agent (oldest pending
    message first), else its most important ready task that no live run holds."""
    if run.task_id is not None or run.session_id is not None:  # resumed
        own = run.task is not None and run.task.assignee_id == agent.pk
        return Work(run.task, run.session, True, own)
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
        own = task is not None and task.assignee_id == agent.pk
        return Work(task, waiting.session, True, own)
    tasks = list(tasks_actionable(agent=agent)[:INBOX_CANDIDATES])
    now = timezone.now()
    for task in tasks:
        if task.checkout_run_id == run.pk or not task_holder_is_live(task.checkout_run_id, now):
            return Work(task, None, False, True)
    return Work(tasks[0], None, False, True) if tasks else None


def _pending(session: Session) -> bool:
    return SessionMessage.objects.filter(session=session, status=MessageStatus.PENDING).exists()


def _take_messages(run: Run, session: Session, step: int, *, claim: bool) -> list[SessionMessage]:
    """The messages of the turn starting at `step`, in arrival order: the session's pending
    ones are claimed for it when `claim`; a resumed run reads those it had claimed."""
    with transaction.atomic():
        if claim:
            SessionMessage.objects.filter(session=session, status=MessageStatus.PENDING).update(
                status=MessageStatus.DONE, run=run, step=step
            )
        return list(
            SessionMessage.objects.filter(run=run, step=step, role=MessageRole.USER).order_by("id")
        )


def _answered(run: Run, step: int) -> bool:
    """Did this step's model call answer before the run was interrupted? (Then its turn
    is replayed as it was, without messages that arrived since.)"""
    return ModelCall.objects.filter(
        run=run, key=step_call_key(run, step), status="succeeded"
    ).exists()


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


def _report(run: Run, agent: Agent, work: Work, state: LoopState) -> None:
    """The report, durably with the run's close: a comment on the task (the answer, on
    someone else's task too), the agent's own task handed back, and for its finished
    sub-task the result posted on the parent task."""
    summary = state.content.strip() or f"({state.stopped or 'no answer'})"
    if state.stopped:
        summary = f"{summary}\n\n(stopped: {state.stopped})"
    task = work.task
    with transaction.atomic():
        if task is not None:
            comment_create(task=task, body=summary, actor_agent=agent, run=run)
            if work.checkout:
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


def run_give_back(run: Run, task: Task | None, *, from_step: int = 0) -> None:
    """On failure: the task's lease, and the messages of turns from `from_step` on (the
    unfinished one; every turn's when unknown) go back to wait for the next run."""
    if task is not None:
        task_release(task_id=task.pk, run_id=run.pk)
    SessionMessage.objects.filter(run=run, role=MessageRole.USER, step__gte=from_step).update(
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
    try:
        state = _work(run, run.agent, work, deadline=deadline, resumed=claim.resumed)
        if state is not None:
            _report(run, run.agent, work, state)
    except (RunLost, ConcurrentWalk) as exc:
        logger.warning("heartbeat run %s: %s", run.pk, exc)
        return claim
    if Run.objects.filter(pk=run.pk, coalesced__gt=0).exists():
        agent_wake(agent_id=run.agent_id, trigger=run.trigger)
    return claim


def _begin(run: Run, *, resumed: bool) -> Work | None:
    """Skip early (recorded, zero tokens) or take the work (the agent's own task is checked
    out). None when the run was skipped."""
    agent = run.agent
    if agent.tenant.heartbeats_paused:
        _skip(run, "the company's heartbeats are paused (kill switch)")
        return None
    if blocked := billing_block_reason(tenant_id=agent.tenant_id):
        _skip(run, blocked)
        return None
    if agent.status != AgentStatus.ACTIVE:
        why = f" ({agent.get_pause_reason_display()})" if agent.pause_reason else ""
        _skip(run, f"{agent.name} is {agent.status}{why}")
        return None
    if not resumed:
        briefings_open(runs=[run], now=timezone.now())  # a coordinator's morning run
    work = _inbox(agent, run)
    if work is None:
        _skip(run, "no actionable work")
        return None
    task, session = work.task, work.session
    if task is not None:
        if work.checkout:
            try:
                task_checkout(task=task, run=run)
            except CheckoutConflict as exc:
                _skip(run, f"task {task.pk} is checked out by run {exc.holder_run_id}")
                agent_wake(agent_id=agent.pk, trigger=run.trigger, after_s=CONFLICT_RETRY_S)
                return None
        session = session or session_for(agent_id=agent.pk, key=task_session_key(task.pk))
    # Written with the first progress or the close: a run resumed before that finds the
    # same task again (checked out by itself) or the same waiting messages.
    run.task, run.session = task, session
    if work.messages_waiting and not resumed:  # the messages it claims must find it again
        Run.objects.filter(pk=run.pk).update(task=task, session=session)
    return Work(task, session, work.messages_waiting, work.checkout)


def _work(
    run: Run, agent: Agent, work: Work, *, deadline: float | None, resumed: bool
) -> LoopState | None:
    """Turns until no message waits (a message that arrived mid-turn gets the next turn);
    None when the run ended otherwise (recorded)."""
    task, session, messages_waiting = work.task, work.session, work.messages_waiting
    owned = task if work.checkout else None
    system = system_prompt(agent=agent, mission=agent.tenant.mission)
    chain = task.model_chain if task is not None and task.model_chain_id else None
    state = LoopState()
    turn_start = 1
    try:
        while True:
            first, turn_start = state.step == 0, state.step + 1
            waiting = messages_waiting if first else _pending(session)
            messages = []
            if resumed:
                claim = not _answered(run, turn_start)
                messages = _take_messages(run, session, turn_start, claim=claim)
            elif waiting:
                messages = _take_messages(run, session, turn_start, claim=True)
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
            run_give_back(run, owned, from_step=turn_start)
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
            run_give_back(run, owned, from_step=turn_start)
            _close(run, RunStatus.CANCELLED, reason=str(exc), steps=state.step)
    except BudgetExceeded as exc:  # refused before the request: the agent waits for room
        with transaction.atomic():
            run_give_back(run, owned, from_step=turn_start)
            _close(run, RunStatus.SKIPPED, reason=f"budget: {exc}", steps=state.step)
            agent_pause(agent=agent, reason=PauseReason.BUDGET)
    except (RunLost, ConcurrentWalk):
        raise
    except Exception as exc:
        logger.exception("heartbeat run %s failed", run.pk)
        with transaction.atomic():
            run_give_back(run, owned, from_step=turn_start)
            _close(
                run,
                RunStatus.FAILED,
                error_detail=f"{type(exc).__name__}: {exc}"[:8000],
                steps=state.step,
            )
    return None
