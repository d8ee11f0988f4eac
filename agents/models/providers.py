"""Platform-level model configuration, kept by Orion staff in the admin: providers, their
auth profiles (API keys), the cooldown state of each profile, and model chains."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from orion.core.secrets import EncryptedTextField


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible (OpenAI, GLM, Gemini, OpenRouter, Ollama)"
    ANTHROPIC = "anthropic", "Anthropic Messages"


class Provider(models.Model):
    name = models.SlugField(max_length=60, unique=True, help_text="e.g. zhipu, openai, ollama")
    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    base_url = models.URLField(help_text="API base, e.g. https://api.openai.com/v1")
    connect_timeout_s = models.FloatField(
        default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(60.0)]
    )
    # Retry policy of a model call on this provider (defaults: ARCHITECTURE.md). A walk's
    # deadline clips the per-attempt timeout further when little time is left.
    attempt_timeout_s = models.FloatField(
        "per-attempt timeout (s)",
        default=60.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(600.0)],
        help_text="longest one request may take (connect, send, wait for the answer)",
    )
    retry_attempts = models.PositiveSmallIntegerField(
        "tries per key",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="tries of one key on a retryable error (3 = one try + two retries)",
    )
    retry_floor_s = models.FloatField(
        "backoff floor (s)",
        default=0.3,
        validators=[MinValueValidator(0.05), MaxValueValidator(60.0)],
        help_text="first backoff delay; doubles per retry, with 10% jitter",
    )
    retry_cap_s = models.FloatField(
        "backoff cap (s)",
        default=30.0,
        validators=[MinValueValidator(0.05), MaxValueValidator(300.0)],
        help_text="longest backoff delay",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = {}
        floor, cap = self.retry_floor_s, self.retry_cap_s
        if floor is not None and cap is not None and floor > cap:
            problems["retry_cap_s"] = "The backoff cap must be at least the backoff floor."
        connect, attempt = self.connect_timeout_s, self.attempt_timeout_s
        if connect is not None and attempt is not None and connect > attempt:
            problems["connect_timeout_s"] = (
                "The connect timeout cannot exceed the per-attempt timeout."
            )
        if problems:
            raise ValidationError(problems)


class AuthProfile(models.Model):
    """One credential for a provider; several per provider rotate by priority."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="profiles")
    label = models.CharField(max_length=80)
    secret = EncryptedTextField(help_text="API key or OAuth token; stored encrypted")
    priority = models.PositiveSmallIntegerField(default=0, help_text="lower is tried first")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider_id", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "label"], name="authprofile_label_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.provider.name}/{self.label}"


class ProfileCooldown(models.Model):
    """Cooldown state of a profile: scope "" is the whole profile, else one model."""

    profile = models.ForeignKey(AuthProfile, on_delete=models.CASCADE, related_name="cooldowns")
    scope = models.CharField(max_length=120, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # Billing and revoked-key disables double independently (5 h to 24 h, 10 to 60 min).
    billing_disable_count = models.PositiveIntegerField(default=0)
    revoked_disable_count = models.PositiveIntegerField(default=0)
    cooldown_until = models.DateTimeField(null=True, blank=True)
    disabled_until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_probe_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "scope"], name="cooldown_profile_scope_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.profile} [{self.scope or 'all models'}]"


class ModelChain(models.Model):
    """An ordered list of (provider, model) candidates; one chain is the platform default."""

    name = models.SlugField(max_length=60, unique=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="modelchain_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChainCandidate(models.Model):
    chain = models.ForeignKey(ModelChain, on_delete=models.CASCADE, related_name="candidates")
    position = models.PositiveSmallIntegerField()
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    model = models.CharField(max_length=120)
    context_window = models.PositiveIntegerField(default=0, help_text="tokens; 0 = unknown")

    class Meta:
        ordering = ["chain_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "position"], name="candidate_position_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.provider.name}/{self.model}"
