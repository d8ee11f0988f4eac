"""Building the raw messages Gmail sends and reading the text out of the ones it returns."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from integrations.google.errors import GoogleError

MAX_SUBJECT = 500
MAX_BODY = 100_000
MAX_TEXT_OUT = 20_000


def _valid(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _one_line(value: str, *, field: str) -> None:
    """A header value: any line break (\\n, \\r, U+2028...) is refused, not a crash."""
    if "".join(value.splitlines()) != value:
        raise GoogleError(f"{field}: must be one line")


def addresses(value: str, *, field: str) -> list[str]:
    """The addresses in a comma-separated `value`, each checked; GoogleError otherwise."""
    _one_line(value, field=field)
    found = [addr for _, addr in getaddresses([value]) if addr]
    if not found or not all(_valid(addr) for addr in found):
        raise GoogleError(
            f"{field}: {value!r} is not a valid email address (or comma-separated list)"
        )
    return found


def message_id_for(*, tenant_id: int, call_key: str, domain: str) -> str:
    """The Message-ID of the mail one tool call sends: the same on every re-run."""
    digest = base64.b32encode(hashlib.sha256(f"{tenant_id}:{call_key}".encode()).digest())
    return f"<orion.{digest.decode().rstrip('=').lower()[:32]}@{domain or 'orion.invalid'}>"


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    cc: str = "",
    message_id: str = "",
    in_reply_to: str = "",
) -> str:
    """A plain-text message as Gmail's `raw` (base64url); GoogleError on bad input."""
    _one_line(subject, field="subject")
    if len(subject) > MAX_SUBJECT:
        raise GoogleError(f"subject: at most {MAX_SUBJECT} characters")
    if not body.strip():
        raise GoogleError("body: the message is empty")
    if len(body) > MAX_BODY:
        raise GoogleError(f"body: at most {MAX_BODY} characters")
    message = EmailMessage()
    if sender:
        message["From"] = sender
    addresses(to, field="to")
    message["To"] = to.strip()
    if cc:
        addresses(cc, field="cc")
        message["Cc"] = cc.strip()
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        if not re.fullmatch(r"<[^<>\s]+>", in_reply_to):
            raise GoogleError("in_reply_to: must be a Message-ID like <abc@example.com>")
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    try:
        message.set_content(body)
        raw = message.as_bytes()
    except UnicodeEncodeError:
        raise GoogleError("body: has characters that cannot be sent (lone surrogates)") from None
    return base64.urlsafe_b64encode(raw).decode()


def header_map(payload: dict[str, Any]) -> dict[str, str]:
    return {h.get("name", "").lower(): h.get("value", "") for h in payload.get("headers", [])}


def _decode(data: str) -> str:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8", "replace")


def _parts(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found = [payload]
    for part in payload.get("parts", []) or []:
        found += _parts(part)
    return found


def plain_text(payload: dict[str, Any]) -> str:
    """The message's text: its text/plain part, else its HTML without tags; truncated."""
    parts = _parts(payload)
    for wanted in ("text/plain", "text/html"):
        for part in parts:
            data = (part.get("body") or {}).get("data")
            if part.get("mimeType") == wanted and data:
                text = _decode(data)
                if wanted == "text/html":
                    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
                return text[:MAX_TEXT_OUT]
    return ""
