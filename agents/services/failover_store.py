"""The reliability stack's persistence protocols, implemented with rows.

Both write on `orion.core.rows.independent_alias()`: on PostgreSQL a connection of their
own, so what they write commits at once whatever transaction the caller holds on
"default" (a heartbeat may run inside `atomic()`), and other workers see it.

`RowLedger` commits a FailoverAttempt row durably (synchronous commit) before each
request leaves, and completes it after the answer with a relaxed commit (see
orion.core.rows): losing an outcome to a database crash only makes the resumed walk see
an interrupted attempt and try that step once more. A success is completed together
with the call row (`complete`), in one statement on PostgreSQL.
`RowCooldownStore`: see its docstring."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from django.db import connections, transaction
from django.db.models import Q

from agents.models import FailoverAttempt, ModelCall, ProfileCooldown
from orion.core.rows import independent_alias, row_insert, rows_update
from orion.reliability.cooldown import (
    DEFAULT_SCHEDULE,
    CooldownSchedule,
    CooldownState,
    record_failure,
)
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
        self,
        call: ModelCall,
        profile_pks: dict[str, int] | None = None,
        *,
        fresh: bool = False,
        using: str | None = None,
    ) -> None:
        """`fresh`: the call row was just created, so there is nothing to load."""
        self.using = using or independent_alias()
        self.call = call
        self.profile_pks = profile_pks or {}
        self.fresh = fresh
        self.succeeded: AttemptRecord | None = None

    def load(self, call_id: str) -> list[AttemptRecord]:
        if self.fresh:
            return []
        rows = (
            FailoverAttempt.objects.unscoped()
            .using(self.using)
            .filter(call=self.call)
            .order_by("seq")
        )
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
            relaxed=False,  # durable: the promise is "persisted before the request leaves"
            using=self.using,
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
        rows_update((FailoverAttempt, where, self._outcome(record)), relaxed=True, using=self.using)

    def complete(self, call_values: dict[str, Any]) -> None:
        """Write the successful attempt and the call's final values together."""
        updates = [(ModelCall, {"id": self.call.pk}, call_values)]
        if self.succeeded is not None:
            where = {"call": self.call.pk, "seq": self.succeeded.seq}
            updates.insert(0, (FailoverAttempt, where, self._outcome(self.succeeded)))
        rows_update(*updates, relaxed=True, using=self.using)


def snapshot_query(conn: Any, profile_ids: Iterable[str | int]) -> tuple[str, list]:
    """PostgreSQL: the cooldown snapshot of these profiles as plain SQL (it is on every
    call's hot path; timestamptz arrives as aware datetimes)."""
    q = conn.ops.quote_name
    meta = ProfileCooldown._meta
    columns = ", ".join(q(meta.get_field(name).column) for name in RowCooldownStore._COLUMNS)
    sql = (
        f"SELECT {columns} FROM {q(meta.db_table)} "  # noqa: S608 - names from _meta
        f"WHERE {q(meta.get_field('profile').column)} = ANY(%s)"
    )
    return sql, [[int(p) for p in profile_ids]]


class RowCooldownStore:
    """CooldownStore over ProfileCooldown rows on the independent connection.

    `get` answers from a snapshot loaded once per walk (one query) and refreshed by this
    store's own writes; it only steers the choice of a key. Every change is an *event*
    applied to the row's current state: a failure under the row lock (read-modify-write
    in one short transaction), a probe claim and a success reset as conditional UPDATEs.
    So a stale snapshot never extends, shortens or double-claims anything."""

    _COLUMNS = (
        "profile_id",
        "scope",
        "error_count",
        "billing_disable_count",
        "revoked_disable_count",
        "reason",
        *_STATE_TIMES,
    )

    def __init__(
        self,
        profile_ids: Iterable[str],
        *,
        using: str | None = None,
        rows: Iterable[tuple] | None = None,
    ) -> None:
        """`rows`: the snapshot already read with `snapshot_query` (e.g. in the same round
        trip as the call row's insert); otherwise it is read here."""
        self.using = using or independent_alias()
        ids = [int(p) for p in profile_ids]
        conn = connections[self.using]
        if rows is None and conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute(*snapshot_query(conn, ids))
                rows = cursor.fetchall()
        elif rows is None:
            rows = (
                ProfileCooldown.objects.using(self.using)
                .filter(profile_id__in=ids)
                .values_list(*self._COLUMNS)
            )
        self.states = {(str(row[0]), row[1]): self._state(*row[2:]) for row in rows}

    @staticmethod
    def _state(
        error_count: int,
        billing_disable_count: int,
        revoked_disable_count: int,
        reason: str,
        *times: datetime | None,
    ) -> CooldownState:
        return CooldownState(
            error_count=error_count,
            billing_disable_count=billing_disable_count,
            revoked_disable_count=revoked_disable_count,
            reason=reason,
            **{name: _ts(value) for name, value in zip(_STATE_TIMES, times, strict=True)},
        )

    @staticmethod
    def _values(state: CooldownState) -> dict[str, Any]:
        values = asdict(state)
        return {
            "error_count": values["error_count"],
            "billing_disable_count": values["billing_disable_count"],
            "revoked_disable_count": values["revoked_disable_count"],
            "reason": values["reason"][:32],
            **{name: _dt(values[name]) for name in _STATE_TIMES},
        }

    def _rows(self, profile_id: str, scope: str) -> Any:
        return ProfileCooldown.objects.using(self.using).filter(
            profile_id=int(profile_id), scope=scope
        )

    def get(self, profile_id: str, scope: str) -> CooldownState:
        return self.states.get((profile_id, scope), CooldownState())

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
        with transaction.atomic(using=self.using):
            row, _ = (
                ProfileCooldown.objects.using(self.using)
                .select_for_update()
                .get_or_create(profile_id=int(profile_id), scope=scope)
            )
            current = self._state(*(getattr(row, name) for name in self._COLUMNS[2:]))
            state = record_failure(
                current, error_class, now=now, schedule=schedule, retry_after=retry_after
            )
            if state != current:
                self._rows(profile_id, scope).update(**self._values(state))
        self.states[(profile_id, scope)] = state
        return state

    def claim_probe(self, profile_id: str, scope: str, *, now: float, interval: float) -> bool:
        """Compare-and-set: the row is cooling (not disabled) and its last probe is at least
        `interval` old; the UPDATE's row count says whether this worker won the slot."""
        at = _dt(now)
        won = (
            self._rows(profile_id, scope)
            .filter(cooldown_until__gt=at)
            .filter(Q(disabled_until__isnull=True) | Q(disabled_until__lte=at))
            .filter(Q(last_probe_at__isnull=True) | Q(last_probe_at__lte=_dt(now - interval)))
            .update(last_probe_at=at)
        )
        if won:
            self.states[(profile_id, scope)] = replace(
                self.get(profile_id, scope), last_probe_at=now
            )
        return bool(won)

    def apply_success(self, profile_id: str, scope: str) -> None:
        """A success clears the row (only rows this walk saw as not fresh are written)."""
        if self.get(profile_id, scope) == CooldownState():
            return
        self._rows(profile_id, scope).update(**self._values(CooldownState()))
        self.states[(profile_id, scope)] = CooldownState()
