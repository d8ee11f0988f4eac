"""The integrations page: one card per connection kind (see integrations/kinds.py).
Everyone in the tenant sees status and last error; owners and admins change things."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.kinds import cards
from integrations.selectors import connections_by_kind
from tenants.models import Role
from tenants.views.common import tenant_required


@require_GET
@tenant_required
def integrations_index(request: HttpRequest) -> HttpResponse:
    tenant = request.membership.tenant
    connected = connections_by_kind(tenant_id=tenant.pk)
    shown = []
    for card in cards():
        connection = connected.get(card.kind)
        extra = card.context(request, connection) if card.context else {}
        shown.append({"card": card, "connection": connection, **extra})
    context = {"cards": shown, "can_edit": request.membership.at_least(Role.ADMIN)}
    return render(request, "integrations/index.html", context)
