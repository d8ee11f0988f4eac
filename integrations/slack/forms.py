"""Slack settings: the app's bot token (secret) and the id of the channel to post in."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from integrations.portal.channel_forms import ChannelForm, secret_input

TOKEN = re.compile(r"^xoxb-[A-Za-z0-9-]{20,250}$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,20}$")


class SlackForm(ChannelForm):
    secret_fields = ("token",)

    token = forms.CharField(label="Bot token", max_length=260, widget=secret_input(), strip=True)
    channel = forms.CharField(
        label="Channel ID",
        max_length=24,
        strip=True,
        help_text="In Slack: the channel's details, at the bottom (like C0123456789). "
        "Invite the app to the channel first.",
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if token and not TOKEN.match(token):
            raise forms.ValidationError(
                "This is not a Slack bot token: it starts with xoxb- (your app's "
                "OAuth & Permissions page, 'Bot User OAuth Token')."
            )
        return token

    def clean_channel(self) -> str:
        channel = self.cleaned_data["channel"].upper()
        if not CHANNEL.match(channel):
            raise forms.ValidationError("Use the channel's ID (like C0123456789), not its #name.")
        return channel

    def config(self) -> dict[str, Any]:
        return {"channel": self.cleaned_data["channel"]}

    def secret_values(self) -> dict[str, Any]:
        return {"token": self.cleaned_data["token"]}
