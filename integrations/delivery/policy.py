"""Each channel's delivery policy in one place: retries (ARCHITECTURE.md's numbers, from
`orion.reliability.retry`), the provider's message size, how many parts a long message
may be split into, and how long a claim's lease lasts.

Retries: 3 tries in all (one send and two retries) for errors that provably left nothing
at the provider (connect errors, 429, 503; an SMTP 4xx). Backoff before retry n is
`floor * 2**(n-1)` capped at 30 s with 10 % jitter; floors Telegram 400 ms, Discord
500 ms, Slack and email 300 ms. A provider's own wait (Retry-After header, Telegram's
`parameters.retry_after`, Discord's `retry_after`) is read on every attempt and replaces
the backoff when it is longer, even past the cap: retrying before the provider said so
only earns another 429. It is bounded by RETRY_AFTER_MAX_S against a nonsense figure.
Such a 429 (the provider refused the message and said when to come back) does not use
up one of the 3 tries, for up to FREE_RATE_LIMITS of them: a burst to one Telegram group
(20 messages a minute) must slow down, not fail.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from orion.reliability.retry import RetryPolicy, policy_for

RETRY_AFTER_MAX_S = 3600.0
MAX_PARTS = 10
FREE_RATE_LIMITS = 10
LEASE_TIMEOUTS = 10
DEFAULT_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ChannelPolicy:
    kind: str
    label: str
    retry: RetryPolicy
    max_chars: int | None  # one message's limit at the provider; None: never split
    max_parts: int = MAX_PARTS
    free_rate_limits: int = FREE_RATE_LIMITS

    def delay_s(
        self, attempt: int, *, retry_after: float | None, rand: Callable[[], float] = random.random
    ) -> float:
        """Seconds before the try after failed try `attempt` (1-based)."""
        backoff = self.retry.delay_for(attempt, rand=rand)
        assert backoff is not None  # channels have no retry_after_cap_s: never "fail over"
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, RETRY_AFTER_MAX_S))


POLICIES = {
    # Telegram: one message is at most 4096 characters (after entity parsing).
    "telegram": ChannelPolicy("telegram", "Telegram", policy_for("telegram"), 4096),
    # Discord: a webhook message's `content` is at most 2000 characters.
    "discord": ChannelPolicy("discord", "Discord", policy_for("discord"), 2000),
    # Slack truncates `text` past 40,000 characters and recommends at most 4,000 per
    # message; we split at 4,000 so nothing is ever cut silently.
    "slack": ChannelPolicy("slack", "Slack", policy_for("slack"), 4000),
    # Email: one message whatever its length.
    "email": ChannelPolicy("email", "Email", policy_for("email"), None),
}
KINDS = tuple(POLICIES)


def channel_policy(kind: str) -> ChannelPolicy:
    return POLICIES[kind]


def lease_s() -> float:
    """How long a claim holds a delivery (setting ORION_DELIVERY_LEASE_S): by default ten
    request timeouts, more than the longest claim (a Slack lookup of up to five pages,
    then a send and its follow-ups), so a live worker never loses its lease."""
    configured = getattr(settings, "ORION_DELIVERY_LEASE_S", None)
    return float(configured) if configured else LEASE_TIMEOUTS * timeout_s()


def timeout_s() -> float:
    """How long one request may take (setting ORION_DELIVERY_TIMEOUT_S, default 20 s);
    past it, a request that left is ambiguous."""
    return float(getattr(settings, "ORION_DELIVERY_TIMEOUT_S", DEFAULT_TIMEOUT_S))


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, each cut after the last newline
    (else the last space) of its window when that lies in the window's second half;
    blank parts are dropped."""
    parts: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut >= limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return [part for part in parts if part.strip()]
