"""Telegram settings: the bot token BotFather gave (secret) and the chat to post in."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from integrations.portal.channel_forms import ChannelForm, secret_input

TOKEN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,60}$")
CHAT_ID = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")


class TelegramForm(ChannelForm):
    secret_fields = ("token",)

    token = forms.CharField(label="Bot token", max_length=100, widget=secret_input(), strip=True)
    chat_id = forms.CharField(
        label="Chat",
        max_length=40,
        strip=True,
        help_text="The chat's numeric id (a group's starts with -100) or a channel's @username.",
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if token and not TOKEN.match(token):
            raise forms.ValidationError(
                "This is not a Telegram bot token. It looks like 123456789:AAE…: the bot's "
                "number, a colon, then about 35 letters, digits, '-' or '_' (ask @BotFather)."
            )
        return token

    def clean_chat_id(self) -> str:
        chat_id = self.cleaned_data["chat_id"]
        if not CHAT_ID.match(chat_id):
            raise forms.ValidationError(
                "Use the chat's numeric id (like -1001234567890) or a channel's @username "
                "(5 to 32 letters, digits or '_')."
            )
        return chat_id

    def config(self) -> dict[str, Any]:
        return {"chat_id": self.cleaned_data["chat_id"]}

    def secret_values(self) -> dict[str, Any]:
        return {"token": self.cleaned_data["token"]}
