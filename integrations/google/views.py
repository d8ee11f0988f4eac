"""Google's pages: the overview (everyone in the tenant), connect / reconnect / disconnect
and the OAuth callback (owners and admins). The tokens belong to the tenant, not to the
person who clicked; they are never shown back."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.google.forms import DisconnectForm
from integrations.google.oauth import OAuthRefused, oauth_configured, oauth_finish, oauth_start
from integrations.google.scopes import PRODUCT_LABELS, PRODUCTS, products_granted
from integrations.google.selectors import google_overview
from integrations.google.services import RevokeFailed, google_connect, google_disconnect
from integrations.models import ConnectionKind
from integrations.selectors import connection_get
from tenants.models import Role
from tenants.views.common import tenant_required

NOT_ALLOWED = "Only owners and admins can connect or disconnect Google."


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "integrations/google/problem.html", {"message": message}, status=status)


def _redirect_uri() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("integrations:google:callback")


def _render(request: HttpRequest, form: DisconnectForm | None = None, status: int = 200):
    connection = connection_get(tenant_id=request.membership.tenant_id, kind=ConnectionKind.GOOGLE)
    context = {
        "connection": connection,
        "google": google_overview(connection),
        "can_edit": request.membership.at_least(Role.ADMIN),
        "form": form or DisconnectForm(),
    }
    return render(request, "integrations/google/page.html", context, status=status)


@require_GET
@tenant_required
def page(request: HttpRequest) -> HttpResponse:
    return _render(request)


def _start(request: HttpRequest, products: list[str]) -> HttpResponse:
    if not request.membership.at_least(Role.ADMIN):
        return _problem(request, NOT_ALLOWED, 403)
    if not oauth_configured():
        return _problem(
            request,
            "Google sign-in is not set up on this server yet (no OAuth client). "
            "Orion staff have to configure it.",
            503,
        )
    tenant_id = request.membership.tenant_id
    existing = connection_get(tenant_id=tenant_id, kind=ConnectionKind.GOOGLE)
    url = oauth_start(
        session=request.session,
        tenant_id=tenant_id,
        products=products,
        redirect_uri=_redirect_uri(),
        login_hint=existing.config.get("email", "") if existing else "",
    )
    return redirect(url)


@require_POST
@tenant_required
def connect(request: HttpRequest, product: str) -> HttpResponse:
    if product not in PRODUCTS:
        return _problem(request, f"There is no Google product {product[:40]!r} to connect.", 404)
    return _start(request, [product])


@require_POST
@tenant_required
def reconnect(request: HttpRequest) -> HttpResponse:
    """Ask again for everything the connection had (after a revoke or an expiry)."""
    existing = connection_get(tenant_id=request.membership.tenant_id, kind=ConnectionKind.GOOGLE)
    if existing is None:
        return _problem(request, "Google is not connected for this company.", 404)
    return _start(request, existing.config.get("products") or ["gmail"])


@require_GET
@tenant_required
def callback(request: HttpRequest) -> HttpResponse:
    if not request.membership.at_least(Role.ADMIN):
        return _problem(request, NOT_ALLOWED, 403)
    tenant_id = request.membership.tenant_id
    try:
        grant, asked = oauth_finish(
            session=request.session,
            tenant_id=tenant_id,
            params=request.GET.dict(),
            redirect_uri=_redirect_uri(),
        )
    except OAuthRefused as exc:
        return _problem(request, str(exc), 400)
    granted = products_granted(grant.scopes)
    missing = [PRODUCT_LABELS[p] for p in asked if p not in granted]
    if len(missing) == len(asked):
        return _problem(
            request,
            f"Google did not grant access to {' and '.join(missing)} (the box was left "
            "unticked). Nothing was changed; connect again and allow it.",
            400,
        )
    google_connect(tenant_id=tenant_id, grant=grant, actor_user=request.user)
    done = [PRODUCT_LABELS[p] for p in asked if p in granted]
    messages.success(request, f"Connected {' and '.join(done)} ({grant.email or 'Google'}).")
    if missing:
        messages.warning(request, f"{' and '.join(missing)} was not granted.")
    return redirect("integrations:google:page")


@require_POST
@tenant_required
def disconnect(request: HttpRequest) -> HttpResponse:
    if not request.membership.at_least(Role.ADMIN):
        return _problem(request, NOT_ALLOWED, 403)
    tenant_id = request.membership.tenant_id
    if connection_get(tenant_id=tenant_id, kind=ConnectionKind.GOOGLE) is None:
        return _problem(request, "Google is not connected for this company.", 404)
    form = DisconnectForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        google_disconnect(tenant_id=tenant_id, actor_user=request.user)
    except RevokeFailed as exc:
        return _problem(
            request,
            f"Google could not revoke Orion's access ({exc}). Nothing was changed; try again.",
            502,
        )
    messages.success(request, "Google disconnected: access revoked and tokens deleted.")
    return redirect("integrations:index")
