"""Staff admin for tenants. Thin: reads through explicit `unscoped()` querysets, and the
only write it allows (a tenant's name, time zone, plan, status and heartbeat kill switch)
is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from tenants.models import AuditEvent, Invitation, Membership, Tenant
from tenants.services.audit import audit_record


class ReadOnlyAdminMixin:
    """View-only: staff look, services change."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = (
        "name", "slug", "plan", "status", "heartbeats_paused", "member_count", "created_at",
    )  # fmt: skip
    list_filter = ("plan", "status", "heartbeats_paused")
    search_fields = ("name", "slug")
    fields = (
        "name", "slug", "timezone", "plan", "status", "heartbeats_paused",
        "heartbeat_concurrency", "created_at",
    )  # fmt: skip
    # Concurrency is shown, not edited here: a plan sets it (a form without it stays valid).
    readonly_fields = ("slug", "heartbeat_concurrency", "created_at")
    inlines = (MembershipInline,)
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Tenant) -> int:
        return obj.member_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a tenant is born at sign-up, with its owner

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # close it (status) instead: deleting would drop its audit trail

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        changed = list(form.changed_data)
        before = {name: form.initial.get(name) for name in changed}
        super().save_model(request, obj, form, change)
        if change and changed:
            audit_record(
                tenant=obj,
                verb="tenant.staff_changed",
                target=obj,
                actor_user=request.user,
                before=before,
                after={name: form.cleaned_data[name] for name in changed},
            )


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user_email", "tenant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "tenant__name", "tenant__slug")
    list_select_related = ("user", "tenant")

    @admin.display(description="User", ordering="user__email")
    def user_email(self, obj: Membership) -> str:
        return obj.user.email


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("email", "tenant", "role", "state", "invited_by", "created_at", "expires_at")
    list_filter = ("role",)
    search_fields = ("email", "tenant__name", "tenant__slug")
    list_select_related = ("tenant", "invited_by")
    # token_hash is deliberately absent: never shown, not even hashed.
    fields = (
        "tenant", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
        "revoked_at",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return Invitation.objects.unscoped().select_related("tenant", "invited_by")

    @admin.display(description="State")
    def state(self, obj: Invitation) -> str:
        if obj.accepted_at:
            return "accepted"
        if obj.revoked_at:
            return "withdrawn"
        return "pending" if obj.is_pending else "expired"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "at",
        "tenant",
        "actor_type",
        "actor_label",
        "verb",
        "target_type",
        "target_repr",
    )
    list_filter = ("verb", "actor_type", "tenant")
    search_fields = ("actor_label", "verb", "target_repr", "target_id", "tenant__name")
    list_select_related = ("tenant",)
    date_hierarchy = "at"
    fields = (
        "at", "tenant", "actor_type", "actor_user", "actor_label", "verb", "target_type",
        "target_id", "target_repr", "before", "after",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return AuditEvent.objects.unscoped().select_related("tenant")
