"""The one write path for audit rows."""

from __future__ import annotations

from typing import Any

from django.db import models

from tenants.models import ActorType, AuditEvent, Tenant


def audit_record(
    *,
    tenant: Tenant | int,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    actor_user: Any = None,
    actor_agent: Any = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one audit event. The actor is a user, an agent, or (neither) the system."""
    if actor_user is not None:
        actor_type, label = ActorType.USER, actor_user.get_username()
    elif actor_agent is not None:
        actor_type, label = ActorType.AGENT, str(actor_agent)
    else:
        actor_type, label = ActorType.SYSTEM, "system"
    event = AuditEvent(
        tenant_id=getattr(tenant, "pk", tenant),
        actor_type=actor_type,
        actor_user=actor_user,
        actor_label=label[:200],
        verb=verb,
        target_type=target_type or (target._meta.label_lower if target is not None else ""),
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        before=before,
        after=after,
    )
    event.save()
    return event
