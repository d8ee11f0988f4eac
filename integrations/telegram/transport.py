"""Telegram Bot API `sendMessage` over httpx (settings.ORION_TELEGRAM_API_BASE).

Config `chat_id`, secret `token`. HTML parse mode; a "can't parse entities" refusal is
never retried as such: the engine resends once as plain text. Retried: connect errors, 429
(`parameters.retry_after`) and 503 (after its Retry-After): a 503 is the front end
refusing the work before the Bot API took it (it answers 5xx with an error body, not 503,
once it has the message), so no message exists to duplicate. 500/502/504 and a timeout
after sending are ambiguous: Telegram has no idempotency key, so the delivery becomes
unknown instead of risking a duplicate. A group migrated to a supergroup (400 with
`parameters.migrate_to_chat_id`) is followed. Revoked token (401/404), bot kicked or
blocked (403), chat not found (400): the channel is disabled after that one attempt.
"""

from __future__ import annotations

import time

from django.conf import settings

from integrations.delivery.errors import (
    Ambiguous,
    ChatMoved,
    ParseRejected,
    Permanent,
    Transient,
)
from integrations.delivery.transports import Outgoing, http_call, json_body
from orion.reliability.retry_after import parse_retry_after

WHAT = "Telegram"


def send(message: Outgoing) -> str:
    token = message.secret.get("token", "")
    chat_id = message.config.get("chat_id", "")
    if not token or not chat_id:
        raise Permanent(
            "The Telegram connection has no bot token or chat: connect it again.", disable=True
        )
    payload = {"chat_id": chat_id, "text": message.text}
    if not message.plain:
        payload["parse_mode"] = "HTML"
    url = f"{settings.ORION_TELEGRAM_API_BASE.rstrip('/')}/bot{token}/sendMessage"
    response = http_call("POST", url, what=WHAT, json=payload)
    body = json_body(response)
    status = response.status_code
    if status == 200 and body.get("ok"):
        result = body.get("result")
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""
    description = str(body.get("description") or f"HTTP {status}")
    parameters = body.get("parameters")
    if not isinstance(parameters, dict):  # a body Telegram never sends is read as none
        parameters = {}
    if status == 429:
        retry_after = parameters.get("retry_after")
        raise Transient(
            f"Telegram asked to slow down ({description})",
            http_status=status,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        )
    if status == 503:
        raise Transient(
            f"Telegram is unavailable ({description})",
            http_status=status,
            retry_after=parse_retry_after(response.headers, now=time.time()),
        )
    if status == 400 and parameters.get("migrate_to_chat_id"):
        raise ChatMoved(
            "The Telegram group became a supergroup",
            chat_id=str(parameters["migrate_to_chat_id"]),
            http_status=status,
        )
    if status == 400 and "can't parse entities" in description.lower():
        raise ParseRejected(
            f"Telegram could not read the formatting ({description})", http_status=status
        )
    if status in (401, 404):
        raise Permanent(
            "Telegram refused the bot token (revoked or wrong): create a new token with "
            "@BotFather and connect the bot again.",
            http_status=status,
            disable=True,
        )
    if status == 403:
        raise Permanent(
            f"The bot can no longer post in this chat ({description}): add it back to the "
            "chat and reconnect.",
            http_status=status,
            disable=True,
        )
    if status == 400 and "chat not found" in description.lower():
        raise Permanent(
            "Telegram does not know this chat: check the chat id and that the bot was added "
            "to the chat, then reconnect.",
            http_status=status,
            disable=True,
        )
    if 400 <= status < 500:
        raise Permanent(f"Telegram refused the message ({description})", http_status=status)
    raise Ambiguous(f"Telegram answered {status} ({description})", http_status=status)
