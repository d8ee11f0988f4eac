"""The team: the org chart (reports_to tree) and, for a company without agents, the starter
team in one click with the mission asked once."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from agents.portal.access import STEER, can_steer, role_required
from agents.portal.forms import StarterTeamForm, service_errors_add
from agents.portal.selectors import agents_list, org_chart
from agents.services.starter import starter_team_create
from tenants.views.common import tenant_required


def _render(request: HttpRequest, form: StarterTeamForm | None = None, status: int = 200):
    agents = agents_list()
    context = {
        "agents": agents,
        "chart": org_chart(agents=agents),
        "can_steer": can_steer(request),
        "starter_form": form or StarterTeamForm(initial={"mission": request.tenant.mission}),
    }
    return render(request, "agents/team.html", context, status=status)


@require_GET
@tenant_required
def team(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@tenant_required
@role_required(STEER)
def starter_team(request: HttpRequest) -> HttpResponse:
    """Idempotent: a second submit finds the agents by template and creates nothing."""
    form = StarterTeamForm(request.POST)
    if form.is_valid():
        try:
            agents = starter_team_create(
                tenant=request.tenant,
                actor_user=request.user,
                mission=form.cleaned_data["mission"],
                team=form.cleaned_data["team"],
            )
        except ValidationError as exc:
            service_errors_add(form, exc)
        else:
            names = ", ".join(a.name for a in agents)
            messages.success(request, f"Your team is ready: {names}.")
            return redirect("agents:team")
    return _render(request, form, status=400)
