"""Small presentation helpers for the portal templates."""

from __future__ import annotations

from django import template

register = template.Library()

VERB_LABELS = {
    "tenant.created": "created the team",
    "tenant.settings_changed": "changed the settings",
    "tenant.staff_changed": "(Orion staff) changed the account",
    "invitation.created": "invited someone",
    "invitation.accepted": "joined the team",
    "invitation.revoked": "withdrew an invitation",
    "membership.role_changed": "changed a role",
    "membership.removed": "removed someone from the team",
}


@register.filter
def verb_label(verb: str) -> str:
    """`membership.role_changed` → "changed a role"; unknown verbs are shown as they are."""
    return VERB_LABELS.get(verb, verb)


@register.filter
def audit_detail(event) -> str:
    """A short "before → after" line for an audit event, from its JSON payloads."""
    before, after = event.before or {}, event.after or {}
    keys = [*after, *(k for k in before if k not in after)]
    parts = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if key in before and key in after:
            if old != new:
                parts.append(f"{key}: {old} → {new}")
        else:
            parts.append(f"{key}: {new if key in after else old}")
    return "; ".join(parts)
