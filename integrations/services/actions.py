"""ExternalAction rows for the tools' outside actions (a sent mail, a created event, a
WordPress draft), written on the independent connection: committed before the request
leaves, whatever transaction the agent loop holds, and kept when the tool's own writes
roll back.

A promise row, so never `relaxed`: losing it after the request left is what would make a
re-run act twice.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.models import ActionStatus, ExternalAction
from orion.core.rows import independent_alias, row_insert, rows_update

MAX_ERROR_CHARS = 500


def action_begin(
    *, tenant_id: int, key: str, kind: str, result: dict[str, Any] | None = None
) -> tuple[ExternalAction, bool]:
    """The action row for `key`: (a new started row, True), or (the existing row, False:
    an earlier run began it)."""
    alias = independent_alias()
    row = ExternalAction(
        tenant_id=tenant_id, key=key, kind=kind, status=ActionStatus.STARTED, result=result or {}
    )
    if row_insert(row, conflict=("tenant", "key"), using=alias) is not None:
        return row, True
    return ExternalAction.objects.unscoped().using(alias).get(tenant_id=tenant_id, key=key), False


def action_restart(*, action_id: int) -> None:
    rows_update(
        (ExternalAction, {"id": action_id}, {"status": ActionStatus.STARTED, "error": ""}),
        using=independent_alias(),
    )


def action_finish(
    *, action_id: int, status: str, result: dict[str, Any] | None = None, error: str = ""
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "error": error[:MAX_ERROR_CHARS],
        "finished_at": timezone.now(),
    }
    if result is not None:
        values["result"] = result
    rows_update((ExternalAction, {"id": action_id}, values), using=independent_alias())
