"""Agent API keys: an outside agent runtime works the heartbeat procedure over HTTP with one.

A key reads `orion_ak_<prefix>_<secret>`. Only the SHA-256 of the whole key is stored; the
key itself is returned once, by `api_key_create`. The prefix finds the row, the hash is
compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent, AgentApiKey, AgentStatus
from tenants.models import TenantStatus
from tenants.services.audit import audit_record

KEY_PREFIX = "orion_ak_"
PREFIX_BYTES = 6  # 12 hex characters: the row's public handle
SECRET_BYTES = 32
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the row, and the full key, which is never available again."""

    key: AgentApiKey
    plaintext: str


def key_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _parse(plaintext: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = plaintext[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret or len(prefix) != PREFIX_BYTES * 2:
        return None
    if any(c not in "0123456789abcdef" for c in prefix):
        return None
    return prefix


def api_key_create(*, agent: Agent, label: str = "", actor_user: Any = None) -> IssuedKey:
    """Issue a key for `agent` (a row of the current tenant scope)."""
    if not isinstance(label, str) or len(label) > 80:
        raise ValidationError({"label": "At most 80 characters."})
    if agent.status == AgentStatus.TERMINATED:
        raise ValidationError({"agent": f"{agent.name} is terminated."})
    for _ in range(3):  # a prefix collision (1 in 2**48) is retried, never surfaced
        prefix = secrets.token_hex(PREFIX_BYTES)
        plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            with transaction.atomic():
                key = AgentApiKey.objects.create(
                    tenant_id=agent.tenant_id,
                    agent=agent,
                    label=label.strip(),
                    prefix=prefix,
                    key_hash=key_hash(plaintext),
                    created_by=actor_user if getattr(actor_user, "pk", None) else None,
                )
                audit_record(
                    tenant=agent.tenant_id,
                    verb="agent_key.created",
                    target=key,
                    actor_user=actor_user,
                    after={"agent": agent.pk, "prefix": prefix, "label": key.label},
                )
        except IntegrityError:
            continue
        return IssuedKey(key=key, plaintext=plaintext)
    raise RuntimeError("could not draw a unique key prefix")


@transaction.atomic
def api_key_revoke(*, key: AgentApiKey, actor_user: Any = None) -> AgentApiKey:
    """Revoke at once; revoking twice changes nothing (and writes no second audit row)."""
    now = timezone.now()
    changed = AgentApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    key.refresh_from_db()
    if changed:
        audit_record(
            tenant=key.tenant_id,
            verb="agent_key.revoked",
            target=key,
            actor_user=actor_user,
            after={"agent": key.agent_id, "prefix": key.prefix},
        )
    return key


def api_key_authenticate(*, plaintext: str) -> AgentApiKey | None:
    """The live key for `plaintext` (with its agent and tenant), or None: unknown, wrong
    secret, revoked, or its agent terminated. Runs outside any tenant scope (the key is
    what decides the tenant). Records the use at most once a minute (one conditional
    UPDATE, no write on the hot path otherwise). Refused too: a suspended or closed
    tenant's keys."""
    prefix = _parse(plaintext or "")
    if prefix is None:
        return None
    key = (
        AgentApiKey.objects.unscoped()
        .select_related("agent", "tenant")
        .filter(prefix=prefix)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, key_hash(plaintext)):
        return None
    if (
        key.revoked_at is not None
        or key.agent.status == AgentStatus.TERMINATED
        or key.tenant.status != TenantStatus.ACTIVE
    ):
        return None
    now = timezone.now()
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_EVERY:
        AgentApiKey.objects.unscoped().filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key
