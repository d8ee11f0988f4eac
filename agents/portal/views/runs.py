"""A run's page: what the agent was asked and answered, the tools it called, and every
model call with its failover attempts (key, model, error class, duration, fallback): the
plumbing working, shown to the customer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.portal.selectors import run_detail
from agents.portal.views.common import found
from tenants.views.common import tenant_required


@require_GET
@tenant_required
def run_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "agents/run.html", {"detail": found(run_detail(pk=pk), "run")})
