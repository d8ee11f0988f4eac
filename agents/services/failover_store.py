"""The reliability stack's persistence protocols, implemented with rows.

`RowLedger` writes a FailoverAttempt row before each request (committed before the request
goes out; relaxed commits, see orion.core.rows) and completes it after; a success is
completed together with the call row (`complete`), in one statement on PostgreSQL.
`RowCooldownStore` loads the cooldown rows of every profile a walk may touch in one query
and writes only what changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from agents.models import FailoverAttempt, ModelCall, ProfileCooldown
from orion.core.rows import row_insert, rows_update
from orion.reliability.cooldown import CooldownState
from orion.reliability.errors import ErrorClass
from orion.reliability.ledger import AttemptRecord


class ConcurrentWalk(Exception):
    """Two workers walk the same call (e.g. a redelivered task); the later one yields."""


_STATE_TIMES = ("cooldown_until", "disabled_until", "last_failure_at", "last_probe_at")


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class RowLedger:
    """Ledger over FailoverAttempt rows of one ModelCall."""

    def __init__(
        self, call: ModelCall, profile_pks: dict[str, int] | None = None, *, fresh: bool = False
    ) -> None:
        """`fresh`: the call row was just created, so there is nothing to load."""
        self.call = call
        self.profile_pks = profile_pks or {}
        self.fresh = fresh
        self.succeeded: AttemptRecord | None = None

    def load(self, call_id: str) -> list[AttemptRecord]:
        if self.fresh:
            return []
        rows = FailoverAttempt.objects.unscoped().filter(call=self.call).order_by("seq")
        return [
            AttemptRecord(
                seq=r.seq,
                candidate_index=r.candidate_index,
                provider=r.provider,
                model=r.model,
                profile_id=r.profile_key,
                try_no=r.try_no,
                status=r.status,
                error_class=ErrorClass(r.error_class) if r.error_class else None,
                http_status=r.http_status,
                message=r.message,
                duration_ms=r.duration_ms,
                started_at=r.started_at.timestamp(),
                retry_after=r.retry_after,
                probe=r.probe,
            )
            for r in rows
        ]

    def begin(self, call_id: str, record: AttemptRecord) -> None:
        inserted = row_insert(
            FailoverAttempt(
                tenant_id=self.call.tenant_id,
                call=self.call,
                seq=record.seq,
                candidate_index=record.candidate_index,
                provider=record.provider,
                model=record.model,
                profile_id=self.profile_pks.get(record.profile_id),
                profile_key=record.profile_id,
                try_no=record.try_no,
                status=record.status,
                probe=record.probe,
                started_at=_dt(record.started_at),
            ),
            conflict=("tenant", "call", "seq"),
            relaxed=True,
        )
        if inserted is None:
            raise ConcurrentWalk(
                f"call {call_id}: attempt {record.seq} was begun by another worker; "
                "this one stops without sending"
            )

    @staticmethod
    def _outcome(record: AttemptRecord) -> dict[str, Any]:
        return {
            "status": record.status,
            "error_class": record.error_class or "",
            "http_status": record.http_status,
            "message": record.message,
            "duration_ms": record.duration_ms,
            "retry_after": record.retry_after,
        }

    def finish(self, call_id: str, record: AttemptRecord) -> None:
        """Failures are written at once; a success waits for `complete`, which writes it
        with the answer (losing it to a crash in between loses the answer too, and the
        resumed walk then sees an interrupted attempt and asks again)."""
        if record.status == "succeeded":
            self.succeeded = record
            return
        where = {"call": self.call.pk, "seq": record.seq}
        rows_update((FailoverAttempt, where, self._outcome(record)), relaxed=True)

    def complete(self, call_values: dict[str, Any]) -> None:
        """Write the successful attempt and the call's final values together."""
        updates = [(ModelCall, {"id": self.call.pk}, call_values)]
        if self.succeeded is not None:
            where = {"call": self.call.pk, "seq": self.succeeded.seq}
            updates.insert(0, (FailoverAttempt, where, self._outcome(self.succeeded)))
        rows_update(*updates, relaxed=True)


class RowCooldownStore:
    """CooldownStore over ProfileCooldown rows, preloaded for the given profiles."""

    _COLUMNS = ("profile_id", "scope", "error_count", "disable_count", "reason", *_STATE_TIMES)

    def __init__(self, profile_ids: Iterable[str]) -> None:
        rows = ProfileCooldown.objects.filter(
            profile_id__in=[int(p) for p in profile_ids]
        ).values_list(*self._COLUMNS)
        self.states = {(str(row[0]), row[1]): self._state(*row[2:]) for row in rows}

    @staticmethod
    def _state(
        error_count: int, disable_count: int, reason: str, *times: datetime | None
    ) -> CooldownState:
        return CooldownState(
            error_count=error_count,
            disable_count=disable_count,
            reason=reason,
            **{name: _ts(value) for name, value in zip(_STATE_TIMES, times, strict=True)},
        )

    def get(self, profile_id: str, scope: str) -> CooldownState:
        return self.states.get((profile_id, scope), CooldownState())

    def put(self, profile_id: str, scope: str, state: CooldownState) -> None:
        """Write a changed state. Another worker may have cooled the same key meanwhile:
        under the row lock the stronger of the two wins (later windows, higher counts),
        so a stale view never shortens a cooldown; a reset after a success is written as is."""
        if self.states.get((profile_id, scope), CooldownState()) == state:
            return
        with transaction.atomic():
            current = (
                ProfileCooldown.objects.select_for_update()
                .filter(profile_id=int(profile_id), scope=scope)
                .values_list(*self._COLUMNS[2:])
                .first()
            )
            if current is not None and state != CooldownState():
                state = _stronger(self._state(*current), state)
            self.states[(profile_id, scope)] = state
            values = asdict(state)
            defaults = {
                "error_count": values["error_count"],
                "disable_count": values["disable_count"],
                "reason": values["reason"][:32],
                **{name: _dt(values[name]) for name in _STATE_TIMES},
            }
            ProfileCooldown.objects.update_or_create(
                profile_id=int(profile_id), scope=scope, defaults=defaults
            )


def _later(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _stronger(current: CooldownState, new: CooldownState) -> CooldownState:
    until_new = _later(new.cooldown_until, new.disabled_until) or 0.0
    until_current = _later(current.cooldown_until, current.disabled_until) or 0.0
    return CooldownState(
        error_count=max(current.error_count, new.error_count),
        disable_count=max(current.disable_count, new.disable_count),
        reason=new.reason if until_new >= until_current else current.reason,
        **{name: _later(getattr(current, name), getattr(new, name)) for name in _STATE_TIMES},
    )
