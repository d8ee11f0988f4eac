"""Orion's name and icon where Django would show its own: the staff admin's titles and
/favicon.ico (browsers ask for it on every page)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<circle cx="16" cy="16" r="15" fill="#2f5fd0"/>'
    '<circle cx="10" cy="12" r="2" fill="#fff"/><circle cx="16" cy="16" r="2" fill="#fff"/>'
    '<circle cx="22" cy="20" r="2" fill="#fff"/></svg>'
)


def brand_admin() -> None:
    admin.site.site_header = "Orion staff admin"
    admin.site.site_title = "Orion admin"
    admin.site.index_title = "Control plane"


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
