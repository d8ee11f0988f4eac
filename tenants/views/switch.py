"""The tenant switcher: act for another tenant the signed-in user belongs to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tenants.middleware import SESSION_KEY
from tenants.selectors import membership_for


@require_POST
@login_required
def switch_tenant(request: HttpRequest) -> HttpResponse:
    try:
        tenant_id = int(request.POST.get("tenant_id", ""))
    except ValueError:
        raise Http404("No such team.") from None
    membership = membership_for(user=request.user, tenant_id=tenant_id)
    if membership is None:
        raise Http404("No such team.")
    request.session[SESSION_KEY] = membership.tenant_id
    messages.success(request, f"You are now working in {membership.tenant.name}.")
    return redirect("portal:dashboard")
