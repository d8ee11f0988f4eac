"""Discord webhooks: POST the webhook with `?wait=true` over httpx.

Secret `webhook_url` (https://discord.com/api/webhooks/<id>/<token>): only its path is
used, on settings.ORION_DISCORD_API_BASE and as API v10, so a stored URL can never send us
elsewhere.
`content` is at most 2000 characters; mentions are never parsed (no @everyone from an
agent). Retried: connect errors, 429 (`retry_after` in the body, seconds as a float, or
the Retry-After header) and 503 (after its Retry-After). A deleted or invalid webhook
(401/403/404) disables the channel. Webhooks take no idempotency key (the `nonce` of bot
messages is not offered), so 500/502/504 or a timeout after sending make the delivery
unknown.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings

from integrations.delivery.errors import Ambiguous, Permanent, Transient
from integrations.delivery.transports import Outgoing, http_call, json_body
from orion.reliability.retry_after import parse_retry_after

WHAT = "Discord"
WEBHOOK_PREFIX = "/api/webhooks/"
API_VERSION = "v10"  # `retry_after` and Retry-After in seconds (v8 and later)


def webhook_path(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    if not path.startswith(WEBHOOK_PREFIX) or path.count("/") != 4:
        raise Permanent(
            "The Discord webhook address is not a webhook: connect it again.", disable=True
        )
    return path


def send(message: Outgoing) -> str:
    path = webhook_path(str(message.secret.get("webhook_url", "")))
    # A versioned path: unversioned requests get API v6, whose waits are in milliseconds.
    path = path.replace(WEBHOOK_PREFIX, f"/api/{API_VERSION}/webhooks/", 1)
    url = f"{settings.ORION_DISCORD_API_BASE.rstrip('/')}{path}"
    payload = {"content": message.text, "allowed_mentions": {"parse": []}}
    response = http_call("POST", url, what=WHAT, params={"wait": "true"}, json=payload)
    status = response.status_code
    body = json_body(response)
    if status in (200, 204):
        return str(body.get("id", ""))
    description = str(body.get("message") or f"HTTP {status}")
    if status == 429:
        retry_after = body.get("retry_after")
        if not isinstance(retry_after, int | float):
            retry_after = parse_retry_after(response.headers, now=time.time())
        raise Transient(
            f"Discord asked to slow down ({description})",
            http_status=status,
            retry_after=None if retry_after is None else float(retry_after),
        )
    if status == 503:
        raise Transient(
            f"Discord is unavailable ({description})",
            http_status=status,
            retry_after=parse_retry_after(response.headers, now=time.time()),
        )
    if status in (401, 403, 404):
        raise Permanent(
            f"Discord says the webhook no longer works ({description}): it was deleted or "
            "its channel is gone. Create a new webhook and connect it again.",
            http_status=status,
            disable=True,
        )
    if 400 <= status < 500:
        raise Permanent(f"Discord refused the message ({description})", http_status=status)
    raise Ambiguous(f"Discord answered {status} ({description})", http_status=status)
