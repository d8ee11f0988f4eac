"""What the walker persists through: attempt records (Ledger) and cooldowns (CooldownStore).

The Django side implements both protocols with rows (FailoverAttempt, profile cooldown
rows); the in-memory versions here serve tests and scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from orion.reliability.cooldown import CooldownState
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
    def get(self, profile_id: str, scope: str) -> CooldownState:
        """Scope "" is the whole profile, otherwise a model name. Unknown -> fresh state."""
        ...

    def put(self, profile_id: str, scope: str, state: CooldownState) -> None: ...


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
    def __init__(self) -> None:
        self.states: dict[tuple[str, str], CooldownState] = {}

    def get(self, profile_id: str, scope: str) -> CooldownState:
        return self.states.get((profile_id, scope), CooldownState())

    def put(self, profile_id: str, scope: str, state: CooldownState) -> None:
        self.states[(profile_id, scope)] = state
