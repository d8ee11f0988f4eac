"""Accepting an invitation from its emailed link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenants.middleware import SESSION_KEY
from tenants.selectors import membership_for
from tenants.services.invitations import InvitationInvalid, invitation_accept, invitation_lookup


def _invalid(request: HttpRequest, exc: InvitationInvalid) -> HttpResponse:
    return render(
        request,
        "portal/invitation_invalid.html",
        {"reason": str(exc)},
        status=410 if exc.gone else 404,
    )


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_lookup(token=token)
    except InvitationInvalid as exc:
        return _invalid(request, exc)
    user = request.user
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        was_member = membership_for(user=user, tenant_id=invitation.tenant_id) is not None
        try:
            membership = invitation_accept(token=token, user=user)
        except InvitationInvalid as exc:
            return _invalid(request, exc)
        request.session[SESSION_KEY] = membership.tenant_id
        name = invitation.tenant.name
        messages.success(
            request, f"You were already in {name}." if was_member else f"Welcome to {name}."
        )
        return redirect("portal:dashboard")
    already = membership_for(user=user, tenant_id=invitation.tenant_id)
    return render(
        request, "portal/invitation.html", {"invitation": invitation, "already_member": already}
    )
