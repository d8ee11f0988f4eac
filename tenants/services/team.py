"""Team changes: roles and removal. Only owners and admins manage the team."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from tenants.models import Membership, Role
from tenants.models.tenant import ROLE_RANK
from tenants.services.audit import audit_record


def _check_manager(actor_membership: Membership, target: Membership, new_role: str | None) -> None:
    if actor_membership.tenant_id != target.tenant_id:
        raise PermissionDenied("that person is not in your team")
    if not actor_membership.can_manage_team:
        raise PermissionDenied("only owners and admins can change the team")
    touches_owner = target.role == Role.OWNER or new_role == Role.OWNER
    if touches_owner and actor_membership.role != Role.OWNER:
        raise PermissionDenied("only an owner can grant or take away the owner role")
    if ROLE_RANK[Role(target.role)] > ROLE_RANK[Role(actor_membership.role)]:
        raise PermissionDenied("you cannot change someone with a higher role than yours")


def _would_leave_no_owner(target: Membership, new_role: str | None) -> bool:
    if target.role != Role.OWNER or new_role == Role.OWNER:
        return False
    owners = (
        Membership.objects.select_for_update()
        .filter(tenant_id=target.tenant_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    return list(owners) == [target.pk]


@transaction.atomic
def membership_change_role(
    *, actor_membership: Membership, target: Membership, role: str
) -> Membership:
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role; choose one of {', '.join(Role.values)}")
    _check_manager(actor_membership, target, role)
    if _would_leave_no_owner(target, role):
        raise ValidationError("a team needs at least one owner; make someone else owner first")
    before = target.role
    if before != role:
        target.role = role
        target.save(update_fields=["role"])
        audit_record(
            tenant=target.tenant_id,
            verb="membership.role_changed",
            target=target,
            actor_user=actor_membership.user,
            before={"role": before},
            after={"role": role},
        )
    return target


@transaction.atomic
def membership_remove(*, actor_membership: Membership, target: Membership) -> None:
    is_self = actor_membership.pk == target.pk
    if not is_self:
        _check_manager(actor_membership, target, None)
    if _would_leave_no_owner(target, None):
        raise ValidationError("a team needs at least one owner; make someone else owner first")
    audit_record(
        tenant=target.tenant_id,
        verb="membership.removed",
        target=target,
        actor_user=actor_membership.user,
        before={"user": target.user.get_username(), "role": target.role},
    )
    target.delete()
