"""The failover walk as a pure state machine: (state, step taken, outcome) -> next state.

Live execution and ledger replay both feed outcomes through `advance`, so a resumed walk
lands exactly where the interrupted one was. `advance` decides *what* to do; the walker
performs the side effects it returns (sleep, cooldown writes) only when live.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from orion.reliability.chain import Candidate, StepKey
from orion.reliability.errors import ACTION, PROVIDER_LEVEL, Action, Classified, ErrorClass
from orion.reliability.retry import RetryPolicy

CoolScope = Literal["none", "profile", "model", "provider"]


@dataclass(frozen=True)
class WalkState:
    candidate_index: int = 0
    done_profiles: frozenset[str] = frozenset()  # profiles finished with for this candidate
    retry: StepKey | None = None  # the next try on the same profile, when one is due
    min_context: int | None = None  # after a context overflow: windows must exceed this
    outcome: Literal["open", "succeeded", "surfaced"] = "open"


@dataclass(frozen=True)
class Outcome:
    classified: Classified | None = None  # None = success
    interrupted: bool = False  # the worker died mid-attempt: one retryable try consumed

    @property
    def succeeded(self) -> bool:
        return self.classified is None and not self.interrupted


@dataclass(frozen=True)
class Effects:
    """What the live walker must do after a step."""

    delay: float | None = None  # sleep this long, then retry the same profile
    cool: CoolScope = "none"  # profile: "" scope; model: (profile, model); provider: all
    error_class: ErrorClass | None = None
    success: bool = False
    retry_after: float | None = None  # the server's ask; a cooldown is at least this long


def advance(
    state: WalkState,
    step: StepKey,
    outcome: Outcome,
    *,
    chain: Sequence[Candidate],
    policy: RetryPolicy,
    probe: bool = False,
    rand: Callable[[], float] = lambda: 0.5,
) -> tuple[WalkState, Effects]:
    """The state after `step` ended with `outcome`, and the effects to perform.

    A probe gets exactly one try. The walker acts on `ACTION[error_class]`, never on a
    caller-supplied action, so replay from stored classes makes the same decisions.
    """
    ci = step.candidate_index
    done = state.done_profiles if ci == state.candidate_index else frozenset()
    here = replace(state, candidate_index=ci, done_profiles=done, retry=None)
    if outcome.succeeded:
        return replace(here, outcome="succeeded"), Effects(success=True)
    classified = outcome.classified
    error_class = classified.error_class if classified else ErrorClass.UNKNOWN
    asked = classified.retry_after if classified else None
    action = Action.RETRY_SAME if outcome.interrupted else ACTION[error_class]
    rotate = replace(here, done_profiles=done | {step.profile_id})
    next_candidate = replace(here, candidate_index=ci + 1, done_profiles=frozenset())

    if action is Action.RETRY_SAME:
        if not probe and policy.should_retry(step.try_no):
            retry_after = classified.retry_after if classified else None
            delay = policy.delay_for(step.try_no, retry_after=retry_after, rand=rand)
            if delay is not None:
                again = StepKey(ci, step.profile_id, step.try_no + 1)
                return replace(here, retry=again), Effects(delay=delay, error_class=error_class)
        if outcome.interrupted:
            return rotate, Effects(error_class=error_class)
        if error_class in PROVIDER_LEVEL:
            return next_candidate, Effects(
                cool="provider", error_class=error_class, retry_after=asked
            )
        # rate_limit: only that model on that profile
        return rotate, Effects(cool="model", error_class=error_class, retry_after=asked)
    if action is Action.ROTATE_PROFILE:
        return rotate, Effects(cool="profile", error_class=error_class, retry_after=asked)
    if action is Action.NEXT_MODEL:
        return next_candidate, Effects(cool="model", error_class=error_class, retry_after=asked)
    if action is Action.LARGER_MODEL:
        floor = max(chain[ci].context_window, state.min_context or 0)
        if not any(c.context_window > floor for c in chain[ci + 1 :]):
            return replace(here, outcome="surfaced"), Effects(error_class=error_class)
        return replace(next_candidate, min_context=floor), Effects(error_class=error_class)
    return replace(here, outcome="surfaced"), Effects(error_class=error_class)
