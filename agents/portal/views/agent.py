"""An agent's page: who it is, its schedule and chain, its status with the reason, the last
runs; owners and admins edit it, pause/resume it and "run now", whose progress the page
polls (`progress`) until the run ends."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from agents.portal.access import STEER, can_steer, role_required
from agents.portal.forms import AgentForm, service_errors_add
from agents.portal.selectors import agent_get, agent_runs_recent, run_progress
from agents.portal.views.common import found
from agents.services.agents import agent_pause, agent_resume, agent_update
from agents.services.run_now import agent_run_now
from tenants.views.common import error_text, tenant_required

EDIT_FIELDS = ("title", "instructions", "reports_to", "schedule_kind", "cron", "interval_s")


def _since(request: HttpRequest) -> datetime | None:
    """The moment "run now" was asked, carried in the URL as epoch seconds."""
    raw = request.GET.get("since", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    if not 0 < value < 1e11:
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def _render(
    request: HttpRequest, agent: Agent, form: AgentForm | None = None, status: int = 200
) -> HttpResponse:
    since = _since(request)
    initial = {name: getattr(agent, name) for name in EDIT_FIELDS}
    context = {
        "agent": agent,
        "runs": agent_runs_recent(agent_id=agent.pk),
        "can_steer": can_steer(request),
        "form": form or AgentForm(initial=initial),
        "since": since,
        "progress": run_progress(agent=agent, since=since) if since else None,
    }
    return render(request, "agents/agent.html", context, status=status)


@require_GET
@tenant_required
def agent_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, found(agent_get(pk=pk), "agent"))


@require_POST
@tenant_required
@role_required(STEER)
def agent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agent = found(agent_get(pk=pk), "agent")
    form = AgentForm(request.POST)
    if form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k in EDIT_FIELDS}
        try:
            agent_update(agent=agent, actor_user=request.user, **values)
        except ValidationError as exc:
            service_errors_add(form, exc)
        else:
            messages.success(request, f"{agent.name} was saved.")
            return redirect("agents:agent", pk=agent.pk)
    return _render(request, agent, form, status=400)


@require_POST
@tenant_required
@role_required(STEER)
def agent_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    agent = agent_pause(agent=found(agent_get(pk=pk), "agent"), actor_user=request.user)
    messages.success(request, f"{agent.name} is paused: no new heartbeat starts.")
    return redirect("agents:agent", pk=agent.pk)


@require_POST
@tenant_required
@role_required(STEER)
def agent_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    agent = agent_resume(agent=found(agent_get(pk=pk), "agent"), actor_user=request.user)
    messages.success(request, f"{agent.name} is working again.")
    return redirect("agents:agent", pk=agent.pk)


@require_POST
@tenant_required
@role_required(STEER)
def agent_run_now_view(request: HttpRequest, pk: int) -> HttpResponse:
    agent = found(agent_get(pk=pk), "agent")
    asked = timezone.now()
    try:
        agent_run_now(agent=agent, actor_user=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return _render(request, agent, status=400)
    url = reverse("agents:agent", kwargs={"pk": agent.pk})
    return redirect(f"{url}?since={asked.timestamp():.3f}#progress")


@require_GET
@tenant_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The "run now" progress fragment the page polls until it says finished."""
    agent = found(agent_get(pk=pk), "agent")
    since = _since(request)
    if since is None:
        return HttpResponse("Say since when (?since=epoch seconds).", status=400)
    context = {"agent": agent, "progress": run_progress(agent=agent, since=since), "since": since}
    return render(request, "agents/_progress.html", context)
