"""The portal's billing page: the plan and subscription status (with the past-due
banner), Subscribe (Stripe Checkout) and Manage billing (the Customer Portal) for owners,
and the owner's choice of when the daily usage report goes out."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billing.portal.forms import ReportTimeForm
from billing.selectors import billing_state
from billing.services.accounts import report_time_set
from billing.services.subscriptions import BillingUnavailable, checkout_start, portal_start
from tenants.models import Role
from tenants.views.common import error_text, tenant_required

ONLY_OWNERS = "Only owners can change billing."


def _render(
    request: HttpRequest,
    *,
    form: ReportTimeForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    tenant = request.membership.tenant
    state = billing_state(tenant_id=tenant.pk)
    context = {
        "state": state,
        "form": form or ReportTimeForm(initial={"report_time": state.account.report_time}),
        "is_owner": request.membership.at_least(Role.OWNER),
        "error": error,
        "checkout": request.GET.get("checkout", ""),
    }
    return render(request, "billing/account.html", context, status=status)


@require_GET
@tenant_required
def account_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


def _to_stripe(request: HttpRequest, start: Callable[[], str]) -> HttpResponse:
    if not request.membership.at_least(Role.OWNER):
        return _render(request, status=403, error=ONLY_OWNERS)
    try:
        url = start()
    except ValidationError as exc:
        return _render(request, status=400, error=error_text(exc))
    except BillingUnavailable as exc:
        return _render(request, status=502, error=str(exc))
    return HttpResponseRedirect(url, status=303)


@require_POST
@tenant_required
def checkout(request: HttpRequest) -> HttpResponse:
    return _to_stripe(
        request,
        lambda: checkout_start(
            tenant=request.membership.tenant,
            plan_id=request.POST.get("plan", ""),
            actor_user=request.user,
        ),
    )


@require_POST
@tenant_required
def customer_portal(request: HttpRequest) -> HttpResponse:
    return _to_stripe(
        request, lambda: portal_start(tenant=request.membership.tenant, actor_user=request.user)
    )


@require_POST
@tenant_required
def report_time(request: HttpRequest) -> HttpResponse:
    if not request.membership.at_least(Role.OWNER):
        return _render(request, status=403, error=ONLY_OWNERS)
    form = ReportTimeForm(request.POST)
    if not form.is_valid():
        return _render(request, form=form, status=400, error="Nothing was saved: check the time.")
    report_time_set(
        tenant=request.membership.tenant,
        report_time=form.cleaned_data["report_time"],
        actor_user=request.user,
    )
    messages.success(request, "Report time saved.")
    return redirect("billing:account")
