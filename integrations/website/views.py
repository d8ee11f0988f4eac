"""The website connection's pages: settings (connect or update), disconnect and "check
now". Owners and admins only; the integrations page shows the status to everyone."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from integrations.selectors import connection_get
from integrations.services.connections import connection_disconnect
from integrations.website.forms import WebsiteForm
from integrations.website.services import KIND, website_check, website_connect
from tenants.models import Role
from tenants.views.common import tenant_required

ONLY_ADMINS = "Only owners and admins can change the website connection."
NOT_CONNECTED = "No website is connected."


def _initial(connection) -> dict:
    if connection is None:
        return {"health_path": "/", "expected_status": 200}
    keys = ("url", "health_path", "expected_status", "keyword", "wp_user")
    return {k: connection.config.get(k) for k in keys}


def _render(
    request: HttpRequest, form: WebsiteForm | None = None, *, status: int = 200, error: str = ""
) -> HttpResponse:
    connection = connection_get(tenant_id=request.membership.tenant_id, kind=KIND)
    context = {
        "form": form or WebsiteForm(initial=_initial(connection)),
        "connection": connection,
        "can_edit": request.membership.at_least(Role.ADMIN),
        "error": error,
    }
    return render(request, "integrations/website/settings.html", context, status=status)


def _refused(request: HttpRequest, status: int, text: str) -> HttpResponse:
    context = {"error": text, "can_edit": False, "connection": None, "form": None}
    return render(request, "integrations/website/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_required
def website_settings(request: HttpRequest) -> HttpResponse:
    if not request.membership.at_least(Role.ADMIN):
        return _refused(request, 403, ONLY_ADMINS)
    if request.method == "GET":
        return _render(request)
    form = WebsiteForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400, error="Nothing was saved: check the form.")
    try:
        website_connect(
            tenant_id=request.membership.tenant_id, actor_user=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _render(request, form, status=400, error="Nothing was saved: check the form.")
    messages.success(request, "Website saved.")
    return redirect("integrations:index")


@require_http_methods(["GET", "POST"])
@tenant_required
def website_disconnect(request: HttpRequest) -> HttpResponse:
    """GET asks to confirm; POST disconnects."""
    if not request.membership.at_least(Role.ADMIN):
        return _refused(request, 403, ONLY_ADMINS)
    if request.method == "GET":
        connection = connection_get(tenant_id=request.membership.tenant_id, kind=KIND)
        if connection is None:
            return _refused(request, 404, NOT_CONNECTED)
        context = {"connection": connection}
        return render(request, "integrations/website/disconnect.html", context)
    if not connection_disconnect(
        tenant_id=request.membership.tenant_id, kind=KIND, actor_user=request.user
    ):
        return _refused(request, 404, NOT_CONNECTED)
    messages.success(request, "Website disconnected; its WordPress password was deleted.")
    return redirect("integrations:index")


@require_POST
@tenant_required
def website_check_now(request: HttpRequest) -> HttpResponse:
    if not request.membership.at_least(Role.ADMIN):
        return _refused(request, 403, ONLY_ADMINS)
    connection = connection_get(tenant_id=request.membership.tenant_id, kind=KIND)
    if connection is None:
        return _refused(request, 404, NOT_CONNECTED)
    result = website_check(connection=connection, actor_user=request.user)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("integrations:index")
