"""`/` for visitors who are not signed in: what Orion is, with sign-in and sign-up."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def landing_for_anonymous(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors get the landing page; everyone else the wrapped view."""

    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated and request.method in ("GET", "HEAD"):
            return render(request, "portal/landing.html")
        return view(request, *args, **kwargs)

    return wrapper
