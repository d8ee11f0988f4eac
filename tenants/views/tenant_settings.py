"""The tenant's settings: name and time zone (owners and admins change them)."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenants.forms import TenantSettingsForm
from tenants.services.tenants import tenant_update_settings
from tenants.views.common import error_text, service_error_status, tenant_required


@cache
def _timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _render(
    request: HttpRequest, form: Form | None = None, *, status: int = 200, error: str = ""
) -> HttpResponse:
    tenant = request.membership.tenant
    context = {
        "form": form
        or TenantSettingsForm(initial={"name": tenant.name, "timezone": tenant.timezone}),
        "can_edit": request.membership.can_manage_team,
        "timezones": _timezones(),
        "error": error,
    }
    return render(request, "portal/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_required
def tenant_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request)
    if not request.membership.can_manage_team:
        return _render(request, status=403, error="Only owners and admins can change the settings.")
    form = TenantSettingsForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400, error="Nothing was saved: check the form.")
    try:
        tenant_update_settings(
            tenant=request.membership.tenant,
            actor=request.user,
            name=form.cleaned_data["name"],
            timezone=form.cleaned_data["timezone"],
        )
    except (PermissionDenied, ValidationError) as exc:
        return _render(request, form, status=service_error_status(exc), error=error_text(exc))
    messages.success(request, "Settings saved.")
    return redirect("portal:settings")
