"""FallbackSummaryError: every attempt of a failed model call, and when to try again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from orion.reliability.errors import ErrorClass
from orion.reliability.ledger import AttemptRecord
from orion.reliability.redact import safe_message


class FallbackSummaryError(Exception):
    """No candidate of the chain produced an answer (or a failure was surfaced at once).

    `soonest_expiry` (epoch seconds) is the earliest time any profile of any candidate
    lets a walker try again (its cooldown or disable ends, or its next recovery probe
    slot), considering both the profile and the (profile, model) scope; it is the current
    time when something is usable already (e.g. a surfaced content_policy failure), and
    None when the chain has no profiles at all.
    """

    def __init__(
        self,
        attempts: Sequence[AttemptRecord],
        soonest_expiry: float | None = None,
        surfaced: bool = False,
        notes: Sequence[str] = (),
        deadline: bool = False,
    ) -> None:
        self.attempts = list(attempts)
        self.soonest_expiry = soonest_expiry
        self.surfaced = surfaced
        self.deadline = deadline  # the walk ran out of time, not out of candidates
        self.notes = list(notes)
        self.last_class: ErrorClass | None = next(
            (a.error_class for a in reversed(self.attempts) if a.error_class is not None), None
        )
        super().__init__(self.render())

    def __reduce__(self):  # picklable for Celery result backends
        return (
            type(self),
            (self.attempts, self.soonest_expiry, self.surfaced, self.notes, self.deadline),
        )

    def render(self) -> str:
        n = len(self.attempts)
        last = self.last_class or "none"
        if self.surfaced:
            head = f"model call failed with {last} after {n} attempt(s); no fallback can fix it"
        elif self.deadline:
            head = (
                f"model call ran out of time: {n} attempt(s) before the walk's deadline, "
                f"last error {last}, soonest retry {_when(self.soonest_expiry)}"
            )
        else:
            head = (
                f"all model candidates failed: {n} attempt(s), last error {last}, "
                f"soonest retry {_when(self.soonest_expiry)}"
            )
        lines = [
            head,
            *(_line(a) for a in self.attempts),
            *(f"  note: {note}" for note in self.notes),
        ]
        return "\n".join(lines)


def _line(a: AttemptRecord) -> str:
    duration = "-" if a.duration_ms is None else f"{a.duration_ms:.0f}ms"
    probe = " probe" if a.probe else ""
    return (
        f"  #{a.seq} {a.provider}/{a.model} profile={a.profile_id} try={a.try_no}{probe} "
        f"{a.status} class={a.error_class or '-'} http={a.http_status or '-'} {duration}: "
        f"{safe_message(a.message) or '-'}"
    )


def _when(at: float | None) -> str:
    if at is None:
        return "unknown"
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
