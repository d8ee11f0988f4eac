"""The staff audit log of platform configuration: read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orion.core import third_party_admin  # noqa: F401  (re-registers third-party admins)
from orion.core.models import StaffAuditEvent


@admin.register(StaffAuditEvent)
class StaffAuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "verb", "target_type", "target_repr"]
    list_filter = ["verb", "target_type"]
    search_fields = ["actor_label", "target_repr", "verb"]
    list_select_related = ["actor_user"]
    readonly_fields = [
        "at",
        "actor_user",
        "actor_label",
        "verb",
        "target_type",
        "target_id",
        "target_repr",
        "before",
        "after",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
