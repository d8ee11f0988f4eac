"""Celery adapters for billing."""

from __future__ import annotations

from celery import shared_task

from billing.models import Budget
from billing.services.budgets import reservations_expire
from billing.services.reports import usage_reports_due
from billing.signals import budget_room


@shared_task(ignore_result=True)
def budgets_sweep() -> int:
    """Every minute (a PeriodicTask): expire crashed calls' reservations, then tell the
    floors above that budgets may have room (tenant_id None: any tenant; this is also how
    a new month, whose counters start at zero, resumes agents paused for budget)."""
    expired = reservations_expire()
    budget_room.send(sender=Budget, tenant_id=None)
    return expired


@shared_task(ignore_result=True)
def usage_reports_send() -> int:
    """Every 15 minutes (a PeriodicTask): the daily usage reports that fell due."""
    return usage_reports_due()
