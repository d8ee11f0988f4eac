"""The tenant's home: what is set up, what comes next, and what happened lately."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenants.dashboard import dashboard_cards
from tenants.selectors import audit_recent
from tenants.views.common import tenant_required


@require_GET
@tenant_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {"recent_events": audit_recent(limit=10), "cards": dashboard_cards(request)}
    return render(request, "portal/dashboard.html", context)
