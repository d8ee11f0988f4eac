"""FailoverWalker: one model call over the fallback chain, resumable from its ledger.

For each candidate (in chain order) and each usable profile of its provider (in the order
`profiles` returns them): persist a "started" record, send, record the outcome, and act on
its class (see `walk_state.advance`). A walk re-run with the same call_id replays its
records first and continues with the next untried step; it never repeats a step, and a
wait (Retry-After or backoff) still pending on its last record is waited out first.

A walk may have a deadline (epoch seconds, e.g. below its Celery task's soft time limit):
no attempt or wait starts that cannot end `DEADLINE_RESERVE_S` before it, the sender
clips each attempt's timeout with `attempt_time_left`, and a walk out of time ends like
one where everything failed (FallbackSummaryError, `deadline=True`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, Literal, TypeVar

import httpx

from orion.reliability import cooldown as cd
from orion.reliability.chain import Candidate, Profile, StepKey
from orion.reliability.classify import classify_exception
from orion.reliability.cooldown import DEFAULT_SCHEDULE, CooldownSchedule
from orion.reliability.errors import AttemptFailed, Classified, ErrorClass
from orion.reliability.ledger import AttemptRecord, CooldownStore, Ledger
from orion.reliability.redact import safe_message
from orion.reliability.retry import POLICIES, RetryPolicy
from orion.reliability.summary import FallbackSummaryError
from orion.reliability.walk_state import Effects, Outcome, WalkState, advance

__all__ = [
    "DEADLINE_RESERVE_S",
    "MIN_ATTEMPT_S",
    "Candidate",
    "FailoverWalker",
    "Profile",
    "StepKey",
    "WalkResult",
    "attempt_time_left",
]

T = TypeVar("T")
INTERRUPTED_MESSAGE = "interrupted: the worker stopped before the outcome was recorded"
DEADLINE_RESERVE_S = 0.25  # kept back from a deadline to record the outcome and report
MIN_ATTEMPT_S = 0.5  # an attempt that cannot have this long is not started


def attempt_time_left(deadline: float | None, *, now: float, cap: float) -> float:
    """The timeout for one attempt starting at `now`: `cap`, clipped by the deadline."""
    if deadline is None:
        return cap
    return max(min(cap, deadline - DEADLINE_RESERVE_S - now), 0.001)


@dataclass(frozen=True)
class WalkResult(Generic[T]):
    """`value` is None when `replayed`: the ledger already held a success for this call
    (the response itself is not in the ledger; the caller keeps it if it needs it)."""

    value: T | None
    attempts: list[AttemptRecord]
    candidate: Candidate
    profile: Profile
    replayed: bool = False


class FailoverWalker:
    def __init__(
        self,
        chain: Sequence[Candidate],
        profiles: Callable[[str], Sequence[Profile]],
        ledger: Ledger,
        cooldowns: CooldownStore,
        policy: RetryPolicy = POLICIES["model"],
        *,
        provider_policies: Mapping[str, RetryPolicy] | None = None,
        schedule: CooldownSchedule = DEFAULT_SCHEDULE,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.chain = tuple(chain)
        self.profiles = profiles
        self.ledger = ledger
        self.cooldowns = cooldowns
        self.policy = policy
        self.provider_policies = dict(provider_policies or {})
        self.schedule = schedule
        self.clock = clock
        self.sleep = sleep
        self.rand = rand

    def policy_of(self, candidate_index: int) -> RetryPolicy:
        provider = self.chain[candidate_index].provider
        return self.provider_policies.get(provider, self.policy)

    def walk(
        self,
        call_id: str,
        send: Callable[[Candidate, Profile], T],
        *,
        deadline: float | None = None,
    ) -> WalkResult[T]:
        """Run (or resume) the call. Raises FallbackSummaryError when nothing answered
        (or the deadline came first).

        `send` returns the provider's result or raises AttemptFailed; httpx transport
        errors, HTTPStatusError and OSError are classified here; any other exception is
        recorded as a failed attempt and re-raised (a bug must not pass for a provider
        failure).
        """
        if not self.chain:
            raise ValueError("model chain is empty")
        state, attempts = self._replay(call_id)
        if state.outcome == "succeeded":
            last = attempts[-1]
            return WalkResult(
                None, attempts, self.chain[last.candidate_index], self._profile(last), True
            )
        notes: list[str] = []
        if state.retry is not None and attempts:
            pending = self._pending_wait(attempts[-1])
            if pending > 0:
                if not self._fits(deadline, pending):
                    raise self._summary(attempts, state, notes, deadline=True)
                self.sleep(pending)
        seq = attempts[-1].seq if attempts else 0
        while state.outcome == "open":
            if not self._fits(deadline, 0.0):
                raise self._summary(attempts, state, notes, deadline=True)
            choice = self._choose(state, notes)
            if choice is None:
                break
            step, profile, probe = choice
            seq += 1
            record, value, classified = self._attempt(call_id, seq, step, profile, probe, send)
            attempts.append(record)
            state, effects = advance(
                state,
                step,
                Outcome(classified),
                chain=self.chain,
                policy=self.policy_of(step.candidate_index),
                probe=probe,
                rand=self.rand,
            )
            candidate = self.chain[step.candidate_index]
            self._record(effects, candidate, profile)
            if state.outcome == "succeeded":
                return WalkResult(value, attempts, candidate, profile)
            if effects.delay is not None:
                if not self._fits(deadline, effects.delay):
                    raise self._summary(attempts, state, notes, deadline=True)
                self.sleep(effects.delay)
        raise self._summary(attempts, state, notes)

    def _fits(self, deadline: float | None, wait: float) -> bool:
        """Can we wait `wait` seconds and still give an attempt MIN_ATTEMPT_S in time?"""
        if deadline is None:
            return True
        return self.clock() + wait + MIN_ATTEMPT_S + DEADLINE_RESERVE_S <= deadline

    def _summary(
        self,
        attempts: list[AttemptRecord],
        state: WalkState,
        notes: list[str],
        *,
        deadline: bool = False,
    ) -> FallbackSummaryError:
        if deadline:
            _note(notes, "the walk's deadline came before another attempt could finish")
        return FallbackSummaryError(
            attempts,
            soonest_expiry=self.soonest_expiry(),
            surfaced=state.outcome == "surfaced",
            notes=notes,
            deadline=deadline,
        )

    def _pending_wait(self, last: AttemptRecord) -> float:
        """Seconds still to wait before retrying after `last` (a resumed walk): its
        Retry-After, or the backoff's lower bound, counted from when it ended."""
        policy = self.policy_of(last.candidate_index)
        retry_after = last.retry_after if last.status == "failed" else None
        delay = policy.delay_for(last.try_no, retry_after=retry_after, rand=lambda: 0.0)
        if delay is None:
            return 0.0
        ended = last.started_at + (last.duration_ms or 0.0) / 1000.0
        return max(ended + delay - self.clock(), 0.0)

    def soonest_expiry(self) -> float | None:
        """Earliest time any (profile, model) of the chain may be tried; None: no profiles."""
        now = self.clock()
        interval = self.schedule.probe_interval_s
        soonest: float | None = None
        for candidate in self.chain:
            for profile in self.profiles(candidate.provider):
                at = max(
                    cd.next_try_at(
                        self.cooldowns.get(profile.id, scope), now=now, probe_interval=interval
                    )
                    for scope in ("", candidate.model)
                )
                soonest = at if soonest is None else min(soonest, at)
        return soonest

    # -- replay -------------------------------------------------------------------------

    def _replay(self, call_id: str) -> tuple[WalkState, list[AttemptRecord]]:
        """Re-run the recorded outcomes through `advance`: no send, no sleep, no cooldowns."""
        state = WalkState()
        attempts: list[AttemptRecord] = []
        for record in self.ledger.load(call_id):
            if not 0 <= record.candidate_index < len(self.chain):
                raise ValueError(
                    f"call {call_id}: attempt {record.seq} names candidate "
                    f"{record.candidate_index}, the chain has {len(self.chain)}"
                )
            if record.status == "started":
                record = replace(
                    record,
                    status="interrupted",
                    error_class=ErrorClass.UNKNOWN,
                    message=INTERRUPTED_MESSAGE,
                )
                self.ledger.finish(call_id, record)
            attempts.append(record)
            step = StepKey(record.candidate_index, record.profile_id, record.try_no)
            state, _ = advance(
                state,
                step,
                _outcome_of(record),
                chain=self.chain,
                policy=self.policy_of(record.candidate_index),
                probe=record.probe,
            )
            if state.outcome == "succeeded":
                break
        return state, attempts

    # -- live steps ---------------------------------------------------------------------

    def _choose(self, state: WalkState, notes: list[str]) -> tuple[StepKey, Profile, bool] | None:
        """The next step from `state`: a due retry, else the first claimable profile."""
        if state.retry is not None:
            candidate = self.chain[state.retry.candidate_index]
            for profile in self.profiles(candidate.provider):
                if profile.id == state.retry.profile_id:
                    return state.retry, profile, False
            _note(notes, f"profile {state.retry.profile_id} vanished before its retry")
            state = replace(
                state, retry=None, done_profiles=state.done_profiles | {state.retry.profile_id}
            )
        done = state.done_profiles
        for ci in range(state.candidate_index, len(self.chain)):
            candidate = self.chain[ci]
            name = f"{candidate.provider}/{candidate.model}"
            if state.min_context is not None and candidate.context_window <= state.min_context:
                _note(
                    notes,
                    f"skipped {name}: context window {candidate.context_window} "
                    f"not larger than {state.min_context}",
                )
            else:
                profiles = self.profiles(candidate.provider)
                if not profiles:
                    _note(notes, f"skipped {name}: no auth profiles for {candidate.provider}")
                for profile in profiles:
                    if profile.id in done:
                        continue
                    claim = self._claim(profile, candidate.model)
                    if claim is None:
                        _note(
                            notes, f"skipped {name} profile {profile.id}: cooling down or disabled"
                        )
                        continue
                    return StepKey(ci, profile.id, 1), profile, claim == "probe"
            done = frozenset()
        return None

    def _claim(self, profile: Profile, model: str) -> Literal["use", "probe"] | None:
        """Usable in both scopes -> "use"; each unusable scope's probe slot claimed (compare-
        and-set in the store, so one worker per slot wins) -> "probe"; else None."""
        now = self.clock()
        interval = self.schedule.probe_interval_s
        states = {scope: self.cooldowns.get(profile.id, scope) for scope in ("", model)}
        blocked = {s: st for s, st in states.items() if not cd.is_usable(st, now=now)}
        if not blocked:
            return "use"
        if not all(
            cd.probe_allowed(st, now=now, probe_interval=interval) for st in blocked.values()
        ):
            return None
        for scope in blocked:
            if not self.cooldowns.claim_probe(profile.id, scope, now=now, interval=interval):
                return None
        return "probe"

    def _attempt(
        self,
        call_id: str,
        seq: int,
        step: StepKey,
        profile: Profile,
        probe: bool,
        send: Callable[[Candidate, Profile], T],
    ) -> tuple[AttemptRecord, T | None, Classified | None]:
        """Persist "started", send, persist the outcome. Returns (record, value, failure)."""
        candidate = self.chain[step.candidate_index]
        record = AttemptRecord(
            seq=seq,
            candidate_index=step.candidate_index,
            provider=candidate.provider,
            model=candidate.model,
            profile_id=profile.id,
            try_no=step.try_no,
            status="started",
            started_at=self.clock(),
            probe=probe,
        )
        self.ledger.begin(call_id, record)  # durable before the request leaves
        value, classified = self._send(call_id, record, send, candidate, profile)
        duration_ms = max(self.clock() - record.started_at, 0.0) * 1000.0
        if classified is None:
            record = replace(record, status="succeeded", duration_ms=duration_ms)
        else:
            record = replace(
                record,
                status="failed",
                error_class=classified.error_class,
                http_status=classified.status,
                message=safe_message(classified.message),
                duration_ms=duration_ms,
                retry_after=classified.retry_after,
            )
        self.ledger.finish(call_id, record)
        return record, value, classified

    def _send(
        self,
        call_id: str,
        record: AttemptRecord,
        send: Callable[[Candidate, Profile], T],
        candidate: Candidate,
        profile: Profile,
    ) -> tuple[T | None, Classified | None]:
        try:
            return send(candidate, profile), None
        except AttemptFailed as exc:
            return None, exc.classified
        except (httpx.TransportError, httpx.HTTPStatusError, OSError) as exc:
            return None, classify_exception(exc)
        except Exception as exc:
            failed = replace(
                record,
                status="failed",
                error_class=ErrorClass.UNKNOWN,
                message=safe_message(f"{type(exc).__name__}: {exc}"),
                duration_ms=max(self.clock() - record.started_at, 0.0) * 1000.0,
            )
            self.ledger.finish(call_id, failed)
            raise

    def _record(self, effects: Effects, candidate: Candidate, profile: Profile) -> None:
        """Apply the step's outcome to the shared cooldown state (as events)."""
        if effects.success:
            for scope in ("", candidate.model):
                self.cooldowns.apply_success(profile.id, scope)
        elif effects.cool != "none" and effects.error_class is not None:
            if effects.cool == "profile":
                targets = [(profile.id, "")]
            elif effects.cool == "model":
                targets = [(profile.id, candidate.model)]
            else:
                targets = [(p.id, candidate.model) for p in self.profiles(candidate.provider)]
            now = self.clock()
            for profile_id, scope in targets:
                self.cooldowns.apply_failure(
                    profile_id,
                    scope,
                    effects.error_class,
                    now=now,
                    schedule=self.schedule,
                    retry_after=effects.retry_after,
                )

    def _profile(self, record: AttemptRecord) -> Profile:
        for profile in self.profiles(record.provider):
            if profile.id == record.profile_id:
                return profile
        return Profile(record.profile_id, record.provider)


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


def _outcome_of(record: AttemptRecord) -> Outcome:
    if record.status == "succeeded":
        return Outcome()
    if record.status == "failed" and record.error_class is not None:
        return Outcome(
            Classified.of(
                record.error_class,
                status=record.http_status,
                message=record.message,
                retry_after=record.retry_after,
            )
        )
    return Outcome(interrupted=True)  # "interrupted", or a failed record without a class
