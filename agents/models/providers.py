"""Platform-level model configuration, kept by Orion staff in the admin: providers, their
auth profiles (API keys), the cooldown state of each profile, and model chains."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from orion.core.secrets import EncryptedTextField


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible (OpenAI, GLM, Gemini, OpenRouter, Ollama)"
    ANTHROPIC = "anthropic", "Anthropic Messages"


class Provider(models.Model):
    name = models.SlugField(max_length=60, unique=True, help_text="e.g. zhipu, openai, ollama")
    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    base_url = models.URLField(help_text="API base, e.g. https://api.openai.com/v1")
    connect_timeout_s = models.FloatField(default=5.0, validators=[MinValueValidator(0.1)])
    read_timeout_s = models.FloatField(default=60.0, validators=[MinValueValidator(0.1)])
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
    disable_count = models.PositiveIntegerField(default=0)
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
