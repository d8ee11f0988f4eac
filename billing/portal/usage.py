"""The portal's usage page (charts: daily spend per agent, model mix, fallback rate) and
its CSV export. Every member sees their own company's usage."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.portal.charts import (
    HEIGHT,
    WIDTH,
    agent_colors,
    agent_label,
    fallback_bars,
    spend_bars,
)
from billing.portal.forms import UsageRangeForm
from billing.selectors import CSV_FIELDS, billing_state, usage_range, usage_rows
from tenants.models import Tenant
from tenants.views.common import tenant_required

DEFAULT_DAYS = 30


def _range(request: HttpRequest, tenant: Tenant) -> tuple[date, date] | str:
    """The requested (start, end), defaulting to the last 30 local days; or the error."""
    form = UsageRangeForm(request.GET)
    if not form.is_valid():
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in form.errors.items())
    today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
    end = form.cleaned_data["end"] or today
    start = form.cleaned_data["start"] or min(end, today) - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        return "The end date is before the start date."
    if (end - start).days + 1 > UsageRangeForm.MAX_DAYS:
        return f"Choose at most {UsageRangeForm.MAX_DAYS} days."
    return start, end


@require_GET
@tenant_required
def usage_page(request: HttpRequest) -> HttpResponse:
    tenant = request.membership.tenant
    chosen = _range(request, tenant)
    context = {"state": billing_state(tenant_id=tenant.pk), "width": WIDTH, "height": HEIGHT}
    if isinstance(chosen, str):
        context["error"] = chosen
        return render(request, "billing/usage.html", context, status=400)
    start, end = chosen
    usage = usage_range(tenant=tenant, start=start, end=end)
    colors = agent_colors(usage["agents"])
    context.update(
        usage=usage,
        spend=spend_bars(usage),
        fallbacks=fallback_bars(usage),
        legend=[(agent_label(a), colors[a]) for a in usage["agents"]],
    )
    return render(request, "billing/usage.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (a model or provider name is
    whatever the agent's configuration said) gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_lines(rows: Iterator[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_FIELDS)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


@require_GET
@tenant_required
def usage_csv(request: HttpRequest) -> HttpResponse:
    tenant = request.membership.tenant
    chosen = _range(request, tenant)
    if isinstance(chosen, str):
        return HttpResponse(chosen, status=400, content_type="text/plain; charset=utf-8")
    start, end = chosen
    response = StreamingHttpResponse(
        _csv_lines(usage_rows(tenant=tenant, start=start, end=end)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="usage-{tenant.slug}-{start}-{end}.csv"'
    )
    return response
