"""A tenant's connection to one outside service: a messaging channel, Google, its website.

One row per tenant and kind. Secrets (bot tokens, webhook URLs, OAuth tokens, CMS
passwords) sit encrypted in `secret` as a JSON object and are never rendered back;
`config` holds what may be shown (chat id, channel, address, URL, scopes granted).
An app reports trouble by state: monitoring watches `status` and `last_error`.
"""

from __future__ import annotations

from django.db import models

from orion.core.secrets import EncryptedTextField
from tenants.models import TenantOwned


class ConnectionKind(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    DISCORD = "discord", "Discord"
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"
    GOOGLE = "google", "Google (Gmail, Calendar)"
    WEBSITE = "website", "Website"


MESSAGING_KINDS = (ConnectionKind.TELEGRAM, ConnectionKind.DISCORD, ConnectionKind.SLACK)


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    EXPIRING = "expiring", "Expiring"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"
    ERROR = "error", "Error"
    DISABLED = "disabled", "Disabled"


class Connection(TenantOwned):
    kind = models.CharField(max_length=16, choices=ConnectionKind.choices)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED
    )
    config = models.JSONField(default=dict, blank=True)
    secret = EncryptedTextField(blank=True, default="")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="connection_tenant_kind_uniq")
        ]
        indexes = [models.Index(fields=["status", "kind"], name="connection_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"
