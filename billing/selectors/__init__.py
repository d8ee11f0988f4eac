"""Reads of billing: budget room and spend, usage, subscription state."""

from billing.selectors.accounts import BillingState, billing_block_reason, billing_state
from billing.selectors.budgets import (
    budget_has_room,
    budget_overview,
    usage_between,
    usage_day,
)
from billing.selectors.usage import CSV_FIELDS, usage_range, usage_rows

__all__ = [
    "CSV_FIELDS",
    "BillingState",
    "billing_block_reason",
    "billing_state",
    "budget_has_room",
    "budget_overview",
    "usage_between",
    "usage_day",
    "usage_range",
    "usage_rows",
]
