"""The daily usage report: its contents for a day with a fallback; sent once per local day
after the time the owner chose, in the tenant's own time zone, through the Delivery path
(email to the owners, and the team's messaging channel when connected)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from billing.models import UsageEvent, UsageReport
from billing.services.accounts import report_time_set
from billing.services.reports import usage_report_text, usage_reports_due
from integrations.models import Delivery
from integrations.services.connections import connection_connect
from tenants.models import Membership, Role
from tenants.scope import tenant_scope
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Hs"


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def deliveries(tenant) -> list[tuple[str, str, str]]:
    rows = Delivery.objects.unscoped().filter(tenant=tenant).order_by("kind", "recipient")
    return [(d.kind, d.recipient, d.key) for d in rows]


def days(tenant) -> list[date]:
    return sorted(
        UsageReport.objects.unscoped().filter(tenant=tenant).values_list("day", flat=True)
    )


@pytest.fixture
def day_of_work(cast):
    tenant = cast.tenant
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    with tenant_scope(tenant):
        for key, model, fell, cost in (
            ("a", "glm-4.7", False, 2_000),
            ("b", "claude-haiku-4-5", True, 30_000),
        ):
            UsageEvent.objects.create(
                key=key, agent_id=4, session_id=9, model=model, input_tokens=1_000,
                output_tokens=50, cost_micros=cost, fell_back=fell, created_at=_utc(24, 11),
            )  # fmt: skip
    return tenant


@pytest.fixture
def new_york(cast):
    """The other company, in New York, wants its report at 07:30 local time."""
    tenant = cast.other_tenant
    tenant.timezone = "America/New_York"
    tenant.save()
    report_time_set(tenant=tenant, report_time=time(7, 30))
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
    assert text.endswith("/billing/usage/")
    assert "from Mon 23 Nov 20:00 to Tue 24 Nov 2026 20:00 (Europe/Berlin)" in text


def test_every_call_is_in_exactly_one_report_the_one_after_it(day_of_work):
    """A call at 21:00 in Berlin, after the 24th's 20:00 report, is in the 25th's."""
    with tenant_scope(day_of_work):
        UsageEvent.objects.create(
            key="late", agent_id=5, model="glm-4.7", cost_micros=7_000, created_at=_utc(24, 20)
        )
        on_24th = usage_report_text(tenant=day_of_work, day=date(2026, 11, 24))
        on_25th = usage_report_text(tenant=day_of_work, day=date(2026, 11, 25))
        at_midnight = usage_report_text(tenant=day_of_work, day=date(2026, 11, 25), at=time(0))
    assert "#5:" not in on_24th and "#4:" in on_24th
    assert "#5:" in on_25th and "#4:" not in on_25th
    # A report at 00:00 covers the whole previous local day.
    assert "#5:" in at_midnight and "#4:" in at_midnight


def test_default_20_00_in_the_tenants_zone_sent_once_through_delivery(day_of_work, cast):
    assert usage_reports_due(now=_utc(24, 18, 59)) == 0  # 19:59 in Berlin
    assert deliveries(day_of_work) == []
    assert usage_reports_due(now=_utc(24, 19)) == 1  # 20:00 in Berlin
    assert usage_reports_due(now=_utc(24, 19)) == 0  # once
    assert deliveries(cast.other_tenant) == []  # 19:00 UTC: not due for the other company
    usage_reports_due(now=_utc(24, 22, 45))  # later ticks of the same day
    assert days(day_of_work) == [date(2026, 11, 24)]
    key = f"report:{day_of_work.pk}:2026-11-24"
    assert deliveries(day_of_work) == [("email", "owner@acme.test", f"{key}:email:owner@acme.test")]
    delivery = Delivery.objects.unscoped().get(tenant=day_of_work)
    assert delivery.purpose == "report" and delivery.subject == "Orion: model usage on 24 Nov 2026"
    assert "1 fell back" in delivery.body and "Europe/Berlin" in delivery.body
    with tenant_scope(day_of_work):
        report = UsageReport.objects.get()
    assert report.day == date(2026, 11, 24) and report.recipients == 1 and report.sent_at


def test_the_team_channel_gets_it_too_when_connected(day_of_work):
    connection_connect(
        tenant_id=day_of_work.pk, kind="telegram", config={"chat_id": "-100"},
        secret={"token": TOKEN},
    )  # fmt: skip
    assert usage_reports_due(now=_utc(24, 19, 5)) == 1
    assert [kind for kind, _, _ in deliveries(day_of_work)] == ["email", "telegram"]


def test_each_company_at_its_own_local_time(day_of_work, new_york):
    # 12:29 UTC is 07:29 in New York: nobody is due.
    assert usage_reports_due(now=_utc(25, 12, 29)) == 0
    # 12:30 UTC is 07:30 in New York (its day is the 25th); Berlin's 24th was 16 h ago.
    assert usage_reports_due(now=_utc(25, 12, 30)) == 1
    assert [key for _, _, key in deliveries(new_york)] == [
        f"report:{new_york.pk}:2026-11-25:email:owner@globex.test"
    ]
    assert deliveries(day_of_work) == []
    assert usage_reports_due(now=_utc(25, 19)) == 1  # Berlin's 20:00 of the 25th
    assert usage_reports_due(now=_utc(26, 12, 30)) == 1  # New York's next day


def test_a_changed_time_applies_from_the_next_tick_and_still_once_a_day(day_of_work, cast):
    usage_reports_due(now=_utc(24, 19))
    report_time_set(tenant=day_of_work, report_time=time(21, 15), actor_user=cast.owner)
    usage_reports_due(now=_utc(24, 20, 30))  # 21:30 in Berlin: the 24th went out already
    usage_reports_due(now=_utc(25, 20, 0))  # 21:00 in Berlin: not yet
    assert days(day_of_work) == [date(2026, 11, 24)]
    usage_reports_due(now=_utc(25, 20, 15))
    assert days(day_of_work) == [date(2026, 11, 24), date(2026, 11, 25)]


def test_a_report_time_near_midnight_is_caught_up_after_midnight(day_of_work):
    report_time_set(tenant=day_of_work, report_time=time(23, 55))
    usage_reports_due(now=_utc(24, 22, 50))  # 23:50 in Berlin
    assert days(day_of_work) == []
    usage_reports_due(now=_utc(24, 23, 5))  # 00:05 on the 25th: the 24th's
    usage_reports_due(now=_utc(24, 23, 20))
    assert days(day_of_work) == [date(2026, 11, 24)]
    usage_reports_due(now=_utc(25, 23, 0))  # 00:00 on the 26th: the 25th's
    assert days(day_of_work) == [date(2026, 11, 24), date(2026, 11, 25)]


def test_a_long_outage_does_not_send_stale_reports(day_of_work):
    usage_reports_due(now=_utc(25, 9))  # 10:00 on the 25th: the 24th's time passed 14 h ago
    assert days(day_of_work) == [] and deliveries(day_of_work) == []


def test_a_refused_report_writes_no_delivery_and_is_not_retried_every_tick(day_of_work):
    broken = make_user("zz-not-an-address")  # sorted after the valid owner's address
    Membership.objects.create(tenant=day_of_work, user=broken, role=Role.OWNER)
    assert usage_reports_due(now=_utc(24, 19)) == 0
    assert deliveries(day_of_work) == []  # the valid owner's row went back with the rest
    report = UsageReport.objects.unscoped().get(tenant=day_of_work)
    assert report.sent_at is None and report.recipients == 0
    usage_reports_due(now=_utc(24, 19, 15))
    assert UsageReport.objects.unscoped().filter(tenant=day_of_work).count() == 1
