"""The reliability stack's persistence protocols, implemented with rows.

`RowLedger` writes a FailoverAttempt row before each request (autocommit: durable before
the request goes out) and completes it after. `RowCooldownStore` loads the cooldown rows
of every profile a walk may touch in one query and writes only what changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime

from agents.models import FailoverAttempt, ModelCall, ProfileCooldown
from orion.reliability.cooldown import CooldownState
from orion.reliability.errors import ErrorClass
from orion.reliability.ledger import AttemptRecord

_STATE_TIMES = ("cooldown_until", "disabled_until", "last_failure_at", "last_probe_at")


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class RowLedger:
    """Ledger over FailoverAttempt rows of one ModelCall."""

    def __init__(self, call: ModelCall, profile_pks: dict[str, int] | None = None) -> None:
        self.call = call
        self.profile_pks = profile_pks or {}

    def load(self, call_id: str) -> list[AttemptRecord]:
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
        FailoverAttempt.objects.unscoped().create(
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
        )

    def finish(self, call_id: str, record: AttemptRecord) -> None:
        FailoverAttempt.objects.unscoped().filter(call=self.call, seq=record.seq).update(
            status=record.status,
            error_class=record.error_class or "",
            http_status=record.http_status,
            message=record.message,
            duration_ms=record.duration_ms,
            retry_after=record.retry_after,
        )


class RowCooldownStore:
    """CooldownStore over ProfileCooldown rows, preloaded for the given profiles."""

    def __init__(self, profile_ids: Iterable[str]) -> None:
        rows = ProfileCooldown.objects.filter(profile_id__in=[int(p) for p in profile_ids])
        self.states = {(str(r.profile_id), r.scope): self._state(r) for r in rows}

    @staticmethod
    def _state(row: ProfileCooldown) -> CooldownState:
        return CooldownState(
            error_count=row.error_count,
            disable_count=row.disable_count,
            reason=row.reason,
            **{name: _ts(getattr(row, name)) for name in _STATE_TIMES},
        )

    def get(self, profile_id: str, scope: str) -> CooldownState:
        return self.states.get((profile_id, scope), CooldownState())

    def put(self, profile_id: str, scope: str, state: CooldownState) -> None:
        if self.states.get((profile_id, scope), CooldownState()) == state:
            return
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
