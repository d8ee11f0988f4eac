"""The one write path for staff audit rows of platform configuration."""

from __future__ import annotations

from typing import Any

from django.db import models

from orion.core.models import StaffAuditEvent


def staff_audit_record(
    *,
    actor_user: Any,
    verb: str,
    target: models.Model,
    before: dict | None = None,
    after: dict | None = None,
) -> StaffAuditEvent:
    """Append one event. Callers pass snapshots without secrets (see agents.services)."""
    event = StaffAuditEvent(
        actor_user=actor_user,
        actor_label=(actor_user.get_username() if actor_user is not None else "system")[:200],
        verb=verb,
        target_type=target._meta.label_lower,
        target_id=str(target.pk) if target.pk is not None else "",
        target_repr=str(target)[:200],
        before=before,
        after=after,
    )
    event.save()
    return event
