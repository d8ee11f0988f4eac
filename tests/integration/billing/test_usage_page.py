"""The usage page (charts: daily spend per agent, model mix, fallback rate) and the CSV
export: days in the tenant's time zone, only the tenant's own calls, bad ranges a 400."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import UsageEvent
from billing.portal.charts import HEIGHT, fallback_bars, spend_bars
from billing.selectors import usage_range
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
PAGE = "/billing/usage/"
CSV = "/billing/usage.csv"
RANGE = {"start": "2026-11-20", "end": "2026-11-21"}


def _event(tenant, key, at, *, agent=1, model="glm-4.7", cost=10_000, fell=False, **extra):
    return UsageEvent(
        tenant=tenant, key=key, agent_id=agent, model=model, cost_micros=cost, fell_back=fell,
        input_tokens=100, output_tokens=10, created_at=at, **extra,
    )  # fmt: skip


SONNET = "claude-sonnet-4-5"


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def usage(cast):
    """Berlin: 23:30 UTC on the 20th is already the 21st there."""
    tenant = cast.tenant
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    UsageEvent.objects.bulk_create([
        _event(tenant, "a", _utc(20, 9), cost=20_000, run_id=5, latency_ms=812.34),
        _event(tenant, "b", _utc(20, 10), agent=2, model=SONNET, cost=60_000, fell=True),
        _event(tenant, "c", _utc(20, 23, 30), cost=10_000),
        _event(tenant, "d", _utc(21, 8), model=SONNET, cost=30_000, fell=True),
        _event(tenant, "e", _utc(19, 22, 59), cost=99_000),  # the 19th in Berlin
        _event(tenant, "f", _utc(21, 23), cost=99_000),  # the 22nd in Berlin
        _event(cast.other_tenant, "z", _utc(20, 9), model="their-model"),
    ])  # fmt: skip
    return tenant


def test_chart_data_per_local_day_agent_and_model(usage):
    with tenant_scope(usage):
        data = usage_range(tenant=usage, start=date(2026, 11, 20), end=date(2026, 11, 21))
    day20, day21 = data["daily"]
    assert (day20["day"], day20["agents"], day20["calls"], day20["fell_back"]) == (
        date(2026, 11, 20), {1: 20_000, 2: 60_000}, 2, 1,
    )  # fmt: skip
    assert day20["fallback_rate"] == 0.5
    assert (day21["agents"], day21["calls"], day21["fell_back"]) == ({1: 40_000}, 2, 1)
    assert data["agents"] == [1, 2] and data["calls"] == 4 and data["cost_micros"] == 120_000
    assert [(m["model"], m["calls"], m["cost_micros"], m["share"]) for m in data["models"]] == [
        ("claude-sonnet-4-5", 2, 90_000, 0.5),
        ("glm-4.7", 2, 30_000, 0.5),
    ]
    assert data["fallback_rate"] == 0.5


def test_chart_geometry_scales_to_the_busiest_day(usage):
    with tenant_scope(usage):
        data = usage_range(tenant=usage, start=date(2026, 11, 20), end=date(2026, 11, 21))
    bars = spend_bars(data)
    assert [b.h for b in bars] == [HEIGHT * 20 / 80, HEIGHT * 60 / 80, HEIGHT * 40 / 80]
    assert bars[0].color != bars[1].color and bars[0].color == bars[2].color  # per agent
    assert bars[1].y == 0.0 and bars[1].title == "20 Nov: agent #2 0.0600 USD"
    fallbacks = fallback_bars(data)
    assert [b.h for b in fallbacks] == [HEIGHT / 2, HEIGHT / 2]
    assert fallbacks[0].title == "20 Nov: 1 of 2 calls fell back (50%)"


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_everyone_in_the_company_sees_the_charts(client_as, usage, role):
    response = client_as(role).get(PAGE, RANGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="spend-chart"' in text and 'id="fallback-chart"' in text and 'id="model-mix"' in text
    assert text.count("<rect ") == 5  # 3 spend segments, 2 fallback days
    assert "claude-sonnet-4-5" in text and "their-model" not in text
    assert "<script" not in text and "cdn" not in text.lower()


def test_the_outsider_sees_only_their_own_usage(client_as, usage):
    text = client_as("outsider").get(PAGE, RANGE).content.decode()
    assert "their-model" in text and "claude-sonnet-4-5" not in text
    rows = list(csv.reader(io.StringIO(_csv(client_as("outsider").get(CSV, RANGE)))))
    assert [r[6] for r in rows[1:]] == ["their-model"]


def test_the_page_defaults_to_the_last_30_days(client_as, usage):
    response = client_as("owner").get(PAGE)
    assert response.status_code == 200
    data = response.context["usage"]
    assert (data["end"] - data["start"]).days == 29 and len(data["daily"]) == 30


def _csv(response) -> str:
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_csv_export_has_the_ranges_calls_in_local_time(client_as, usage, role):
    response = client_as(role).get(CSV, RANGE)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="usage-acme-plumbing-2026-11-20-2026-11-21.csv"'
    )
    rows = list(csv.reader(io.StringIO(_csv(response))))
    assert rows[0][:7] == [
        "created_at",
        "day",
        "agent_id",
        "run_id",
        "session_id",
        "provider",
        "model",
    ]
    assert [r[0] for r in rows[1:]] == [
        "2026-11-20T10:00:00+01:00",
        "2026-11-20T11:00:00+01:00",
        "2026-11-21T00:30:00+01:00",
        "2026-11-21T09:00:00+01:00",
    ]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["day"] == "2026-11-20" and first["agent_id"] == "1" and first["run_id"] == "5"
    assert first["cost_usd"] == "0.020000" and first["fell_back"] == "False"
    assert first["latency_ms"] == "812.3" and first["session_id"] == ""


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client_as, usage):
    UsageEvent.objects.bulk_create([
        _event(usage, "x1", _utc(20, 12), model='=HYPERLINK("http://evil.test","x")',
               provider="+cmd"),
        _event(usage, "x2", _utc(20, 13), model="@SUM(A1)", provider="-2+3"),
    ])  # fmt: skip
    rows = list(csv.reader(io.StringIO(_csv(client_as("owner").get(CSV, RANGE)))))
    cells = {(r[5], r[6]) for r in rows[1:]}
    assert ("'+cmd", """'=HYPERLINK("http://evil.test","x")""") in cells
    assert ("'-2+3", "'@SUM(A1)") in cells
    assert ("", "glm-4.7") in cells  # ordinary cells are left alone
    assert all(r[0][:1].isdigit() and r[10][:1].isdigit() for r in rows[1:])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "20-11-2026"}, "start: use a date like 2026-11-25."),
        ({"start": "2026-11-20", "end": "2026-02-30"}, "end: use a date like 2026-11-25."),
        ({"start": "2026-11-21", "end": "2026-11-20"}, "The end date is before the start date."),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "Choose at most 366 days."),
        ({"start": "2999-01-01"}, "The end date is before the start date."),
        ({"start": "2999-12-30", "end": "9999-12-31"}, "end: use a date from 2000 to 2999."),
        ({"end": "0001-01-05"}, "end: use a date from 2000 to 2999."),
        ({"start": "0001-01-01", "end": "2026-11-20"}, "start: use a date from 2000 to 2999."),
    ],
)
def test_bad_ranges_are_a_400_saying_why(client_as, usage, query, message):
    client = client_as("owner")
    response = client.get(CSV, query)
    assert response.status_code == 400 and response.content.decode() == message
    page = client.get(PAGE, query)
    assert page.status_code == 400 and page.context["error"] == message


def test_the_page_costs_the_same_queries_however_many_calls(client_as, usage):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client_as("owner").get(PAGE, RANGE).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    UsageEvent.objects.bulk_create(
        _event(usage, f"more{i}", _utc(20, 12), agent=10 + i % 7, model=f"m{i % 5}")
        for i in range(300)
    )
    assert queries() == few
