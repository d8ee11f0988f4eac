"""API keys an outside agent runtime uses to work the heartbeat procedure over HTTP."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class AgentApiKey(TenantOwned):
    """Only the SHA-256 of the key is stored; the key is shown once, when created."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.agent_id})"
