"""Who may do what on the portal's agent pages: owners and admins steer the team (agents,
goals, starter team), members also work tasks and comment, viewers read."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.models import Role

STEER = Role.ADMIN
WORK = Role.MEMBER

REFUSALS = {
    STEER: "Only owners and admins can change the agents and goals.",
    WORK: "Viewers can read the team's work but not change it.",
}


def can_steer(request: HttpRequest) -> bool:
    return request.membership.at_least(STEER)


def can_work(request: HttpRequest) -> bool:
    return request.membership.at_least(WORK)


def role_required(
    role: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Refuse (403, with the reason on a page) a member below `role`. Goes inside
    `tenant_required`, and after the view looked its object up would leak nothing more:
    an object of another tenant is a 404 either way, because the lookup runs in scope."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.membership.at_least(role):
                return render(
                    request, "agents/forbidden.html", {"reason": REFUSALS[role]}, status=403
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
