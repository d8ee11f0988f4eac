"""Reads for the tenants app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tenants.models import AuditEvent, Invitation, Membership


def membership_for(*, user: Any, tenant_id: int) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("tenant").filter(user=user, tenant_id=tenant_id).first()
    )


def memberships_of_user(*, user: Any) -> QuerySet[Membership]:
    return Membership.objects.select_related("tenant").filter(user=user).order_by("tenant__name")


def team_list(*, tenant_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("user")
        .filter(tenant_id=tenant_id)
        .order_by("user__email")
    )


def invitations_pending(*, tenant_id: int) -> list[Invitation]:
    rows = Invitation.objects.unscoped().filter(
        tenant_id=tenant_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    return list(rows.select_related("invited_by"))


def audit_recent(*, limit: int = 20) -> QuerySet[AuditEvent]:
    """The current tenant's latest audit events (fails closed outside a scope)."""
    return AuditEvent.objects.all()[:limit]


def membership_in_tenant(*, tenant_id: int, pk: int) -> Membership | None:
    """One membership of this tenant (None for another tenant's id: callers answer 404)."""
    return Membership.objects.select_related("user").filter(tenant_id=tenant_id, pk=pk).first()


def invitation_pending_in_tenant(*, tenant_id: int, pk: int) -> Invitation | None:
    """One not-yet-accepted, not-withdrawn invitation of this tenant, or None."""
    return (
        Invitation.objects.unscoped()
        .filter(tenant_id=tenant_id, pk=pk, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
