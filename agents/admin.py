"""Staff admin for model configuration and its live state: who is cooling down, until
when, and why; every call and its attempts."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from agents.forms import AuthProfileForm, ChainCandidateFormSet
from agents.models import (
    Agent,
    AuthProfile,
    ChainCandidate,
    FailoverAttempt,
    ModelCall,
    ModelChain,
    ProfileCooldown,
    Provider,
    Run,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AuthProfileInline(admin.TabularInline):
    model = AuthProfile
    form = AuthProfileForm
    extra = 0
    fields = ["label", "secret", "priority", "enabled"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "base_url", "enabled", "profile_count"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "base_url"]
    inlines = [AuthProfileInline]

    @admin.display(description="profiles")
    def profile_count(self, obj: Provider) -> int:
        return obj.profiles.count()


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


@admin.register(AuthProfile)
class AuthProfileAdmin(admin.ModelAdmin):
    form = AuthProfileForm
    list_display = ["__str__", "priority", "enabled", "state"]
    list_filter = ["provider", "enabled"]
    search_fields = ["label", "provider__name"]
    inlines = [CooldownInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super().get_queryset(request).select_related("provider").prefetch_related("cooldowns")
        )

    @admin.display(description="state now")
    def state(self, obj: AuthProfile) -> str:
        now = timezone.now()
        active = [
            f"{c.scope or 'all models'}: {c.reason} until {timezone.localtime(until):%H:%M:%S}"
            for c in obj.cooldowns.all()
            for until in [max(t for t in (c.cooldown_until, c.disabled_until) if t)]
            if (c.cooldown_until or c.disabled_until) and until > now
        ]
        return "; ".join(active) or "usable"


@admin.register(ProfileCooldown)
class ProfileCooldownAdmin(ReadOnlyAdmin):
    list_display = ["profile", "scope", "reason", "error_count", "cooldown_until", "disabled_until"]
    list_filter = ["reason"]
    search_fields = ["profile__label", "profile__provider__name", "scope"]


class ChainCandidateInline(admin.TabularInline):
    model = ChainCandidate
    formset = ChainCandidateFormSet
    extra = 1
    fields = ["position", "provider", "model", "context_window"]


@admin.register(ModelChain)
class ModelChainAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "candidates_display"]
    inlines = [ChainCandidateInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("candidates__provider")

    @admin.display(description="candidates")
    def candidates_display(self, obj: ModelChain) -> str:
        return " → ".join(f"{c.provider.name}/{c.model}" for c in obj.candidates.all())


class UnscopedAdmin(admin.ModelAdmin):
    """Staff see every tenant's rows; the fail-closed manager is bypassed on purpose."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.model.objects.unscoped().select_related("tenant")


@admin.register(Agent)
class AgentAdmin(UnscopedAdmin):
    list_display = ["name", "tenant", "role", "status", "model_chain"]
    list_filter = ["role", "status"]
    search_fields = ["name", "tenant__name"]


@admin.register(Run)
class RunAdmin(UnscopedAdmin, ReadOnlyAdmin):
    list_display = ["pk", "tenant", "agent", "status", "started_at", "ended_at", "next_attempt_at"]
    list_filter = ["status"]


class AttemptInline(admin.TabularInline):
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


@admin.register(ModelCall)
class ModelCallAdmin(UnscopedAdmin, ReadOnlyAdmin):
    list_display = ["key", "tenant", "status", "provider", "model", "created_at", "soonest_expiry"]
    list_filter = ["status", "provider"]
    search_fields = ["key", "tenant__name"]
    inlines = [AttemptInline]
