"""Inviting people into a tenant and accepting invitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orion.core.outbound import Channel, Outbound, outbound_send
from tenants.models import Invitation, Membership, Role
from tenants.services.audit import audit_record

INVITATION_TTL = timedelta(days=7)


class InvitationInvalid(Exception):
    """The token is unknown, used, revoked or expired; the message says which.

    `gone` is False for a token that never existed (404) and True for one that did but can
    no longer be used (410).
    """

    def __init__(self, message: str, *, gone: bool = True) -> None:
        super().__init__(message)
        self.gone = gone


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, actor_membership: Membership, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite `email` with `role`; returns the invitation and its one-time token."""
    if not actor_membership.can_manage_team:
        raise PermissionDenied("only owners and admins can invite people")
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role")
    if role == Role.OWNER and actor_membership.role != Role.OWNER:
        raise PermissionDenied("only an owner can invite another owner")
    email = email.strip().lower()
    tenant_id = actor_membership.tenant_id
    if Membership.objects.filter(tenant_id=tenant_id, user__email__iexact=email).exists():
        raise ValidationError(f"{email} is already in this team")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation(
            tenant_id=tenant_id,
            email=email,
            role=role,
            token_hash=token_hash(token),
            invited_by=actor_membership.user,
            expires_at=timezone.now() + INVITATION_TTL,
        )
        # The unique check would query through the fail-closed manager (and only within one
        # tenant); token_hash's uniqueness is the database constraint's job.
        invitation.full_clean(validate_unique=False)
        invitation.save()
        audit_record(
            tenant=tenant_id,
            verb="invitation.created",
            target=invitation,
            actor_user=actor_membership.user,
            after={"email": email, "role": role},
        )
        tenant_name = actor_membership.tenant.name
        url = settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])
        # On the Delivery path: queued with the invitation, sent after commit and retried
        # there, so a mail server that is down never undoes (or 500s) a saved invitation.
        outbound_send(
            Outbound(
                tenant_id=tenant_id,
                channel=Channel.EMAIL,
                key=f"invitation:{invitation.pk}",
                subject=f"You are invited to {tenant_name} on Orion",
                body=f"Join {tenant_name} as {role}: {url}\nThe link works for 7 days.",
                to=(email,),
                purpose="invitation",
            )
        )
    return invitation, token


def invitation_lookup(*, token: str) -> Invitation:
    invitation = (
        Invitation.objects.unscoped()
        .select_related("tenant")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Ask for a new one.", gone=False)
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was withdrawn.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired. Ask for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Membership:
    invitation = invitation_lookup(token=token)
    claimed = (
        Invitation.objects.unscoped()
        .filter(pk=invitation.pk, accepted_at__isnull=True)
        .update(accepted_at=timezone.now())
    )
    if claimed != 1:
        raise InvitationInvalid("This invitation has already been used.")
    membership, created = Membership.objects.get_or_create(
        tenant_id=invitation.tenant_id, user=user, defaults={"role": invitation.role}
    )
    if created:
        audit_record(
            tenant=invitation.tenant_id,
            verb="invitation.accepted",
            target=membership,
            actor_user=user,
            after={"role": invitation.role, "email": invitation.email},
        )
    return membership


@transaction.atomic
def invitation_revoke(*, actor_membership: Membership, invitation: Invitation) -> None:
    if not actor_membership.can_manage_team or invitation.tenant_id != actor_membership.tenant_id:
        raise PermissionDenied("only owners and admins can withdraw invitations")
    Invitation.objects.unscoped().filter(pk=invitation.pk).update(revoked_at=timezone.now())
    audit_record(
        tenant=invitation.tenant_id,
        verb="invitation.revoked",
        target=invitation,
        actor_user=actor_membership.user,
        before={"email": invitation.email},
    )
