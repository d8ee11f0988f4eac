"""Helpers shared by the portal views: the membership gate and service-error handling."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst


def tenant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else to the login page) and a member of some tenant (else "no team", 404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership is None:
            return render(request, "portal/no_tenant.html", status=404)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def error_text(exc: Exception) -> str:
    """The human message of a service's ValidationError / PermissionDenied, as a sentence."""
    if isinstance(exc, ValidationError):
        text = " ".join(exc.messages)
    else:
        text = str(exc) or "You are not allowed to do that."
    text = text.strip()
    if "@" not in text.split(" ", 1)[0]:  # "only owners…" → "Only owners…", not an email
        text = capfirst(text)
    return text if text.endswith((".", "!", "?")) else f"{text}."


def service_error_status(exc: Exception) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 400
