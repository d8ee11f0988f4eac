"""One row per model call: who called what, how many tokens, what it cost."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class UsageEvent(TenantOwned):
    """Agents, runs and sessions are referenced by id: billing sits below agents.

    `key` is the model call's idempotency key, so a replayed call is never metered twice.
    `cost_micros` is micro-USD; `unpriced` marks a model missing from the price table
    (charged at the conservative unpriced rate, never free)."""

    key = models.CharField(max_length=120)
    agent_id = models.BigIntegerField(null=True, blank=True)
    run_id = models.BigIntegerField(null=True, blank=True)
    session_id = models.BigIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=60, blank=True)
    model = models.CharField(max_length=120, blank=True)
    auth_profile = models.CharField(max_length=80, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    cost_micros = models.BigIntegerField(default=0)
    unpriced = models.BooleanField(default=False)
    fell_back = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=1)
    latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="usage_tenant_key_uniq")
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="usage_tenant_time_idx"),
            models.Index(fields=["tenant", "agent_id", "created_at"], name="usage_agent_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.model} {self.cost_micros}µ$"
