"""The portal's budget and usage page: everyone in the tenant sees this month's budget and
a day's usage; owners change the budget."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from billing.portal.forms import BudgetForm
from billing.selectors import billing_state, budget_overview, usage_day
from billing.services.budgets import budget_set
from tenants.models import Role
from tenants.views.common import error_text, tenant_required


def _day(request: HttpRequest, tz: str) -> date:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.now().astimezone(ZoneInfo(tz)).date()


def _render(
    request: HttpRequest, form: BudgetForm | None = None, *, status: int = 200, error: str = ""
) -> HttpResponse:
    tenant = request.membership.tenant
    overview = budget_overview(tenant=tenant)
    limit = overview["limit_cents"]
    initial = {
        "limit_usd": limit / 100 if limit is not None else None,
        "soft_pct": overview["soft_pct"],
    }
    context = {
        "state": billing_state(tenant_id=tenant.pk),
        "budget": overview,
        "usage": usage_day(tenant=tenant, day=_day(request, tenant.timezone)),
        "form": form or BudgetForm(initial=initial),
        "can_edit": request.membership.at_least(Role.OWNER),
        "error": error,
    }
    return render(request, "billing/budget.html", context, status=status)


@require_http_methods(["GET", "POST"])
@tenant_required
def budget_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request)
    if not request.membership.at_least(Role.OWNER):
        return _render(request, status=403, error="Only owners can change the budget.")
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400, error="Nothing was saved: check the form.")
    try:
        budget_set(
            tenant=request.membership.tenant,
            limit_cents=int(form.cleaned_data["limit_usd"] * 100),
            soft_pct=form.cleaned_data["soft_pct"],
            actor_user=request.user,
        )
    except ValidationError as exc:
        return _render(request, form, status=400, error=error_text(exc))
    messages.success(request, "Budget saved.")
    return redirect("billing:budget")
