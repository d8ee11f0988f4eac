"""Email settings: the address notifications go to (nothing secret to store)."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.portal.channel_forms import ChannelForm


class EmailForm(ChannelForm):
    address = forms.EmailField(
        label="Notification address",
        max_length=254,
        help_text="Where Orion sends notifications and test messages.",
    )

    def clean_address(self) -> str:
        return self.cleaned_data["address"].strip().lower()

    def config(self) -> dict[str, Any]:
        return {"address": self.cleaned_data["address"]}
