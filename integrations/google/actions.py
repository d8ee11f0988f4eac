"""ExternalAction rows for Google's outside actions (a sent mail, a created event),
written on the independent connection: committed before the request leaves, whatever
transaction the agent loop holds (and kept when the tool's own writes roll back).

A promise row, so never `relaxed`: losing it after the request left is what would make a
re-run act twice.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.models import ActionStatus, ExternalAction
from orion.core.rows import independent_alias, row_insert, rows_update


def action_begin(
    *, tenant_id: int, key: str, kind: str, result: dict[str, Any]
) -> tuple[ExternalAction, bool]:
    """The action's row and whether this call created it (False: an earlier run did)."""
    using = independent_alias()
    row = ExternalAction(tenant_id=tenant_id, key=key, kind=kind, result=result)
    if row_insert(row, conflict=("tenant", "key"), using=using) is not None:
        return row, True
    existing = ExternalAction.objects.unscoped().using(using).get(tenant_id=tenant_id, key=key)
    return existing, False


def action_restart(*, action_id: int) -> None:
    rows_update(
        (ExternalAction, {"id": action_id}, {"status": ActionStatus.STARTED, "error": ""}),
        using=independent_alias(),
    )


def action_finish(
    *, action_id: int, status: str, result: dict[str, Any] | None = None, error: str = ""
) -> None:
    values: dict[str, Any] = {"status": status, "error": error[:500], "finished_at": timezone.now()}
    if result is not None:
        values["result"] = result
    rows_update((ExternalAction, {"id": action_id}, values), using=independent_alias())
