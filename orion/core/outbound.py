"""The port through which apps below `integrations` send a message.

`tenants` (invitations) and `billing` (the daily report) may not import `integrations`
(see the floors in ARCHITECTURE.md), yet every outbound message of the product must go
through the one Delivery path. They call `outbound_send`; `integrations` registers the
handler when it loads, and the handler writes the Delivery row(s) in the caller's
transaction and queues the send on commit. No handler registered is a configuration
error, never a silent drop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class Channel:
    EMAIL = "email"  # to the addresses in `to`, through Django's mail backend
    TEAM = "team"  # the tenant's connected messaging channels (Telegram, Discord, Slack)
    OWNER = "owner"  # the tenant's owners: by email, and the team channel when connected


@dataclass(frozen=True)
class Outbound:
    tenant_id: int
    channel: str
    key: str  # idempotency key, unique per tenant: the same key is sent once
    body: str
    subject: str = ""
    to: tuple[str, ...] = field(default_factory=tuple)
    purpose: str = ""  # invitation, report, briefing, agent, test, alert


_handler: Callable[[Outbound], list[int]] | None = None


def outbound_register(handler: Callable[[Outbound], list[int]]) -> None:
    global _handler
    _handler = handler


def outbound_send(message: Outbound) -> list[int]:
    """Queue `message` for delivery; returns the ids of the Delivery rows (existing ones
    when the key was seen before)."""
    if _handler is None:
        raise RuntimeError("no outbound handler registered: is 'integrations' installed?")
    return _handler(message)
