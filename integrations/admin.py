"""Staff admin for integrations: connections per tenant, deliveries with their attempts,
and outside actions, across tenants and read-only.

A connection's secret is never shown here, not even masked characters of it (only whether
one is stored), and cannot be edited: the tenant connects again on its integrations page,
through the audited connection services. Deliveries and actions are records of the
Delivery path and the tools.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from integrations.models import Connection, Delivery, DeliveryAttempt, ExternalAction
from tenants.admin import ReadOnlyAdminMixin


class UnscopedReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see every tenant's rows (the fail-closed manager bypassed on purpose)."""

    list_select_related = ("tenant",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.model.objects.unscoped().select_related("tenant")


@admin.register(Connection)
class ConnectionAdmin(UnscopedReadOnlyAdmin):
    list_display = (
        "tenant", "kind", "status", "secret_state", "last_success_at", "short_error",
        "last_error_at", "updated_at",
    )  # fmt: skip
    list_filter = ("status", "kind")
    search_fields = ("tenant__name", "tenant__slug")
    # `secret` is deliberately absent.
    fields = (
        "tenant", "kind", "status", "config", "secret_state", "last_success_at",
        "last_error", "last_error_at", "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Secret")
    def secret_state(self, obj: Connection) -> str:
        stored = getattr(obj.secret, "token", obj.secret)  # an empty one reads back as Secret("")
        return "stored (encrypted, never shown)" if stored else "none"

    @admin.display(description="Last error", ordering="last_error")
    def short_error(self, obj: Connection) -> str:
        return Truncator(obj.last_error).chars(80)


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "number", "outcome", "http_status", "error", "retry_after_ms", "started_at",
        "finished_at",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return DeliveryAttempt.objects.unscoped().order_by("number")


@admin.register(Delivery)
class DeliveryAdmin(UnscopedReadOnlyAdmin):
    list_display = (
        "created_at", "tenant", "kind", "purpose", "status", "attempt_count", "key",
        "sent_at",
    )  # fmt: skip
    list_filter = ("status", "kind", "purpose")
    search_fields = ("key", "recipient", "provider_message_id", "tenant__name")
    date_hierarchy = "created_at"
    inlines = (DeliveryAttemptInline,)
    fields = (
        "tenant", "kind", "connection_id", "purpose", "key", "status", "attempt_count",
        "next_attempt_at", "recipient", "subject", "body", "provider_message_id",
        "last_error", "created_at", "sent_at",
    )  # fmt: skip
    readonly_fields = fields

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []


@admin.register(ExternalAction)
class ExternalActionAdmin(UnscopedReadOnlyAdmin):
    list_display = ("created_at", "tenant", "kind", "key", "status", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("key", "tenant__name")
    date_hierarchy = "created_at"
    fields = ("tenant", "kind", "key", "status", "result", "error", "created_at", "finished_at")
    readonly_fields = fields
