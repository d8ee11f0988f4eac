"""The team page: members and pending invitations; owners and admins manage them.

Removing, leaving and withdrawing are confirmed on a page of their own first. A refused
action is flashed on the team page it came from (redirect after POST, so a reload does not
submit again); only the invite form re-renders, to keep what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.forms import InviteForm, RoleForm
from tenants.models import Role
from tenants.selectors import (
    invitation_pending_in_tenant,
    invitations_pending,
    membership_in_tenant,
    team_list,
)
from tenants.services.invitations import invitation_create, invitation_revoke
from tenants.services.team import membership_change_role, membership_remove
from tenants.views.common import error_text, service_error_status, tenant_required

NOT_A_MANAGER = "Only owners and admins can change the team."


def _render_team(
    request: HttpRequest,
    *,
    status: int = 200,
    error: str = "",
    invite_form: Form | None = None,
) -> HttpResponse:
    acting = request.membership
    roles = (
        Role.choices
        if acting.role == Role.OWNER
        else [(value, label) for value, label in Role.choices if value != Role.OWNER]
    )
    context = {
        "members": team_list(tenant_id=acting.tenant_id),
        "invitations": invitations_pending(tenant_id=acting.tenant_id),
        "can_manage": acting.can_manage_team,
        "is_owner": acting.role == Role.OWNER,
        "assignable_roles": roles,
        "invite_form": invite_form or InviteForm(),
        "error": error,
    }
    return render(request, "portal/team.html", context, status=status)


def _refuse(request: HttpRequest, text: str) -> HttpResponse:
    messages.error(request, text)
    return redirect("portal:team")


def _attempt(request: HttpRequest, action: Callable[[], Any]) -> HttpResponse | None:
    """Run one service call; its refusal goes back to the team page with the reason."""
    try:
        action()
    except (PermissionDenied, ValidationError) as exc:
        return _refuse(request, error_text(exc))
    return None


def _confirm(request: HttpRequest, *, question: str, detail: str, action: str) -> HttpResponse:
    return render(
        request,
        "portal/team_confirm.html",
        {"question": question, "detail": detail, "action": action},
    )


def _target_membership(request: HttpRequest, pk: int):
    target = membership_in_tenant(tenant_id=request.membership.tenant_id, pk=pk)
    if target is None:
        raise Http404("No such person in this team.")
    return target


@require_GET
@tenant_required
def team(request: HttpRequest) -> HttpResponse:
    return _render_team(request)


@require_POST
@tenant_required
def invite(request: HttpRequest) -> HttpResponse:
    if not request.membership.can_manage_team:
        return _refuse(request, NOT_A_MANAGER)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _render_team(
            request,
            status=400,
            error="The invitation was not sent: check the form.",
            invite_form=form,
        )
    email, role = form.cleaned_data["email"], form.cleaned_data["role"]
    try:
        invitation_create(actor_membership=request.membership, email=email, role=role)
    except (PermissionDenied, ValidationError) as exc:
        return _render_team(
            request, status=service_error_status(exc), error=error_text(exc), invite_form=form
        )
    messages.success(request, f"Invitation sent to {email.lower()}.")
    return redirect("portal:team")


@require_POST
@tenant_required
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target_membership(request, pk)
    if not request.membership.can_manage_team:
        return _refuse(request, NOT_A_MANAGER)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refuse(request, "Choose one of the listed roles.")
    role = form.cleaned_data["role"]
    failed = _attempt(
        request,
        lambda: membership_change_role(
            actor_membership=request.membership, target=target, role=role
        ),
    )
    if failed:
        return failed
    messages.success(request, f"{target.user.email} is now {Role(role).label.lower()}.")
    return redirect("portal:team")


@require_http_methods(["GET", "POST"])
@tenant_required
def remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    """Owners and admins remove others; anyone may leave (the service decides). GET asks
    to confirm."""
    target = _target_membership(request, pk)
    email, leaving = target.user.email, target.pk == request.membership.pk
    if request.method == "GET":
        if not (leaving or request.membership.can_manage_team):
            return _refuse(request, NOT_A_MANAGER)
        tenant_name = request.membership.tenant.name
        if leaving:
            return _confirm(
                request,
                question=f"Leave {tenant_name}?",
                detail="You lose access to this team until someone invites you again.",
                action="Leave",
            )
        return _confirm(
            request,
            question=f"Remove {email} from {tenant_name}?",
            detail="They lose access to this team until someone invites them again.",
            action="Remove",
        )
    failed = _attempt(
        request, lambda: membership_remove(actor_membership=request.membership, target=target)
    )
    if failed:
        return failed
    messages.success(request, f"{email} was removed from the team.")
    if leaving:
        return redirect("portal:dashboard")
    return redirect("portal:team")


@require_http_methods(["GET", "POST"])
@tenant_required
def withdraw_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST withdraws."""
    invitation = invitation_pending_in_tenant(tenant_id=request.membership.tenant_id, pk=pk)
    if invitation is None:
        raise Http404("No such pending invitation in this team.")
    if not request.membership.can_manage_team:
        return _refuse(request, NOT_A_MANAGER)
    if request.method == "GET":
        return _confirm(
            request,
            question=f"Withdraw the invitation of {invitation.email}?",
            detail="Its link stops working; you can invite them again later.",
            action="Withdraw",
        )
    failed = _attempt(
        request,
        lambda: invitation_revoke(actor_membership=request.membership, invitation=invitation),
    )
    if failed:
        return failed
    messages.success(request, f"The invitation of {invitation.email} was withdrawn.")
    return redirect("portal:team")
