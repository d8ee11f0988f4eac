"""The Calendar tools against the fake Calendar; a create retried creates once; an event
ending before it starts is refused before anything leaves."""

from __future__ import annotations

import re

import pytest

from agents.tools import ToolError
from integrations.models import ActionStatus, ExternalAction

pytestmark = pytest.mark.django_db(transaction=True)
EVENT = {
    "summary": "Boiler service",
    "start": "2030-03-01T09:00:00+01:00",
    "end": "2030-03-01T10:00:00+01:00",
}


def _inserts(google):
    return [
        r
        for r in google.requests
        if r.method == "POST" and r.path == "/calendar/v3/calendars/primary/events"
    ]


def test_create_uses_an_id_from_the_call_and_a_retry_creates_nothing_more(
    cast, google, all_connected, call_tool
):
    made = call_tool("calendar_create_event", EVENT, key="run:4:s1:t0")
    assert re.fullmatch(r"[a-v0-9]{52}", made["id"])
    assert made["already_created"] is False
    again = call_tool("calendar_create_event", EVENT, key="run:4:s1:t0")
    assert again["id"] == made["id"] and again["already_created"] is True
    assert list(google.events["primary"]) == [made["id"]]
    assert len(_inserts(google)) == 2  # the second answered 409 and the event was fetched
    action = ExternalAction.objects.unscoped().get(
        tenant=cast.tenant, key="calendar.create:run:4:s1:t0"
    )
    assert action.status == ActionStatus.DONE
    other = call_tool("calendar_create_event", EVENT, key="run:4:s2:t0")
    assert other["id"] != made["id"] and len(google.events["primary"]) == 2


def test_a_create_retried_after_a_crash_creates_once(cast, google, all_connected, call_tool):
    google.after_accept["calendar.insert"] = "close"
    with pytest.raises(ToolError, match="did not answer"):
        call_tool("calendar_create_event", EVENT, key="run:8:s1:t0")
    assert len(google.events["primary"]) == 1
    made = call_tool("calendar_create_event", EVENT, key="run:8:s1:t0")
    assert made["already_created"] is True
    assert list(google.events["primary"]) == [made["id"]]


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ({"end": "2030-03-01T08:00:00+01:00"}, "end .* must be after start"),
        ({"end": "2030-03-01T09:00:00+01:00"}, "end .* must be after start"),
        ({"start": "2030-03-02", "end": "2030-03-01"}, "end .* must be after start"),
        ({"start": "2030-03-01T09:00:00"}, "start: give a UTC offset"),
        ({"start": "tomorrow at nine"}, "start: 'tomorrow at nine' is not an ISO 8601"),
        ({"start": "2030-03-01"}, "both be dates .* or both date-times"),
        ({"attendees": ["nobody"]}, "attendees: 'nobody' is not a valid email address"),
        ({"start": "2030-03-01T09:00:00", "time_zone": "America"}, "not an IANA time zone"),
        ({"start": "2030-03-01T09:00:00", "time_zone": "x" * 300}, "not an IANA time zone"),
    ],
)
def test_bad_events_are_refused_before_anything_leaves(
    cast, google, all_connected, call_tool, times, message
):
    with pytest.raises(ToolError, match=message):
        call_tool("calendar_create_event", {**EVENT, **times})
    assert google.requests == []
    assert not ExternalAction.objects.unscoped().filter(tenant=cast.tenant).exists()


def test_local_times_with_a_time_zone_and_attendees(google, all_connected, call_tool):
    made = call_tool(
        "calendar_create_event",
        {
            **EVENT,
            "start": "2030-03-01T09:00:00",
            "end": "2030-03-01T09:30:00",
            "time_zone": "Europe/Paris",
            "attendees": ["bob@example.test"],
        },
    )
    stored = google.events["primary"][made["id"]]
    assert stored["start"] == {"dateTime": "2030-03-01T09:00:00+01:00", "timeZone": "Europe/Paris"}
    assert made["attendees"] == ["bob@example.test"]
    assert _inserts(google)[0].query["sendUpdates"] == "all"
    with pytest.raises(ToolError, match="not an IANA time zone"):
        call_tool("calendar_create_event", {**EVENT, "time_zone": "Mars/Olympus"})


def test_list_and_freebusy(google, all_connected, call_tool):
    google.add_event(
        summary="Site visit",
        start={"dateTime": "2030-03-01T14:00:00+00:00"},
        end={"dateTime": "2030-03-01T15:00:00+00:00"},
    )
    google.add_event(
        summary="Next week",
        start={"dateTime": "2030-03-08T14:00:00+00:00"},
        end={"dateTime": "2030-03-08T15:00:00+00:00"},
    )
    window = {"time_min": "2030-03-01T00:00:00Z", "time_max": "2030-03-02T00:00:00Z"}
    listed = call_tool("calendar_list_events", window)
    assert [e["summary"] for e in listed] == ["Site visit"]
    busy = call_tool("calendar_freebusy", window)
    assert busy == {
        "primary": [{"start": "2030-03-01T14:00:00+00:00", "end": "2030-03-01T15:00:00+00:00"}]
    }
    with pytest.raises(ToolError, match=r"time_max .* must be after time_min"):
        call_tool(
            "calendar_freebusy", {"time_min": window["time_max"], "time_max": window["time_min"]}
        )


def test_update(google, all_connected, call_tool):
    made = call_tool("calendar_create_event", EVENT, key="k-up")
    moved = call_tool(
        "calendar_update_event",
        {"event_id": made["id"], "end": "2030-03-01T11:00:00+01:00", "location": "Depot"},
    )
    assert moved["end"]["dateTime"] == "2030-03-01T11:00:00+01:00"
    assert google.events["primary"][made["id"]]["location"] == "Depot"
    google.clear()
    with pytest.raises(ToolError, match=r"end .* must be after start"):
        call_tool(
            "calendar_update_event", {"event_id": made["id"], "end": "2030-03-01T08:00:00+01:00"}
        )
    assert [r.method for r in google.requests] == ["GET"]  # read the start, changed nothing
    with pytest.raises(ToolError, match="nothing to change"):
        call_tool("calendar_update_event", {"event_id": made["id"]})
    with pytest.raises(ToolError, match="found nothing"):
        call_tool("calendar_update_event", {"event_id": "missing0", "summary": "x"})


def test_a_create_google_refuses_is_recorded_failed(
    durable_rows, cast, google, all_connected, call_tool
):
    from orion.core.fakes.server import Reply

    google.fail_once(
        "POST",
        "/calendar/v3/calendars/primary/events",
        Reply(status=400, json={"error": {"code": 400, "message": "Invalid attendee"}}),
    )
    with pytest.raises(ToolError, match=r"refused the new event \(400: Invalid attendee\)"):
        call_tool("calendar_create_event", EVENT, key="run:6:s1:t0")
    key = "calendar.create:run:6:s1:t0"
    action = ExternalAction.objects.unscoped().get(tenant=cast.tenant, key=key)
    assert action.status == ActionStatus.FAILED
    made = call_tool("calendar_create_event", EVENT, key="run:6:s1:t0")  # fixed and re-run
    assert made["already_created"] is False
    assert ExternalAction.objects.unscoped().get(pk=action.pk).status == ActionStatus.DONE
