"""What every channel's settings form shares: secret fields that are never rendered back
(an edit that leaves them blank keeps the stored secret), and the test-message form."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.urls import reverse

from integrations.models import Connection

KEEP_HELP = "A value is stored (not shown). Leave blank to keep it."
_NONCE = re.compile(r"^[0-9a-f]{32}$")


def secret_input() -> forms.PasswordInput:
    """Typed secrets are not echoed back, not even when the form comes back with errors."""
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class ChannelForm(forms.Form):
    """A kind's settings. Subclasses name their `secret_fields` and build `config()` and
    `secret_values()` from cleaned data; `secret()` is None when a stored secret is kept."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, connection: Connection | None = None, **kwargs: Any) -> None:
        if connection is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(connection.config)
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.keeps_secret = connection is not None and bool(connection.secret)
        if self.keeps_secret:
            for name in self.secret_fields:
                self.fields[name].required = False
                self.fields[name].help_text = KEEP_HELP

    def initial_from(self, config: dict[str, Any]) -> dict[str, Any]:
        return {name: config[name] for name in self.base_fields if name in config}

    def secret_given(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.secret_fields)

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def secret_values(self) -> dict[str, Any]:
        return {}

    def secret(self) -> dict[str, Any] | None:
        if not self.secret_fields or (self.keeps_secret and not self.secret_given()):
            return None
        return self.secret_values()


TEST_TEXT = "Hello from Orion: this is a test message."


def card_context(request: Any, connection: Connection | None, *, kind: str) -> dict[str, Any]:
    """What the shared channel card (integrations/_channel_card.html) fills in for `kind`:
    its summary and links, and a one-click test with the default text and a nonce of its own."""
    return {
        "summary_template": f"integrations/{kind}/summary.html",
        "page_url": reverse(f"integrations:{kind}:page"),
        "test_url": reverse(f"integrations:{kind}:test"),
        "test_text": TEST_TEXT,
        "test_nonce": uuid.uuid4().hex,
    }


class TestMessageForm(forms.Form):
    """The text of a test message, and a nonce fixed when the form was shown: sending the
    same form twice (a double click, a resubmitted POST) is one delivery."""

    text = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 3}),
        initial=TEST_TEXT,
        strip=True,
        error_messages={"required": "Write the message to send."},
    )
    nonce = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, label: str, limit: int, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"nonce": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)
        self.label, self.limit = label, limit
        self.fields["text"].help_text = f"At most {limit:,} characters."

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if len(text) > self.limit:
            raise forms.ValidationError(
                f"The message is {len(text):,} characters long; {self.label} takes at most "
                f"{self.limit:,} in one message. Shorten it."
            )
        return text

    def clean_nonce(self) -> str:
        nonce = self.cleaned_data["nonce"]
        if not _NONCE.match(nonce):
            raise forms.ValidationError("This form is out of date: reload the page and send again.")
        return nonce
