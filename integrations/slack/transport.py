"""Slack `chat.postMessage` over httpx (no SDK: retries are ours), on
settings.ORION_SLACK_API_BASE.

Config `channel`, secret `token` (xoxb-). Each message carries the delivery's key in its
`metadata` (event type `orion_delivery`), so Slack can be asked afterwards: `lookup` reads
`conversations.history` since the interrupted attempt (with all metadata) and finds the
message by key. That is why an interrupted or ambiguous Slack send is asked about, then
sent again only when Slack shows no such message. Retried: connect errors, 429 and 503
(after the Retry-After header). Disabled: invalid_auth, token_revoked, account_inactive,
channel_not_found, is_archived, not_in_channel. Other errors refuse the message.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings

from integrations.delivery.errors import Ambiguous, DeliveryError, Permanent, Transient
from integrations.delivery.transports import Outgoing, http_call, json_body
from orion.reliability.retry_after import parse_retry_after

WHAT = "Slack"
EVENT_TYPE = "orion_delivery"
DISABLING = {
    "invalid_auth": "Slack refused the bot token",
    "token_revoked": "The Slack bot token was revoked",
    "account_inactive": "The Slack app was removed or its workspace deactivated",
    "channel_not_found": "Slack does not know this channel",
    "is_archived": "The Slack channel was archived",
    "not_in_channel": "The Slack app is not in the channel",
}
# Slack's own words for "maybe done": the operation may have partly succeeded.
AMBIGUOUS = {"internal_error", "fatal_error", "request_timeout"}
CLOCK_SKEW = timedelta(minutes=2)
LOOKUP_PAGES = 5


def _url(method: str) -> str:
    return f"{settings.ORION_SLACK_API_BASE.rstrip('/')}/{method}"


def _auth(message: Outgoing) -> tuple[str, dict[str, str]]:
    token = message.secret.get("token", "")
    channel = message.config.get("channel", "")
    if not token or not channel:
        raise Permanent(
            "The Slack connection has no bot token or channel: connect it again.", disable=True
        )
    return channel, {"Authorization": f"Bearer {token}"}


def _error(status: int, body: dict, headers: Any, *, doing: str) -> DeliveryError:
    if status == 429 or body.get("error") == "ratelimited":
        return Transient(
            f"Slack asked to slow down while {doing}",
            http_status=status,
            retry_after=parse_retry_after(headers, now=time.time()),
        )
    if status == 503:
        return Transient(
            f"Slack is unavailable while {doing}",
            http_status=status,
            retry_after=parse_retry_after(headers, now=time.time()),
        )
    if status >= 500:
        return Ambiguous(f"Slack answered {status} while {doing}", http_status=status)
    error = str(body.get("error") or f"HTTP {status}")
    if error in DISABLING:
        return Permanent(
            f"{DISABLING[error]} ({error}): fix it in Slack and connect the channel again.",
            http_status=status,
            disable=True,
        )
    if status == 200 and (error in AMBIGUOUS or not body):
        return Ambiguous(f"Slack failed while {doing} ({error})", http_status=status)
    return Permanent(f"Slack refused {doing} ({error})", http_status=status)


def send(message: Outgoing) -> str:
    channel, headers = _auth(message)
    payload = {
        "channel": channel,
        "text": message.text,
        "metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": message.key}},
    }
    response = http_call("POST", _url("chat.postMessage"), what=WHAT, json=payload, headers=headers)
    body = json_body(response)
    if response.status_code == 200 and body.get("ok"):
        return str(body.get("ts", ""))
    raise _error(response.status_code, body, response.headers, doing="sending the message")


def lookup(message: Outgoing) -> str | None:
    """The ts of the message carrying `message.key` posted since `message.since`, or None."""
    channel, headers = _auth(message)
    oldest = (message.since - CLOCK_SKEW).timestamp() if message.since else 0
    params = {
        "channel": channel,
        "oldest": f"{oldest:.6f}",
        "include_all_metadata": "true",
        "limit": "200",
    }
    for _ in range(LOOKUP_PAGES):
        response = http_call(
            "GET", _url("conversations.history"), what=WHAT, params=params, headers=headers
        )
        body = json_body(response)
        if response.status_code != 200 or not body.get("ok"):
            raise _error(
                response.status_code, body, response.headers, doing="looking for the message"
            )
        items, more = body.get("messages") or [], body.get("response_metadata") or {}
        if not isinstance(items, list) or not isinstance(more, dict):
            # Unreadable, it cannot say the message is not there (and raising anything else
            # would leave the delivery to be claimed and asked again, forever).
            raise Ambiguous("Slack's history came back in a shape it never has")
        for item in items:
            if _key_of(item) == message.key:
                return str(item.get("ts", ""))
        cursor = more.get("next_cursor")
        if not body.get("has_more") or not cursor:
            return None
        params["cursor"] = cursor
    raise Ambiguous("Slack's history is too long to tell whether the message was posted")


def _key_of(item: Any) -> Any:
    """The delivery key a history message carries in its metadata, or None."""
    metadata = item.get("metadata") if isinstance(item, dict) else None
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    return payload.get("key") if isinstance(payload, dict) else None
