"""The one save path of the platform-wide tables staff edit in the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction

from orion.core.audit import staff_audit_record

Row = TypeVar("Row", bound=models.Model)


def staff_row_save(*, row: Row, actor_user: Any, verb: str, snapshot: Callable[[Row], dict]) -> Row:
    """Validate and save `row` with a staff audit row of its snapshot before and after."""
    stored = type(row)._default_manager.filter(pk=row.pk).first() if row.pk is not None else None
    row.full_clean()
    with transaction.atomic():
        row.save()
        staff_audit_record(
            actor_user=actor_user,
            verb=verb,
            target=row,
            before=snapshot(stored) if stored is not None else None,
            after=snapshot(row),
        )
    return row
