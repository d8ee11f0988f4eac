"""Sets request.tenant/request.membership and the tenant scope for the whole request.

The staff admin runs outside any tenant scope: it reads every tenant's rows through
`unscoped()` on purpose, and a staff user's own membership must not scope what they edit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tenants.scope import enter_scope, exit_scope
from tenants.selectors import memberships_of_user

SESSION_KEY = "orion_tenant_id"
ADMIN_PREFIX = "/admin/"


def choose_membership(request: HttpRequest, user: object):
    """The membership the user acts in: the one picked in the switcher, else the first."""
    memberships = list(memberships_of_user(user=user))
    wanted = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    chosen = next((m for m in memberships if m.tenant_id == wanted), None)
    return (chosen or (memberships[0] if memberships else None)), memberships


class TenantScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership, request.memberships = None, []
        request.tenant = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.membership, request.memberships = choose_membership(request, user)
            request.tenant = request.membership.tenant if request.membership else None
        in_admin = request.path_info.startswith(ADMIN_PREFIX)
        token = enter_scope(request.tenant.pk if request.tenant and not in_admin else None)
        if request.tenant and not in_admin:  # pages show times in the tenant's time zone
            timezone.activate(request.tenant.timezone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            exit_scope(token)
