"""Reads: a tenant's subscription state, and whether billing stops its agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from billing.models import BillingAccount, Plan, SubscriptionStatus


def billing_block_reason(*, tenant_id: int, now: datetime | None = None) -> str:
    """Why billing stops the tenant's heartbeats ("" when it does not): a payment past
    due whose grace period is over. One indexed query; any scope."""
    ended = (
        BillingAccount.objects.unscoped()
        .filter(
            tenant_id=tenant_id,
            status=SubscriptionStatus.PAST_DUE,
            grace_until__lte=now or timezone.now(),
        )
        .values_list("grace_until", flat=True)
        .first()
    )
    if ended is None:
        return ""
    return f"billing: payment past due, grace period ended {ended:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class BillingState:
    account: BillingAccount
    plans: QuerySet[Plan]  # read only where a page shows the plans on offer
    past_due: bool
    blocked: bool  # the grace period is over: agents do not run


def billing_state(*, tenant_id: int, now: datetime | None = None) -> BillingState:
    """The billing page's facts (the account unsaved with defaults when there is none)."""
    now = now or timezone.now()
    account = BillingAccount.objects.select_related("plan").filter(
        tenant_id=tenant_id
    ).first() or BillingAccount(tenant_id=tenant_id)
    past_due = account.status == SubscriptionStatus.PAST_DUE
    return BillingState(
        account=account,
        plans=Plan.objects.filter(active=True),
        past_due=past_due,
        blocked=past_due and account.grace_until is not None and account.grace_until <= now,
    )
