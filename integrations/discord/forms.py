"""Discord settings: the channel's webhook URL, which is itself the secret."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings

from integrations.portal.channel_forms import ChannelForm, secret_input

PATH = re.compile(r"^/api/webhooks/(?P<id>\d{5,25})/(?P<token>[A-Za-z0-9_-]{20,120})/?$")
_DISCORD = "https://discord.com"


def webhook_bases() -> list[str]:
    """The provider's origins a webhook URL may start with: the configured API base, and
    for the real Discord also its old domain."""
    base = settings.ORION_DISCORD_API_BASE.rstrip("/")
    return [base, "https://discordapp.com"] if base == _DISCORD else [base]


def webhook_parse(url: str) -> tuple[str, str] | None:
    """(webhook id, token) of a Discord webhook URL, or None when it is not one."""
    for base in webhook_bases():
        if url.startswith(f"{base}/"):
            match = PATH.match(url[len(base) :])
            return (match["id"], match["token"]) if match else None
    return None


class DiscordForm(ChannelForm):
    secret_fields = ("webhook_url",)

    webhook_url = forms.CharField(
        label="Webhook URL",
        max_length=300,
        widget=secret_input(),
        strip=True,
        help_text="In Discord: the channel's settings → Integrations → Webhooks → Copy "
        "Webhook URL.",
    )

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"]
        if url and webhook_parse(url) is None:
            raise forms.ValidationError(
                f"This is not a Discord webhook URL: it must look like "
                f"{webhook_bases()[0]}/api/webhooks/<number>/<token>."
            )
        return url

    def config(self) -> dict[str, Any]:
        if not self.secret_given() and self.connection is not None:
            return dict(self.connection.config)
        webhook_id, _ = webhook_parse(self.cleaned_data["webhook_url"])
        return {"webhook_id": webhook_id}

    def secret_values(self) -> dict[str, Any]:
        webhook_id, token = webhook_parse(self.cleaned_data["webhook_url"])
        return {"webhook_url": f"{webhook_bases()[0]}/api/webhooks/{webhook_id}/{token}"}
