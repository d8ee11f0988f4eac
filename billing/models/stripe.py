"""Stripe subscriptions: the plans we sell, each tenant's subscription state as Stripe last
told us, and the webhook events already handled (so a replayed event is ignored)."""

from __future__ import annotations

from datetime import time

from django.db import models

from tenants.models import TenantOwned

DEFAULT_REPORT_TIME = time(20, 0)


class Plan(models.Model):
    """A plan mapped to a Stripe recurring price (platform-wide, edited in the admin)."""

    name = models.CharField(max_length=60, unique=True)
    stripe_price_id = models.CharField(max_length=100, unique=True, help_text="price_…")
    monthly_usd = models.DecimalField(
        max_digits=8, decimal_places=2, default=0, help_text="shown to customers"
    )
    active = models.BooleanField(default=True, help_text="offered for new subscriptions")

    class Meta:
        ordering = ["monthly_usd", "name"]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    NONE = "none", "No subscription"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"


class BillingAccount(TenantOwned):
    """One per tenant: its Stripe customer and subscription as last fetched from Stripe,
    and its billing preferences (the daily report's local time).

    `grace_until` is set when the subscription is first seen past due and cleared when it
    is not: after it, the tenant's heartbeats are skipped. `subscription_created` (the
    subscription's own creation time at Stripe) decides which of two subscriptions of a
    tenant is the current one, whatever order their events arrive in."""

    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    subscription_created = models.DateTimeField(null=True, blank=True)
    stripe_price_id = models.CharField(max_length=100, blank=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    grace_until = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(
        null=True, blank=True, help_text="creation time of the last Stripe event applied"
    )
    report_time = models.TimeField(
        default=DEFAULT_REPORT_TIME, help_text="daily usage report, tenant's local time"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="billingaccount_tenant_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.get_status_display()}"


class StripeEvent(models.Model):
    """A webhook event, stored in the transaction that applied it: its id is the claim."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80)
    created = models.DateTimeField(help_text="when Stripe created the event")
    received_at = models.DateTimeField(auto_now_add=True)
    processed = models.BooleanField(default=False)
    outcome = models.CharField(max_length=200, blank=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
