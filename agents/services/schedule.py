"""When an agent's next heartbeat falls due: an interval, or a cron expression read in the
tenant's time zone (cronsim: healthchecks' cron evaluator, DST-aware)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError

from agents.models import Agent, ScheduleKind


def cron_validate(expression: str) -> None:
    """Raise ValidationError naming what is wrong with a 5-field cron expression."""
    if not expression.strip():
        raise ValidationError({"cron": "A cron schedule needs an expression, e.g. 30 7 * * 1-5."})
    if len(expression.split()) != 5:
        raise ValidationError(
            {"cron": f"{expression!r} must have 5 fields: minute hour day month weekday."}
        )
    try:
        CronSim(expression, datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    except CronSimError as exc:
        raise ValidationError({"cron": f"{expression!r} does not parse: {exc}."}) from exc


def next_heartbeat_after(*, agent: Agent, timezone_name: str, after: datetime) -> datetime:
    """The first due time strictly after `after` (aware datetimes, returned in UTC).

    Interval schedules keep their phase: the next slot is the previous due time plus whole
    intervals, so a late dispatch does not drift every later heartbeat."""
    if agent.schedule_kind == ScheduleKind.CRON:
        local = after.astimezone(ZoneInfo(timezone_name))
        return next(iter(CronSim(agent.cron, local))).astimezone(ZoneInfo("UTC"))
    step = timedelta(seconds=agent.interval_s)
    base = agent.next_heartbeat_at
    if base is None or base > after:
        return after + step
    missed = (after - base) // step + 1
    return base + missed * step
