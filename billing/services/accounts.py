"""A tenant's billing account and its preferences."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import BillingAccount
from tenants.models import Tenant
from tenants.scope import tenant_scope
from tenants.services.audit import audit_record


def billing_account_get(*, tenant_id: int) -> BillingAccount:
    """The tenant's account (created with the defaults on first use)."""
    with tenant_scope(tenant_id):
        account, _ = BillingAccount.objects.get_or_create(tenant_id=tenant_id)
    return account


def report_time_set(*, tenant: Tenant, report_time: time, actor_user: Any = None) -> BillingAccount:
    """When the daily usage report goes out, in the tenant's local time (minutes; audited)."""
    if not isinstance(report_time, time) or report_time.tzinfo is not None:
        raise ValidationError("The report time is a local time of day like 20:00.")
    new = report_time.replace(second=0, microsecond=0)
    billing_account_get(tenant_id=tenant.pk)
    with transaction.atomic(), tenant_scope(tenant):
        account = BillingAccount.objects.select_for_update().get()
        before = account.report_time
        account.report_time = new
        account.save(update_fields=["report_time", "updated_at"])
        audit_record(
            tenant=tenant,
            verb="billing.report_time_set",
            target=account,
            actor_user=actor_user,
            before={"report_time": f"{before:%H:%M}"},
            after={"report_time": f"{new:%H:%M}", "timezone": tenant.timezone},
        )
    return account
