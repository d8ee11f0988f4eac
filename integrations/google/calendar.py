"""Calendar operations for the agents' tools, on the tenant's connection.

`calendar_create_event` creates at most one event per call key: the event id is derived
from the key (base32hex, the alphabet Calendar allows for client-supplied ids), so a
re-run's insert answers 409 and the tool fetches the event it already made.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.google.calls import google_client
from integrations.google.errors import GoogleError, GoogleRefused
from integrations.google.mail import addresses
from integrations.models import ActionStatus
from integrations.services.actions import action_begin, action_finish

EVENTS = "calendar"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def event_id_for(*, tenant_id: int, call_key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}:{call_key}".encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


def _zone(time_zone: str) -> ZoneInfo | None:
    if not time_zone:
        return None
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America", a long name
        raise GoogleError(f"time_zone: {time_zone!r} is not an IANA time zone") from None


def _moment(value: str, *, field: str, time_zone: str) -> tuple[date | datetime, dict[str, str]]:
    """A comparable value and Calendar's {"date"} / {"dateTime", "timeZone"} for `value`."""
    if _DATE.match(value):
        try:
            return date.fromisoformat(value), {"date": value}
        except ValueError:
            raise GoogleError(f"{field}: {value!r} is not a date") from None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GoogleError(
            f"{field}: {value!r} is not an ISO 8601 date-time like 2025-03-01T09:00:00+01:00"
        ) from None
    zone = _zone(time_zone)
    if moment.tzinfo is None:
        if zone is None:
            raise GoogleError(f"{field}: give a UTC offset (…+01:00) or pass time_zone")
        moment = moment.replace(tzinfo=zone)
    shown = {"dateTime": moment.isoformat()}
    if time_zone:
        shown["timeZone"] = time_zone
    return moment, shown


def _instant(value: str, *, field: str) -> datetime:
    """A date-time with a UTC offset (what Calendar's queries take)."""
    moment, _ = _moment(value, field=field, time_zone="")
    if not isinstance(moment, datetime):
        raise GoogleError(f"{field}: give a date-time with a UTC offset, like {value}T00:00:00Z")
    return moment


def _window(time_min: str, time_max: str) -> None:
    if _instant(time_max, field="time_max") <= _instant(time_min, field="time_min"):
        raise GoogleError(f"time_max ({time_max}) must be after time_min ({time_min})")


def event_times(start: str, end: str, time_zone: str = "") -> dict[str, Any]:
    """Calendar's start and end; GoogleError unless end comes after start."""
    first, start_body = _moment(start, field="start", time_zone=time_zone)
    last, end_body = _moment(end, field="end", time_zone=time_zone)
    if isinstance(first, datetime) != isinstance(last, datetime):
        raise GoogleError("start and end must both be dates (all-day) or both date-times")
    if last <= first:
        raise GoogleError(f"end ({end}) must be after start ({start})")
    return {"start": start_body, "end": end_body}


def _summary(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event.get("id", ""),
        "summary": event.get("summary", ""),
        "start": event.get("start", {}),
        "end": event.get("end", {}),
        "location": event.get("location", ""),
        "attendees": [a.get("email", "") for a in event.get("attendees", [])],
        "status": event.get("status", ""),
        "link": event.get("htmlLink", ""),
    }


