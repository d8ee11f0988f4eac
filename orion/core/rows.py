"""Single-statement row writes for hot paths, built from the model's own fields, and an
independent connection for rows that must commit whatever the caller's transaction.

The model-call ledger writes a few rows around every provider request. Through the ORM
the same writes take 2-2.6x as long (tests/bench/failover, `ledger_*`): a queryset to
build per statement, and no way to send a setting or a second statement in the same round
trip. These helpers build plain INSERT/UPDATE SQL once per model from `_meta` and adapt
values with each field's own `get_db_prep_save`, so defaults, JSON and encrypted fields
behave as with `save()`. No signals are sent: use them only where none are expected.

`relaxed=True` commits without waiting for the WAL flush on PostgreSQL (`SET LOCAL
synchronous_commit TO off`, sent in the same round trip, so the statement and the setting
share one implicit transaction). The row is committed and visible to every session at
once and survives any worker crash; only a crash of the PostgreSQL server itself within
~3 x wal_writer_delay (600 ms by default) can lose it. Use it only for rows whose loss
repeats an idempotent step (a ledger outcome: the resumed walk tries that step once more),
never for a row that is a promise ("persisted before the request leaves"), money or
messages. A later synchronous commit on the same server flushes earlier relaxed ones too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.backends.signals import connection_created
from django.db.utils import load_backend

RELAXED_PREFIX = "SET LOCAL synchronous_commit TO off; "
INDEPENDENT_ALIAS = "independent"
# A caller holding a row lock that an independent write needs (e.g. SELECT ... FOR UPDATE
# on a run the ledger row points at) would otherwise wait on itself forever.
INDEPENDENT_LOCK_TIMEOUT_MS = 5000
_inherited: list[Any] = []  # wrappers a forked child inherited: never closed nor collected


def independent_alias() -> str:
    """A database alias whose writes commit on their own, whatever transaction the caller
    holds on "default": on PostgreSQL a second connection of this thread to the same
    database (autocommit), registered thread-locally under INDEPENDENT_ALIAS.

    SQLite (embedded, single writer) gets "default": a second writer would wait for the
    caller's transaction, so there rows commit with the caller (documented limitation).
    A forked child never reuses its parent's socket: it opens its own, and keeps the
    inherited wrapper referenced so that finalising it cannot end the parent's session.
    Its lock_timeout (5 s) turns a caller that holds a lock these writes need into an
    error instead of a wait on itself.
    """
    default = connections[DEFAULT_DB_ALIAS]
    if default.vendor != "postgresql":
        return DEFAULT_DB_ALIAS
    wrapper = getattr(connections._connections, INDEPENDENT_ALIAS, None)
    if wrapper is not None and wrapper._orion_pid != os.getpid():
        _inherited.append(wrapper)
        wrapper = None
    if wrapper is None:
        backend = load_backend(default.settings_dict["ENGINE"])
        wrapper = backend.DatabaseWrapper(default.settings_dict, INDEPENDENT_ALIAS)
        wrapper._orion_pid = os.getpid()
        setattr(connections._connections, INDEPENDENT_ALIAS, wrapper)
    return INDEPENDENT_ALIAS


def _on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.alias == INDEPENDENT_ALIAS and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(INDEPENDENT_LOCK_TIMEOUT_MS)}")


connection_created.connect(_on_connect, dispatch_uid="orion.core.rows.independent")


def independent_refresh(*, idle_check_s: float = 5.0) -> None:
    """Start of a unit of work (like Django's per-request check for "default"): drop the
    independent connection if it errored or outlived CONN_MAX_AGE, and health-check it
    only when it sat idle for `idle_check_s` (a busy worker skips that round trip)."""
    wrapper = getattr(connections._connections, INDEPENDENT_ALIAS, None)
    if wrapper is None or wrapper._orion_pid != os.getpid():
        return
    now = time.monotonic()
    idle = now - getattr(wrapper, "_orion_used_at", 0.0) >= idle_check_s
    wrapper._orion_used_at = now
    if idle or wrapper.errors_occurred:
        wrapper.close_if_unusable_or_obsolete()
    elif wrapper.close_at is not None and now >= wrapper.close_at:
        wrapper.close()


def independent_close() -> None:
    """Close this thread's independent connection (tests: before the test database goes)."""
    wrapper = getattr(connections._connections, INDEPENDENT_ALIAS, None)
    if wrapper is not None and wrapper._orion_pid == os.getpid():
        wrapper.close()


def _connection(model: type[models.Model], using: str | None = None) -> Any:
    return connections[using or router.db_for_write(model)]


def _execute(conn: Any, sql: str, params: list, *, relaxed: bool, fetch: bool = False) -> Any:
    relaxed = relaxed and conn.vendor == "postgresql"
    with conn.cursor() as cursor:
        cursor.execute(RELAXED_PREFIX + sql if relaxed else sql, params)
        if not fetch:
            return None
        if relaxed:
            cursor.nextset()
        return cursor.fetchone()


@cache
def _insert_sql(model: type[models.Model], vendor: str, conflict: tuple[str, ...]) -> str:
    meta = model._meta
    conn = _connection(model)
    q = conn.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if conflict:
        columns = ", ".join(q(meta.get_field(name).column) for name in conflict)
        sql += f" ON CONFLICT ({columns}) DO NOTHING"
    return f"{sql} RETURNING {q(meta.pk.column)}"


def row_insert(
    obj: models.Model,
    *,
    conflict: Sequence[str] = (),
    relaxed: bool = False,
    using: str | None = None,
    then_select: tuple[str, list] | None = None,
) -> int | tuple[int | None, list[tuple]] | None:
    """INSERT `obj` in one statement and set its pk. With `conflict` (field names of a
    unique constraint) an existing row wins: nothing is written and None is returned.

    `then_select` (PostgreSQL only): a SELECT sent in the same round trip, after the
    insert; the result is then `(pk or None, its rows)`."""
    model = type(obj)
    conn = _connection(model, using)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    sql = _insert_sql(model, conn.vendor, tuple(conflict))
    selected: list[tuple] = []
    if then_select is not None:
        if conn.vendor != "postgresql":
            raise ValueError("then_select needs PostgreSQL (several statements per call)")
        prefix = RELAXED_PREFIX if relaxed else ""
        with conn.cursor() as cursor:
            cursor.execute(f"{prefix}{sql}; {then_select[0]}", [*params, *then_select[1]])
            if relaxed:
                cursor.nextset()
            row = cursor.fetchone()
            cursor.nextset()
            selected = cursor.fetchall()
    else:
        row = _execute(conn, sql, params, relaxed=relaxed, fetch=True)
    if row is not None:
        obj.pk = row[0]
        obj._state.adding, obj._state.db = False, conn.alias
    pk = None if row is None else obj.pk
    return (pk, selected) if then_select is not None else pk


def _update(
    model: type[models.Model], where: Mapping[str, Any], values: Mapping[str, Any], conn: Any
) -> tuple[str, list]:
    meta = model._meta
    q = conn.ops.quote_name
    sets, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        sets.append(f"{q(field.column)} = %s")
        params.append(field.get_db_prep_save(value, conn))
    conditions = []
    for name, value in where.items():
        field = meta.get_field(name)
        conditions.append(f"{q(field.column)} = %s")
        params.append(field.get_db_prep_value(value, conn))
    table = q(meta.db_table)
    sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}"
    return sql, params


def rows_update(
    *updates: tuple[type[models.Model], Mapping[str, Any], Mapping[str, Any]],
    relaxed: bool = False,
    using: str | None = None,
) -> None:
    """Apply `(model, where, values)` updates together: one statement on PostgreSQL (data-
    modifying CTEs), one transaction elsewhere."""
    conn = _connection(updates[0][0], using)
    parts = [_update(model, where, values, conn) for model, where, values in updates]
    if conn.vendor == "postgresql" and len(parts) > 1:
        ctes = ", ".join(f"u{i} AS ({sql} RETURNING 1)" for i, (sql, _) in enumerate(parts[:-1]))
        params = [p for _, ps in parts for p in ps]
        _execute(conn, f"WITH {ctes} {parts[-1][0]}", params, relaxed=relaxed)
        return
    if len(parts) == 1:
        _execute(conn, *parts[0], relaxed=relaxed)
        return
    with transaction.atomic(using=conn.alias):
        for sql, params in parts:
            _execute(conn, sql, params, relaxed=False)
