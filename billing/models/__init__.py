from billing.models.budgets import Budget, BudgetPeriod, Reservation, ReservationStatus
from billing.models.prices import ModelPrice
from billing.models.reports import UsageReport
from billing.models.stripe import BillingAccount, Plan, StripeEvent, SubscriptionStatus
from billing.models.usage import UsageEvent

__all__ = [
    "BillingAccount",
    "Budget",
    "BudgetPeriod",
    "ModelPrice",
    "Plan",
    "Reservation",
    "ReservationStatus",
    "StripeEvent",
    "SubscriptionStatus",
    "UsageEvent",
    "UsageReport",
]
