"""Creating and changing tenants."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from tenants.models import Membership, Role, Tenant
from tenants.services.audit import audit_record


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "tenant"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def tenant_create_for_owner(*, name: str, owner: Any, timezone: str = "UTC") -> Tenant:
    """Create a tenant with `owner` as its first owner (sign-up, `make run`'s demo)."""
    name = name.strip()
    if not name:
        raise ValueError("a tenant needs a name")
    tenant = Tenant(name=name, slug=_unique_slug(name), timezone=timezone)
    tenant.full_clean()
    tenant.save()
    Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    audit_record(
        tenant=tenant,
        verb="tenant.created",
        target=tenant,
        actor_user=owner,
        after={"name": tenant.name, "timezone": tenant.timezone},
    )
    return tenant


@transaction.atomic
def tenant_update_settings(*, tenant: Tenant, actor: Any, name: str, timezone: str) -> Tenant:
    """Rename the tenant / change its time zone; only its owners and admins may."""
    acting = Membership.objects.filter(tenant=tenant, user=actor).first()
    if acting is None or not acting.can_manage_team:
        raise PermissionDenied("only owners and admins can change the team's settings")
    before = {"name": tenant.name, "timezone": tenant.timezone}
    tenant.name, tenant.timezone = name.strip(), timezone
    try:
        tenant.full_clean(exclude=["slug"])
    except ValidationError:
        tenant.name, tenant.timezone = before["name"], before["timezone"]
        raise
    tenant.save(update_fields=["name", "timezone"])
    after = {"name": tenant.name, "timezone": tenant.timezone}
    if before != after:
        audit_record(
            tenant=tenant,
            verb="tenant.settings_changed",
            target=tenant,
            actor_user=actor,
            before=before,
            after=after,
        )
    return tenant
