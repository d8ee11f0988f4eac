"""The integrations page: one card per connection kind (see integrations/kinds.py), and the
tenant's deliveries with their attempts. Everyone in the tenant sees status, last error and
deliveries; owners and admins change things (on each kind's own page)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.kinds import cards
from integrations.models import DeliveryStatus
from integrations.portal.selectors import (
    deliveries_page,
    deliveries_recent,
    deliveries_shown,
    delivery_attempts,
    delivery_get,
)
from integrations.selectors import connections_by_kind
from tenants.models import Role
from tenants.views.common import tenant_required

FINAL = {DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN}
POLL_SECONDS = 2
PAGE_SIZE = 50


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
    context = {
        "cards": shown,
        "can_edit": request.membership.at_least(Role.ADMIN),
        "deliveries": deliveries_recent(tenant_id=tenant.pk),
    }
    return render(request, "integrations/index.html", context)


@require_GET
@tenant_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    rows = deliveries_page(tenant_id=request.membership.tenant_id)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "deliveries": deliveries_shown(page.object_list)}
    return render(request, "integrations/deliveries.html", context)


@require_GET
@tenant_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A delivery and every attempt; the page reloads itself until the delivery is final."""
    delivery = delivery_get(tenant_id=request.membership.tenant_id, pk=pk)
    if delivery is None:
        raise Http404("No such delivery in this team.")
    final = delivery.status in FINAL
    context = {
        "delivery": delivery,
        "attempts": delivery_attempts(delivery=delivery),
        "final": final,
        "poll_seconds": None if final else POLL_SECONDS,
    }
    return render(request, "integrations/delivery.html", context)
