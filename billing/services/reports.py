"""The daily usage report: per agent and per session, cost, tokens, models and fallbacks,
to the tenant's owners (email, and the team's messaging channel when connected) through
the outbound port, once per local day after the time the owner chose
(BillingAccount.report_time, default 20:00, in the tenant's time zone).

A day's report covers the time since the previous day's report time (yesterday 20:00 to
today 20:00 by default), so every call is in exactly one report whatever time is chosen."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount, UsageReport
from billing.models.stripe import DEFAULT_REPORT_TIME
from billing.selectors import usage_between
from orion.core.outbound import Channel, Outbound, outbound_send
from tenants.models import Tenant, TenantStatus
from tenants.scope import tenant_scope

logger = logging.getLogger(__name__)

CATCH_UP = timedelta(hours=1)  # yesterday's report still goes out this long after its time
MAX_LINES = 15  # per section: a report fits a chat message; the rest is on the usage page


def report_window(*, tz: str, at: time, day: date) -> tuple[datetime, datetime]:
    """What `day`'s report covers: from the previous day's report time to this one's."""
    zone = ZoneInfo(tz)
    end = datetime.combine(day, at, tzinfo=zone)
    return datetime.combine(day - timedelta(days=1), at, tzinfo=zone), end


def usage_report_text(*, tenant: Tenant, day: date, at: time = DEFAULT_REPORT_TIME) -> str:
    start, end = report_window(tz=tenant.timezone, at=at, day=day)
    report = usage_between(start=start, end=end)
    lines = [
        f"Model usage of {tenant.name} from {start:%a %d %b %H:%M} to {end:%a %d %b %Y %H:%M} "
        f"({tenant.timezone})",
        "",
    ]
    if not report["agents"]:
        return "\n".join([*lines, "No model calls in that time."])
    total = sum(row["cost_cents"] for row in report["agents"])
    lines.append(f"Total: {total / 100:.4f} USD")
    for title, key, rows in (
        ("Per agent", "agent_id", report["agents"]),
        ("Per session", "session_id", report["sessions"]),
    ):
        lines += ["", f"{title}:"]
        for row in rows[:MAX_LINES]:
            who = f"#{row[key]}" if row[key] is not None else "(none)"
            fell = f", {row['fell_back']} fell back" if row["fell_back"] else ""
            lines.append(
                f"  {who}: {row['calls']} calls, {row['input_tokens']} in / "
                f"{row['output_tokens']} out tokens, {row['cost_cents'] / 100:.4f} USD, "
                f"{', '.join(row['models'])}{fell}"
            )
        if len(rows) > MAX_LINES:
            lines.append(f"  … and {len(rows) - MAX_LINES} more")
    usage_url = f"{settings.SITE_URL.rstrip('/')}{reverse('billing:usage')}"
    return "\n".join([*lines, "", f"Charts and CSV: {usage_url}"])


def usage_report_deliver(*, tenant: Tenant, day: date, at: time = DEFAULT_REPORT_TIME) -> bool:
    """Send `day`'s report once: the UsageReport row is the claim (a second worker's insert
    conflicts) and the Delivery rows (key report:<tenant>:<day>) are written with it. A
    report the outbound path refuses is recorded unsent (logged), not retried every tick.
    True when it went out now."""
    with tenant_scope(tenant), transaction.atomic():
        try:
            with transaction.atomic():
                report = UsageReport.objects.create(day=day)
        except IntegrityError:
            return False
        message = Outbound(
            tenant_id=tenant.pk,
            channel=Channel.OWNER,
            key=f"report:{tenant.pk}:{day.isoformat()}",
            subject=f"Orion: model usage on {day:%d %b %Y}",
            body=usage_report_text(tenant=tenant, day=day, at=at),
            purpose="report",
        )
        try:
            with transaction.atomic():
                ids = outbound_send(message)
        except ValidationError as exc:
            logger.warning("usage report of tenant %s for %s refused: %s", tenant.pk, day, exc)
            return False
        UsageReport.objects.filter(pk=report.pk).update(recipients=len(ids), sent_at=timezone.now())
    return True


def report_day_due(*, tz: str, at: time, now: datetime) -> date | None:
    """The local day whose report is due at `now`: today once its time has passed, or
    yesterday for CATCH_UP after its time (a report time near midnight, beat down for a
    tick); None before."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    if datetime.combine(today, at, tzinfo=zone) <= now:
        return today
    yesterday = today - timedelta(days=1)
    if now - datetime.combine(yesterday, at, tzinfo=zone) <= CATCH_UP:
        return yesterday
    return None


def usage_reports_due(*, now: datetime | None = None) -> int:
    """Deliver the report of every active tenant whose chosen local time has passed today
    and that has not had today's yet; returns how many went out."""
    now = now or timezone.now()
    times = dict(BillingAccount.objects.unscoped().values_list("tenant_id", "report_time"))
    done = set(
        UsageReport.objects.unscoped()
        .filter(day__gte=(now - timedelta(days=2)).date())
        .values_list("tenant_id", "day")
    )
    sent = 0
    for tenant in Tenant.objects.filter(status=TenantStatus.ACTIVE):
        at = times.get(tenant.pk, DEFAULT_REPORT_TIME)
        day = report_day_due(tz=tenant.timezone, at=at, now=now)
        if day is None or (tenant.pk, day) in done:
            continue
        if usage_report_deliver(tenant=tenant, day=day, at=at):
            sent += 1
    return sent
