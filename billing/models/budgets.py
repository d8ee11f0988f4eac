"""Monthly budgets and their counters.

A tenant's own budget is a Budget row; an agent's limit is Agent.monthly_budget_cents,
which the agent loop passes in (billing sits below agents). Spending is counted per
calendar month in the tenant's time zone in BudgetPeriod rows, one for the tenant
(agent_id 0) and one per agent, whether or not a limit applies: a limit set mid-month
sees the month's spend so far."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenants.models import TenantOwned

MAX_BUDGET_CENTS = 10_000_000  # 100,000 USD a month: anything above is a typo
MICROS_PER_CENT = 10_000
TENANT_WIDE = 0  # BudgetPeriod.agent_id of the tenant's own counter


class Budget(TenantOwned):
    """The tenant's monthly budget (all its agents together)."""

    limit_cents = models.PositiveIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_BUDGET_CENTS)]
    )
    soft_pct = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="recorded (for monitoring and the portal) when spend reaches this share",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="budget_tenant_uniq")]

    def __str__(self) -> str:
        return f"{self.limit_cents / 100:.2f} USD/month"


class BudgetPeriod(TenantOwned):
    """One month's counters, in micro-USD. Changed only by conditional UPDATEs that apply
    an event to the row's current values (reserve, settle, release), never written back
    from a read. `limit_micros` is the limit seen by the last reservation (None: none)."""

    agent_id = models.BigIntegerField(default=TENANT_WIDE)
    month = models.DateField(help_text="first day of the month, tenant's calendar")
    limit_micros = models.BigIntegerField(null=True, blank=True)
    soft_pct = models.PositiveSmallIntegerField(default=80)
    spent_micros = models.BigIntegerField(default=0)
    reserved_micros = models.BigIntegerField(default=0)
    soft_reached_at = models.DateTimeField(null=True, blank=True)
    exceeded_at = models.DateTimeField(
        null=True, blank=True, help_text="the last time a call was refused"
    )

    class Meta:
        ordering = ["-month", "agent_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent_id", "month"], name="budgetperiod_uniq"
            )
        ]

    def __str__(self) -> str:
        who = "tenant" if self.agent_id == TENANT_WIDE else f"agent {self.agent_id}"
        return f"{who} {self.month:%Y-%m}"


class ReservationStatus(models.TextChoices):
    HELD = "held", "Held"
    SETTLED = "settled", "Settled"
    EXPIRED = "expired", "Expired (the call never settled)"


class Reservation(TenantOwned):
    """The maximum cost of one model call, held against its budgets until the call
    settles; keyed by the call's idempotency key, so a replayed call reuses it. A held
    reservation past `expires_at` (its worker died) is released by the sweep."""

    key = models.CharField(max_length=120)
    agent_id = models.BigIntegerField(null=True, blank=True)
    run_id = models.BigIntegerField(null=True, blank=True)
    month = models.DateField(help_text="the BudgetPeriod month it is held against")
    amount_micros = models.BigIntegerField()
    status = models.CharField(
        max_length=8, choices=ReservationStatus.choices, default=ReservationStatus.HELD
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="reservation_tenant_key_uniq")
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="held"),
                name="reservation_held_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.amount_micros}µ$ {self.status}"
