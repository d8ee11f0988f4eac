"""Writes of the Delivery path: queue a message (`delivery_enqueue`), the outbound port's
handler (`outbound_deliver`), and the sync send (`delivery_send_now`, from send.py)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from integrations.delivery.policy import KINDS, channel_policy, split_text
from integrations.delivery.send import SendResult, delivery_send_now
from integrations.delivery.tasks import delivery_queue
from integrations.models import (
    MESSAGING_KINDS,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Delivery,
)
from integrations.selectors import connection_get
from orion.core.outbound import Channel, Outbound
from tenants.models import Membership, Role

__all__ = ["SendResult", "delivery_enqueue", "delivery_send_now", "outbound_deliver"]

KEY_MAX = 200
PART_SUFFIX_MAX = 3  # "#10"


def delivery_enqueue(
    *,
    tenant_id: int,
    kind: str,
    body: str,
    key: str,
    subject: str = "",
    recipient: str = "",
    purpose: str = "",
) -> list[Delivery]:
    """Queue `body` on the tenant's `kind` channel (telegram, discord, slack: its
    connection; email: `recipient`, else the address of its email connection).

    Written in the caller's transaction, sent after it commits. Idempotent: a `key` seen
    before returns its deliveries and queues nothing. A body over the provider's limit is
    split into parts keyed `key#1`, `key#2`, ...; ValidationError (nothing written) for an
    empty body, too many parts, a channel that is not connected or disabled, a bad address.
    """
    if kind not in KINDS:
        raise ValidationError(f"{kind!r} is not a channel (one of {', '.join(KINDS)}).")
    key = key.strip()
    if not key or len(key) > KEY_MAX - PART_SUFFIX_MAX:
        raise ValidationError(f"A delivery key is 1 to {KEY_MAX - PART_SUFFIX_MAX} characters.")
    policy = channel_policy(kind)
    # A subject is one header line: a line break in it (an agent's or a team's name) would
    # make the mail backend refuse the message after its attempt was opened.
    subject = " ".join(subject.split())[:300]
    if not body.strip():
        raise ValidationError("The message is empty: write something to send.")
    parts = [body] if policy.max_chars is None else split_text(body, policy.max_chars)
    keys = [key] if len(parts) == 1 else [f"{key}#{i}" for i in range(1, len(parts) + 1)]
    existing = _existing(tenant_id=tenant_id, key=key, max_parts=policy.max_parts)
    if existing:
        return existing
    if len(parts) > policy.max_parts:
        raise ValidationError(
            f"The message is {len(body):,} characters long: {policy.label} takes at most "
            f"{policy.max_chars:,} per message, so it would need {len(parts)} messages and "
            f"at most {policy.max_parts} are sent. Shorten it."
        )
    connection = _connection(tenant_id=tenant_id, kind=kind)
    if kind == ConnectionKind.EMAIL:
        # Only mail to the tenant's own notification address speaks for its email
        # connection's health; an invitee's or an owner's address does not.
        if recipient or connection is None:
            connection = None
        else:
            recipient = connection.config.get("address", "")
        recipient = _address(recipient)
    now = timezone.now()
    rows = [
        Delivery(
            tenant_id=tenant_id,
            key=part_key,
            kind=kind,
            connection=connection,
            purpose=purpose[:32],
            recipient=recipient,
            subject=subject,
            body=part,
            next_attempt_at=now,
        )
        for part_key, part in zip(keys, parts, strict=True)
    ]
    # A concurrent enqueue of the same key waits on the unique index, then writes nothing.
    Delivery.objects.unscoped().bulk_create(rows, ignore_conflicts=True)
    created = list(
        Delivery.objects.unscoped().filter(tenant_id=tenant_id, key__in=keys).order_by("pk")
    )
    ids = [d.pk for d in created]
    transaction.on_commit(lambda: delivery_queue(tenant_id=tenant_id, delivery_ids=ids))
    return created


def outbound_deliver(message: Outbound) -> list[int]:
    """The handler of orion.core.outbound: `email` is one delivery per address in `to`;
    `team` one per connected messaging channel (none connected: nothing); `owner` an email
    to every owner of the tenant plus the team channels. Keys are suffixed per target."""
    targets: list[tuple[str, str]] = []  # (kind, recipient)
    if message.channel == Channel.EMAIL:
        targets = [(ConnectionKind.EMAIL, address) for address in message.to]
    elif message.channel in (Channel.TEAM, Channel.OWNER):
        if message.channel == Channel.OWNER:
            owners = (
                Membership.objects.filter(tenant_id=message.tenant_id, role=Role.OWNER)
                .exclude(user__email="")
                .order_by("user__email")
                .values_list("user__email", flat=True)
            )
            targets = [(ConnectionKind.EMAIL, address) for address in owners]
        connected = (
            Connection.objects.unscoped()
            .filter(tenant_id=message.tenant_id, kind__in=MESSAGING_KINDS)
            .exclude(status=ConnectionStatus.DISABLED)
            .order_by("kind")
            .values_list("kind", flat=True)
        )
        targets += [(kind, "") for kind in connected]
    else:
        raise ValidationError(f"{message.channel!r} is not an outbound channel.")
    ids: list[int] = []
    for kind, recipient in targets:
        deliveries = delivery_enqueue(
            tenant_id=message.tenant_id,
            kind=kind,
            body=message.body,
            key=_target_key(message.key, f"{kind}:{recipient}" if recipient else kind),
            subject=message.subject,
            recipient=recipient,
            purpose=message.purpose,
        )
        ids += [d.pk for d in deliveries]
    return ids


def _existing(*, tenant_id: int, key: str, max_parts: int) -> list[Delivery]:
    keys = [key, *(f"{key}#{i}" for i in range(1, max_parts + 1))]
    return list(
        Delivery.objects.unscoped().filter(tenant_id=tenant_id, key__in=keys).order_by("pk")
    )


def _connection(*, tenant_id: int, kind: str) -> Connection | None:
    connection = connection_get(tenant_id=tenant_id, kind=kind)
    if kind not in MESSAGING_KINDS:
        return connection
    label = channel_policy(kind).label
    if connection is None:
        raise ValidationError(
            f"{label} is not connected: connect it on the integrations page first."
        )
    if connection.status == ConnectionStatus.DISABLED:
        why = f" ({connection.last_error})" if connection.last_error else ""
        raise ValidationError(f"{label} is disabled{why}: connect it again first.")
    return connection


def _address(recipient: str) -> str:
    recipient = recipient.strip()
    if not recipient:
        raise ValidationError("There is no address to send this email to.")
    try:
        validate_email(recipient)
    except ValidationError:
        raise ValidationError(f"{recipient!r} is not an email address.") from None
    return recipient


def _target_key(key: str, target: str) -> str:
    """`key:target`, with the target hashed when the whole would not fit a key."""
    full = f"{key}:{target}"
    if len(full) <= KEY_MAX - PART_SUFFIX_MAX:
        return full
    return f"{key}:{hashlib.sha256(target.encode()).hexdigest()[:16]}"
