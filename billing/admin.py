"""Staff admin for billing: the price table (edits validated and audited), and read-only
usage, budgets, their monthly counters and reservations across tenants."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import Budget, BudgetPeriod, ModelPrice, Reservation, UsageEvent
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
