from billing.models.budgets import Budget, BudgetPeriod, Reservation, ReservationStatus
from billing.models.prices import ModelPrice
from billing.models.reports import UsageReport
from billing.models.usage import UsageEvent

__all__ = [
    "Budget",
    "BudgetPeriod",
    "ModelPrice",
    "Reservation",
    "ReservationStatus",
    "UsageEvent",
    "UsageReport",
]
