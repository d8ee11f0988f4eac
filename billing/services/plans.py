"""Staff edits of the plans on offer."""

from __future__ import annotations

from typing import Any

from django.forms.models import model_to_dict

from billing.models import Plan
from billing.services.staff import staff_row_save


def _snapshot(plan: Plan) -> dict:
    return {k: str(v) for k, v in model_to_dict(plan, exclude=["id"]).items()}


def plan_save(*, row: Plan, actor_user: Any) -> Plan:
    """Save a plan (validated, staff-audited). A plan is withdrawn by clearing `active`,
    never deleted: accounts keep pointing at the plan they pay for."""
    return staff_row_save(row=row, actor_user=actor_user, verb="plan.saved", snapshot=_snapshot)
