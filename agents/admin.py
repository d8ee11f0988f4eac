"""Staff admin for model configuration and its live state: who is cooling down, until
when, and why; every call and its attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from agents.forms import AuthProfileForm, ChainCandidateFormSet, ModelChainForm
from agents.models import (
    AuthProfile,
    ChainCandidate,
    FailoverAttempt,
    ModelCall,
    ModelChain,
    ProfileCooldown,
    Provider,
)
from agents.services.model_config import (
    auth_profile_delete,
    auth_profile_save,
    chain_candidates_save,
    cooldown_reset,
    model_chain_delete,
    model_chain_save,
    provider_delete,
    provider_save,
)
from tenants.admin import ReadOnlyAdminMixin


class StaffAdmin(admin.ModelAdmin):
    """A POST that comes back with form or inline errors answers 400, not 200 (the admin's
    context holds an AdminForm wrapper, which the project's status middleware cannot see)."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if request.method == "POST" and response.status_code == 200 and context.get("errors"):
            response.status_code = 400
        return response


class ReadOnlyAdmin(ReadOnlyAdminMixin, StaffAdmin):
    """Records (runs, calls and their attempt ledger): look, never edit or delete."""


class CooldownStateAdmin(StaffAdmin):
    """Cooldown state: not edited by hand, but deleting a row is the manual reset
    (audited)."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ProfileCooldown) -> None:
        cooldown_reset(cooldown=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset.select_related("profile__provider"):
            cooldown_reset(cooldown=obj, actor=request.user)


class AuditedInlinesMixin:
    """Inline rows of the audited models are saved and deleted through their services."""

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if formset.model is AuthProfile:
            for obj in formset.save(commit=False):
                auth_profile_save(profile=obj, actor=request.user)
            for obj in formset.deleted_objects:
                auth_profile_delete(profile=obj, actor=request.user)
        elif formset.model is ProfileCooldown:
            formset.save(commit=False)
            for obj in formset.deleted_objects:
                cooldown_reset(cooldown=obj, actor=request.user)
        elif formset.model is ChainCandidate:
            saved = formset.save(commit=False)
            chain_candidates_save(
                chain=formset.instance,
                saved=saved,
                deleted=formset.deleted_objects,
                actor=request.user,
            )
        else:
            super().save_formset(request, form, formset, change)


class AuthProfileInline(admin.TabularInline):
    model = AuthProfile
    form = AuthProfileForm
    extra = 0
    fields = ["label", "secret", "priority", "enabled"]


@admin.register(Provider)
class ProviderAdmin(AuditedInlinesMixin, StaffAdmin):
    list_display = ["name", "kind", "base_url", "enabled", "profile_count"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "base_url"]
    inlines = [AuthProfileInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "kind", "base_url", "enabled"]}),
        (
            "Retry policy of model calls (defaults: 3 tries, 0.3 s floor, 30 s cap, 60 s)",
            {
                "fields": [
                    "retry_attempts",
                    "retry_floor_s",
                    "retry_cap_s",
                    "attempt_timeout_s",
                    "connect_timeout_s",
                ]
            },
        ),
    ]

    def save_model(
        self, request: HttpRequest, obj: Provider, form: ModelForm, change: bool
    ) -> None:
        provider_save(provider=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Provider) -> None:
        provider_delete(provider=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            provider_delete(provider=obj, actor=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(profile_count=Count("profiles"))

    @admin.display(description="profiles", ordering="profile_count")
    def profile_count(self, obj: Provider) -> int:
        return obj.profile_count


class CooldownInline(admin.TabularInline):
    model = ProfileCooldown
    extra = 0
    can_delete = True
    readonly_fields = [
        "scope",
        "reason",
        "error_count",
        "cooldown_until",
        "disabled_until",
        "last_failure_at",
        "last_probe_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _until(moment: datetime, now: datetime) -> str:
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime(now).date():
        return f"{local:%H:%M:%S}"
    return f"{local:%Y-%m-%d %H:%M:%S}"


@admin.register(AuthProfile)
class AuthProfileAdmin(AuditedInlinesMixin, StaffAdmin):
    form = AuthProfileForm
    list_display = ["__str__", "priority", "enabled", "state"]
    list_filter = ["provider", "enabled"]
    search_fields = ["label", "provider__name"]
    inlines = [CooldownInline]

    def save_model(
        self, request: HttpRequest, obj: AuthProfile, form: ModelForm, change: bool
    ) -> None:
        auth_profile_save(profile=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: AuthProfile) -> None:
        auth_profile_delete(profile=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset.select_related("provider"):
            auth_profile_delete(profile=obj, actor=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super().get_queryset(request).select_related("provider").prefetch_related("cooldowns")
        )

    @admin.display(description="state now")
    def state(self, obj: AuthProfile) -> str:
        now = timezone.now()
        active = []
        for c in obj.cooldowns.all():
            times = [t for t in (c.cooldown_until, c.disabled_until) if t is not None]
            until = max(times, default=None)
            if until is not None and until > now:
                active.append(f"{c.scope or 'all models'}: {c.reason} until {_until(until, now)}")
        return "; ".join(active) or "usable"


@admin.register(ProfileCooldown)
class ProfileCooldownAdmin(CooldownStateAdmin):
    list_display = ["profile", "scope", "reason", "error_count", "cooldown_until", "disabled_until"]
    list_filter = ["reason"]
    list_select_related = ["profile__provider"]
    search_fields = ["profile__label", "profile__provider__name", "scope"]


class ChainCandidateInline(admin.TabularInline):
    model = ChainCandidate
    formset = ChainCandidateFormSet
    extra = 1
    fields = ["position", "provider", "model", "context_window"]


@admin.register(ModelChain)
class ModelChainAdmin(AuditedInlinesMixin, StaffAdmin):
    form = ModelChainForm
    list_display = ["name", "is_default", "candidates_display"]
    inlines = [ChainCandidateInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("candidates__provider")

    @admin.display(description="candidates")
    def candidates_display(self, obj: ModelChain) -> str:
        return " → ".join(f"{c.provider.name}/{c.model}" for c in obj.candidates.all())

    def save_model(
        self, request: HttpRequest, obj: ModelChain, form: ModelForm, change: bool
    ) -> None:
        model_chain_save(chain=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: ModelChain) -> None:
        model_chain_delete(chain=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            model_chain_delete(chain=obj, actor=request.user)


class UnscopedForeignKeys:
    """A foreign key to a tenant-owned model gets its choices through `unscoped()`.

    `ForeignKey.formfield()` builds its default queryset from the fail-closed manager
    before any override applies, so outside a tenant scope it raises; the field is built
    here instead (forms narrow the choices to the row's tenant where it matters).
    """

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> Any:
        manager = db_field.related_model._default_manager
        if not hasattr(manager, "unscoped"):
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs.setdefault("queryset", manager.unscoped())
        kwargs.setdefault("to_field_name", db_field.remote_field.field_name)
        kwargs.setdefault("form_class", forms.ModelChoiceField)
        kwargs.setdefault("blank", db_field.blank)
        return super(models.ForeignKey, db_field).formfield(**kwargs)


class UnscopedAdmin(UnscopedForeignKeys, StaffAdmin):
    """Staff see every tenant's rows; the fail-closed manager is bypassed on purpose."""

    list_select_related: Any = ["tenant"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.model.objects.unscoped()


class AttemptInline(UnscopedForeignKeys, admin.TabularInline):
    model = FailoverAttempt
    extra = 0
    can_delete = False
    fields = [
        "seq",
        "provider",
        "model",
        "profile_key",
        "try_no",
        "status",
        "error_class",
        "http_status",
        "message",
        "duration_ms",
        "retry_after",
        "probe",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return FailoverAttempt.objects.unscoped().order_by("seq")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ModelCall)
class ModelCallAdmin(UnscopedAdmin, ReadOnlyAdmin):
    list_display = ["key", "tenant", "status", "provider", "model", "created_at", "soonest_expiry"]
    list_filter = ["status", "provider"]
    search_fields = ["key", "tenant__name"]
    inlines = [AttemptInline]


from agents import admin_control  # noqa: E402,F401
