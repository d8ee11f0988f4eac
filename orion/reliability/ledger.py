"""What the walker persists through: attempt records (Ledger) and cooldowns (CooldownStore).

The Django side implements both protocols with rows (FailoverAttempt, profile cooldown
rows); the in-memory versions here serve tests and scripts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal, Protocol

from orion.reliability import cooldown as cd
from orion.reliability.cooldown import DEFAULT_SCHEDULE, CooldownSchedule, CooldownState
from orion.reliability.errors import ErrorClass

AttemptStatus = Literal["started", "succeeded", "failed", "interrupted"]


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt of one model call. `seq` is 1-based within the call.

    `retry_after` and `probe` are the two inputs (besides the class) that decide what the
    walker does next, so a resumed walk replays the same decisions.
    """

    seq: int
    candidate_index: int
    provider: str
    model: str
    profile_id: str
    try_no: int
    status: AttemptStatus
    error_class: ErrorClass | None = None
    http_status: int | None = None
    message: str = ""
    duration_ms: float | None = None
    started_at: float = 0.0
    retry_after: float | None = None
    probe: bool = False


class Ledger(Protocol):
    def load(self, call_id: str) -> list[AttemptRecord]:
        """Every record of the call, in seq order."""
        ...

    def begin(self, call_id: str, record: AttemptRecord) -> None:
        """Persist a "started" record. Must be durable before the request is sent."""
        ...

    def finish(self, call_id: str, record: AttemptRecord) -> None:
        """Replace the record with the same seq by its final version."""
        ...


class CooldownStore(Protocol):
    """Cooldown state shared by every worker. Writes are *events* applied to the stored
    state atomically (never a state computed from an earlier read): many workers may
    fail, probe and succeed on the same key at once."""

    def get(self, profile_id: str, scope: str) -> CooldownState:
        """Scope "" is the whole profile, otherwise a model name. Unknown -> fresh state.
        May be a snapshot: use it to choose, never to write back."""
        ...

    def apply_failure(
        self,
        profile_id: str,
        scope: str,
        error_class: ErrorClass,
        *,
        now: float,
        schedule: CooldownSchedule = DEFAULT_SCHEDULE,
        retry_after: float | None = None,
    ) -> CooldownState:
        """`cooldown.record_failure` on the current stored state, atomically."""
        ...

    def claim_probe(self, profile_id: str, scope: str, *, now: float, interval: float) -> bool:
        """Compare-and-set the probe slot: True for exactly one caller per `interval`
        while the scope is cooling (never while disabled)."""
        ...

    def apply_success(self, profile_id: str, scope: str) -> None:
        """Clear the scope's state."""
        ...


class InMemoryLedger:
    def __init__(self) -> None:
        self.calls: dict[str, dict[int, AttemptRecord]] = {}

    def load(self, call_id: str) -> list[AttemptRecord]:
        records = self.calls.get(call_id, {})
        return [records[seq] for seq in sorted(records)]

    def begin(self, call_id: str, record: AttemptRecord) -> None:
        records = self.calls.setdefault(call_id, {})
        if record.seq in records:
            raise ValueError(f"attempt {record.seq} of call {call_id} already begun")
        records[record.seq] = record

    def finish(self, call_id: str, record: AttemptRecord) -> None:
        records = self.calls.get(call_id, {})
        if record.seq not in records:
            raise KeyError(f"attempt {record.seq} of call {call_id} was never begun")
        records[record.seq] = record


class InMemoryCooldownStore:
    """One process's CooldownStore: the same event semantics under a lock."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], CooldownState] = {}
        self._lock = threading.Lock()

    def get(self, profile_id: str, scope: str) -> CooldownState:
        return self.states.get((profile_id, scope), CooldownState())

    def put(self, profile_id: str, scope: str, state: CooldownState) -> None:
        """Set a state outright (tests and scripts seeding a situation)."""
        with self._lock:
            self.states[(profile_id, scope)] = state

    def apply_failure(
        self,
        profile_id: str,
        scope: str,
        error_class: ErrorClass,
        *,
        now: float,
        schedule: CooldownSchedule = DEFAULT_SCHEDULE,
        retry_after: float | None = None,
    ) -> CooldownState:
        with self._lock:
            state = cd.record_failure(
                self.get(profile_id, scope),
                error_class,
                now=now,
                schedule=schedule,
                retry_after=retry_after,
            )
            self.states[(profile_id, scope)] = state
            return state

    def claim_probe(self, profile_id: str, scope: str, *, now: float, interval: float) -> bool:
        with self._lock:
            state = self.get(profile_id, scope)
            if not cd.probe_allowed(state, now=now, probe_interval=interval):
                return False
            self.states[(profile_id, scope)] = cd.mark_probe(state, now=now)
            return True

    def apply_success(self, profile_id: str, scope: str) -> None:
        with self._lock:
            if (profile_id, scope) in self.states:
                self.states[(profile_id, scope)] = cd.record_success(self.get(profile_id, scope))
