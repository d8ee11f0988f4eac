"""Staff admin for billing: the price table and the plans (edits validated and audited),
and read-only usage, budgets, their monthly counters, reservations, each tenant's Stripe
state and the Stripe events received, across tenants."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from billing.models import (
    BillingAccount,
    Budget,
    BudgetPeriod,
    ModelPrice,
    Plan,
    Reservation,
    StripeEvent,
    SubscriptionStatus,
    UsageEvent,
    UsageReport,
)
from billing.services.plans import plan_save
from billing.services.prices import model_price_save
from tenants.admin import ReadOnlyAdminMixin


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = (
        "model", "provider", "input_usd_per_mtok", "output_usd_per_mtok",
        "cached_input_usd_per_mtok", "local", "updated_at",
    )  # fmt: skip
    list_filter = ("local", "provider")
    search_fields = ("model", "provider")

    def save_model(self, request: HttpRequest, obj: ModelPrice, form: Any, change: bool) -> None:
        model_price_save(row=obj, actor_user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a missing row makes the model "unpriced": change the prices instead


class UnscopedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.model.objects.unscoped().select_related("tenant")


@admin.register(UsageEvent)
class UsageEventAdmin(UnscopedAdmin):
    list_display = (
        "created_at", "tenant", "agent_id", "provider", "model", "input_tokens",
        "output_tokens", "cost_micros", "unpriced", "fell_back", "attempts", "latency_ms",
    )  # fmt: skip
    list_filter = ("unpriced", "fell_back", "provider")
    search_fields = ("model", "key", "tenant__name")
    date_hierarchy = "created_at"


@admin.register(Budget)
class BudgetAdmin(UnscopedAdmin):
    list_display = ("tenant", "limit_cents", "soft_pct", "updated_at")
    search_fields = ("tenant__name",)


@admin.register(BudgetPeriod)
class BudgetPeriodAdmin(UnscopedAdmin):
    list_display = (
        "tenant", "agent_id", "month", "limit_micros", "spent_micros", "reserved_micros",
        "soft_reached_at", "exceeded_at",
    )  # fmt: skip
    list_filter = ("month",)
    search_fields = ("tenant__name",)


@admin.register(Reservation)
class ReservationAdmin(UnscopedAdmin):
    list_display = ("key", "tenant", "agent_id", "amount_micros", "status", "expires_at")
    list_filter = ("status",)
    search_fields = ("key", "tenant__name")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "stripe_price_id", "monthly_usd", "active")
    list_filter = ("active",)
    search_fields = ("name", "stripe_price_id")

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        plan_save(row=obj, actor_user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # withdraw a plan by clearing "active"


class AgentsStoppedFilter(admin.SimpleListFilter):
    title = "agents stopped by billing"
    parameter_name = "stopped"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes (grace period over)"), ("grace", "In the grace period")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        past_due = queryset.filter(status=SubscriptionStatus.PAST_DUE)
        if self.value() == "yes":
            return past_due.filter(grace_until__lte=timezone.now())
        if self.value() == "grace":
            return past_due.filter(grace_until__gt=timezone.now())
        return queryset


@admin.register(BillingAccount)
class BillingAccountAdmin(UnscopedAdmin):
    """Each tenant's Stripe state as last fetched from Stripe (changed only by webhooks)."""

    list_display = (
        "tenant", "status", "plan", "agents_stopped", "grace_until", "current_period_end",
        "last_event_at", "stripe_customer_id", "stripe_subscription_id", "report_time",
    )  # fmt: skip
    list_filter = ("status", AgentsStoppedFilter, "plan")
    search_fields = ("tenant__name", "stripe_customer_id", "stripe_subscription_id")
    list_select_related = ("tenant", "plan")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("plan")

    @admin.display(boolean=True, description="agents stopped")
    def agents_stopped(self, obj: BillingAccount) -> bool:
        return (
            obj.status == SubscriptionStatus.PAST_DUE
            and obj.grace_until is not None
            and obj.grace_until <= timezone.now()
        )


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event_id", "type", "created", "received_at", "processed", "outcome", "tenant")
    list_filter = ("processed", "type")
    search_fields = ("event_id", "outcome", "tenant__name")
    list_select_related = ("tenant",)
    date_hierarchy = "received_at"


@admin.register(UsageReport)
class UsageReportAdmin(UnscopedAdmin):
    """Which daily reports went out (sent_at empty: the outbound path refused it)."""

    list_display = ("tenant", "day", "recipients", "sent_at", "created_at")
    list_filter = ("day",)
    search_fields = ("tenant__name",)
    date_hierarchy = "day"
