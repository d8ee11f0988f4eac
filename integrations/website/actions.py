"""ExternalAction rows for the website tools, written on the independent connection so
that "started" is committed before the request leaves, whatever transaction the caller
holds (see orion/core/rows.py); and the connection's failure, which must outlive the
agent loop's rollback of a refused tool."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.models import ActionStatus, Connection, ExternalAction
from orion.core.rows import independent_alias, row_insert, rows_update


def action_begin(*, tenant_id: int, key: str, kind: str) -> tuple[ExternalAction, bool]:
    """The action row for `key`: (a new started row, True), or (the existing row, False)."""
    alias = independent_alias()
    row = ExternalAction(tenant_id=tenant_id, key=key, kind=kind, status=ActionStatus.STARTED)
    if row_insert(row, conflict=("tenant", "key"), using=alias) is not None:
        return row, True
    return ExternalAction.objects.unscoped().using(alias).get(tenant_id=tenant_id, key=key), False


def action_finish(
    *, action_id: int, status: str, result: dict[str, Any] | None = None, error: str = ""
) -> None:
    values: dict[str, Any] = {"status": status, "error": error[:500], "finished_at": timezone.now()}
    if result is not None:
        values["result"] = result
    rows_update((ExternalAction, {"id": action_id}, values), using=independent_alias())


def website_mark_error(*, connection_id: int, error: str, status: str) -> None:
    """Record a failed use on the independent connection (kept when the tool rolls back)."""
    now = timezone.now()
    values = {"status": status, "last_error": error[:500], "last_error_at": now, "updated_at": now}
    rows_update((Connection, {"id": connection_id}, values), using=independent_alias())