def _details(
    *, summary: str | None, description: str | None, location: str | None, attendees: list | None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if summary is not None:
        if not summary.strip():
            raise GoogleError("summary: the event needs a title")
        body["summary"] = summary[:1000]
    if description is not None:
        body["description"] = description[:8000]
    if location is not None:
        body["location"] = location[:1000]
    if attendees is not None:
        emails = [a for item in attendees for a in addresses(str(item), field="attendees")]
        body["attendees"] = [{"email": a} for a in emails]
    return body


def calendar_list_events(
    *, tenant_id: int, time_min: str, time_max: str = "", query: str = "", max_results: int = 20
) -> list[dict[str, Any]]:
    _instant(time_min, field="time_min")
    if time_max:
        _window(time_min, time_max)
    params: dict[str, Any] = {
        "calendarId": "primary",
        "timeMin": time_min,
        "singleEvents": True,
        "orderBy": "startTime",
        "maxResults": max_results,
    }
    if time_max:
        params["timeMax"] = time_max
    if query:
        params["q"] = query
    with google_client(tenant_id=tenant_id, product=EVENTS) as calendar:
        listed = calendar.run(calendar.service.events().list(**params), what="the event list")
    return [_summary(e) for e in listed.get("items", [])]


def calendar_freebusy(
    *, tenant_id: int, time_min: str, time_max: str, calendars: list[str]
) -> dict[str, Any]:
    _window(time_min, time_max)
    if not calendars:
        raise GoogleError('calendars: name at least one calendar ("primary" is yours)')
    body = {"timeMin": time_min, "timeMax": time_max, "items": [{"id": c} for c in calendars]}
    with google_client(tenant_id=tenant_id, product=EVENTS) as calendar:
        request = calendar.service.freebusy().query(body=body)
        answer = calendar.run(request, what="the free/busy query")
    return {cal: info.get("busy", []) for cal, info in answer.get("calendars", {}).items()}


def calendar_create_event(
    *,
    tenant_id: int,
    call_key: str,
    summary: str,
    start: str,
    end: str,
    time_zone: str = "",
    description: str | None = None,
    location: str | None = None,
    attendees: list | None = None,
) -> dict[str, Any]:
    """Create one event per `call_key`; a re-run returns the event the first run made."""
    if not call_key:
        raise GoogleError("calendar_create_event needs the call's idempotency key")
    body = {
        **_details(
            summary=summary, description=description, location=location, attendees=attendees
        ),
        **event_times(start, end, time_zone),
        "id": event_id_for(tenant_id=tenant_id, call_key=call_key),
    }
    with google_client(tenant_id=tenant_id, product=EVENTS) as calendar:
        action, _fresh = action_begin(
            tenant_id=tenant_id,
            key=f"calendar.create:{call_key}",
            kind="calendar.create",
            result={"event_id": body["id"]},
        )
        events = calendar.service.events()
        notify = "all" if body.get("attendees") else "none"
        insert = events.insert(calendarId="primary", body=body, sendUpdates=notify)
        try:
            event = calendar.run(insert, what="the new event")
            already = False
        except GoogleRefused as exc:
            if exc.status != 409:
                if exc.definite:
                    action_finish(action_id=action.pk, status=ActionStatus.FAILED, error=str(exc))
                raise
            fetch = events.get(calendarId="primary", eventId=body["id"])
            event = calendar.run(fetch, what="the event already created")
            already = True
    result = _summary(event)
    action_finish(action_id=action.pk, status=ActionStatus.DONE, result=result)
    return {**result, "already_created": already}


def calendar_update_event(
    *,
    tenant_id: int,
    event_id: str,
    start: str | None = None,
    end: str | None = None,
    time_zone: str = "",
    **details: Any,
) -> dict[str, Any]:
    """Change an event's fields; new times are checked against the event's other end."""
    body = _details(
        summary=details.get("summary"),
        description=details.get("description"),
        location=details.get("location"),
        attendees=details.get("attendees"),
    )
    if not body and start is None and end is None:
        raise GoogleError(
            "nothing to change: pass summary, description, location, attendees, start or end"
        )
    if start is not None and end is not None:
        body.update(event_times(start, end, time_zone))
    with google_client(tenant_id=tenant_id, product=EVENTS) as calendar:
        events = calendar.service.events()
        if (start is None) != (end is None):
            current = calendar.run(
                events.get(calendarId="primary", eventId=event_id), what=f"event {event_id}"
            )
            start = start or _shown(current.get("start", {}))
            end = end or _shown(current.get("end", {}))
            body.update(event_times(start, end, time_zone))
        request = events.patch(calendarId="primary", eventId=event_id, body=body)
        return _summary(calendar.run(request, what=f"event {event_id}"))


def _shown(value: dict[str, str]) -> str:
    return value.get("dateTime") or value.get("date") or ""
