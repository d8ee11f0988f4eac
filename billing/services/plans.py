"""Staff edits of the plans on offer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict

from billing.models import Plan
from orion.core.audit import staff_audit_record


def _snapshot(plan: Plan) -> dict:
    return {k: str(v) for k, v in model_to_dict(plan, exclude=["id"]).items()}


def plan_save(*, row: Plan, actor_user: Any) -> Plan:
    """Save a plan (validated, staff-audited). A plan is withdrawn by clearing `active`,
    never deleted: accounts keep pointing at the plan they pay for."""
    previous = Plan.objects.filter(pk=row.pk).first() if row.pk is not None else None
    row.full_clean()
    with transaction.atomic():
        row.save()
        staff_audit_record(
            actor_user=actor_user,
            verb="plan.saved",
            target=row,
            before=_snapshot(previous) if previous else None,
            after=_snapshot(row),
        )
    return row
