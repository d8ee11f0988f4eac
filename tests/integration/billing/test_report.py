"""The daily usage report: its contents for a day with a fallback, delivered by email to
owners and admins once, at 20:00 in the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billing.models import UsageEvent, UsageReport
from billing.services.reports import usage_report_text, usage_reports_due
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_of_work(cast):
    tenant = cast.tenant
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    noon = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    with tenant_scope(tenant):
        for key, model, fell, cost in (
            ("a", "glm-4.7", False, 2_000),
            ("b", "claude-haiku-4-5", True, 30_000),
        ):
            UsageEvent.objects.create(
                key=key,
                agent_id=4,
                session_id=9,
                model=model,
                input_tokens=1_000,
                output_tokens=50,
                cost_micros=cost,
                fell_back=fell,
                created_at=noon,
            )
    return tenant


def test_the_report_shows_cost_tokens_models_and_fallbacks(day_of_work):
    with tenant_scope(day_of_work):
        text = usage_report_text(tenant=day_of_work, day=date(2026, 11, 24))
    assert "Total: 0.0320 USD" in text
    assert (
        "#4: 2 calls, 2000 in / 100 out tokens, 0.0320 USD, claude-haiku-4-5, glm-4.7, "
        "1 fell back" in text
    )
    assert "Per session:" in text and "#9: 2 calls" in text


def test_it_goes_to_owners_and_admins_once_after_20_in_the_tenants_zone(
    day_of_work, mailoutbox, cast
):
    assert usage_reports_due(now=datetime(2026, 11, 24, 18, 59, tzinfo=UTC)) == 0  # 19:59
    at_eight = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # 20:00 in Berlin
    assert usage_reports_due(now=at_eight) >= 1
    assert usage_reports_due(now=at_eight) == 0  # once
    ours = [m for m in mailoutbox if "owner@acme.test" in m.to]
    assert len(ours) == 1
    assert sorted(ours[0].to) == ["admin@acme.test", "owner@acme.test"]
    assert "1 fell back" in ours[0].body and "Europe/Berlin" in ours[0].body
    with tenant_scope(day_of_work):
        report = UsageReport.objects.get()
        assert report.day == date(2026, 11, 24) and report.recipients == 2 and report.sent_at
