"""Staff writes of model configuration (providers, keys, chains, cooldown resets), each
with its audit row in the same transaction. The admin calls these; nothing else writes
these rows. Keys never reach an audit row: a changed key is recorded as `"key": "replaced"`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models, transaction

from agents.models import AuthProfile, ChainCandidate, ModelChain, ProfileCooldown, Provider
from orion.core.audit import staff_audit_record

PROVIDER_FIELDS = (
    "name",
    "kind",
    "base_url",
    "connect_timeout_s",
    "attempt_timeout_s",
    "retry_attempts",
    "retry_floor_s",
    "retry_cap_s",
    "enabled",
)
PROFILE_FIELDS = ("provider", "label", "priority", "enabled")
CHAIN_FIELDS = ("name", "is_default")


def _snapshot(obj: models.Model, fields: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value if isinstance(value, bool | int | float | str | None) else str(value)
    return out


def _stored(obj: models.Model) -> Any:
    if obj.pk is None:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).first()


def _changes(before: dict | None, after: dict) -> tuple[dict | None, dict]:
    """Only what changed (everything on create)."""
    if before is None:
        return None, after
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def provider_save(*, provider: Provider, actor: Any) -> Provider:
    with transaction.atomic():
        stored = _stored(provider)
        before = _snapshot(stored, PROVIDER_FIELDS) if stored is not None else None
        provider.save()
        old, new = _changes(before, _snapshot(provider, PROVIDER_FIELDS))
        if new or before is None:
            verb = "provider.created" if before is None else "provider.changed"
            staff_audit_record(actor_user=actor, verb=verb, target=provider, before=old, after=new)
    return provider


def provider_delete(*, provider: Provider, actor: Any) -> None:
    with transaction.atomic():
        staff_audit_record(
            actor_user=actor,
            verb="provider.deleted",
            target=provider,
            before=_snapshot(provider, PROVIDER_FIELDS),
        )
        provider.delete()


def auth_profile_save(*, profile: AuthProfile, actor: Any) -> AuthProfile:
    """Save a key's settings; a new key value is audited as replaced, never shown."""
    with transaction.atomic():
        stored = _stored(profile)
        before = _snapshot(stored, PROFILE_FIELDS) if stored is not None else None
        profile.save()
        after = _snapshot(profile, PROFILE_FIELDS)
        old, new = _changes(before, after)
        if stored is None:
            new = {**after, "key": "set"}
        elif stored.secret != profile.secret:
            old, new = {**(old or {}), "key": "previous"}, {**new, "key": "replaced"}
        if new:
            verb = "auth_profile.created" if stored is None else "auth_profile.changed"
            staff_audit_record(actor_user=actor, verb=verb, target=profile, before=old, after=new)
    return profile


def auth_profile_delete(*, profile: AuthProfile, actor: Any) -> None:
    with transaction.atomic():
        staff_audit_record(
            actor_user=actor,
            verb="auth_profile.deleted",
            target=profile,
            before=_snapshot(profile, PROFILE_FIELDS),
        )
        profile.delete()


def model_chain_save(*, chain: ModelChain, actor: Any) -> ModelChain:
    with transaction.atomic():
        stored = _stored(chain)
        before = _snapshot(stored, CHAIN_FIELDS) if stored is not None else None
        chain.save()
        old, new = _changes(before, _snapshot(chain, CHAIN_FIELDS))
        if new or before is None:
            verb = "model_chain.created" if before is None else "model_chain.changed"
            staff_audit_record(actor_user=actor, verb=verb, target=chain, before=old, after=new)
    return chain


def model_chain_delete(*, chain: ModelChain, actor: Any) -> None:
    with transaction.atomic():
        staff_audit_record(
            actor_user=actor,
            verb="model_chain.deleted",
            target=chain,
            before={**_snapshot(chain, CHAIN_FIELDS), "candidates": _candidates(chain)},
        )
        chain.delete()


def _candidates(chain: ModelChain) -> list[str]:
    rows = ChainCandidate.objects.filter(chain=chain).select_related("provider")
    return [f"{c.position}. {c.provider.name}/{c.model} ({c.context_window})" for c in rows]


def chain_candidates_save(
    *,
    chain: ModelChain,
    saved: Sequence[ChainCandidate],
    deleted: Sequence[ChainCandidate],
    actor: Any,
) -> None:
    """Apply a chain's candidate edits (reorders included) and audit the list before and
    after. Rows that move or go away are parked on free positions first, so a swap such
    as 1<->2 never meets the (chain, position) unique constraint half-way."""
    with transaction.atomic():
        before = _candidates(chain)
        rows = ChainCandidate.objects.filter(chain=chain)
        stored = dict(rows.values_list("pk", "position"))
        moving = [c.pk for c in deleted if c.pk is not None]
        moving += [c.pk for c in saved if c.pk in stored and stored[c.pk] != c.position]
        if moving:
            taken = set(stored.values()) | {c.position for c in saved}
            spare = (p for p in range(32767, 0, -1) if p not in taken)
            for pk in moving:
                rows.filter(pk=pk).update(position=next(spare))
        for candidate in deleted:
            candidate.delete()
        for candidate in saved:
            candidate.chain = chain
            candidate.save()
        after = _candidates(chain)
        if after != before:
            staff_audit_record(
                actor_user=actor,
                verb="model_chain.candidates_changed",
                target=chain,
                before={"candidates": before},
                after={"candidates": after},
            )


def cooldown_reset(*, cooldown: ProfileCooldown, actor: Any) -> None:
    """Staff clear a key's cooldown or disable by hand (deleting its state row)."""
    with transaction.atomic():
        staff_audit_record(
            actor_user=actor,
            verb="cooldown.reset",
            target=cooldown.profile,
            before={
                "scope": cooldown.scope,
                "reason": cooldown.reason,
                "cooldown_until": str(cooldown.cooldown_until or ""),
                "disabled_until": str(cooldown.disabled_until or ""),
            },
        )
        cooldown.delete()
