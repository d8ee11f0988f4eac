"""The goal tree from the company mission down; owners and admins add goals."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from agents.portal.access import STEER, can_steer, role_required
from agents.portal.forms import GoalForm, service_errors_add
from agents.portal.once import submit_claim, submit_release
from agents.portal.selectors import goal_tree
from agents.services.work import goal_create
from tenants.views.common import tenant_required


def _render(request: HttpRequest, form: GoalForm | None = None, status: int = 200) -> HttpResponse:
    context = {"tree": goal_tree(), "form": form or GoalForm(), "can_steer": can_steer(request)}
    return render(request, "agents/goals.html", context, status=status)


@require_GET
@tenant_required
def goals(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@tenant_required
@role_required(STEER)
def goal_new(request: HttpRequest) -> HttpResponse:
    form = GoalForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data.pop("submit_token")
        if not submit_claim(token):
            messages.info(request, "That goal was sent already: nothing was added twice.")
            return redirect("agents:goals")
        try:
            goal = goal_create(actor_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            submit_release(token)
            service_errors_add(form, exc)
        else:
            messages.success(request, f"Goal “{goal.title}” was added.")
            return redirect("agents:goals")
    return _render(request, form, status=400)
