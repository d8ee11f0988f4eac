"""Gmail and Calendar tools: thin adapters over integrations.google's operations, on the
company's (tenant's) Google connection. Sending a mail and creating an event are
idempotent per tool call (`ToolContext.call_key`): a resumed run never acts twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agents.tools.registry import Tool, ToolContext, ToolError, tool_register
from integrations.google import calendar, gmail
from integrations.google.errors import GoogleError

MAX_LIST = 25


def _run(operation: Callable[..., Any], **kwargs: Any) -> str:
    try:
        return json.dumps(operation(**kwargs), default=str)
    except GoogleError as exc:
        raise ToolError(str(exc)) from exc


def _limit(args: dict[str, Any], default: int) -> int:
    value = args.get("max_results", default)
    if not 1 <= value <= MAX_LIST:
        raise ToolError(f"max_results must be between 1 and {MAX_LIST}")
    return value


def gmail_search(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(
        gmail.gmail_search,
        tenant_id=ctx.agent.tenant_id,
        query=args["query"],
        max_results=_limit(args, 10),
    )


def gmail_read(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(gmail.gmail_read, tenant_id=ctx.agent.tenant_id, message_id=args["message_id"])


def _mail(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    optional = {k: args[k] for k in ("cc", "thread_id", "in_reply_to") if args.get(k)}
    return {
        "tenant_id": ctx.agent.tenant_id,
        "call_key": ctx.call_key,
        "to": args["to"],
        "subject": args["subject"],
        "body": args["body"],
        **optional,
    }


def gmail_draft(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(gmail.gmail_draft, **_mail(ctx, args))


def gmail_send(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(gmail.gmail_send, **_mail(ctx, args))


def gmail_label(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(
        gmail.gmail_label,
        tenant_id=ctx.agent.tenant_id,
        message_id=args["message_id"],
        add=[str(x) for x in args.get("add", [])],
        remove=[str(x) for x in args.get("remove", [])],
    )


def calendar_list_events(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(
        calendar.calendar_list_events,
        tenant_id=ctx.agent.tenant_id,
        time_min=args["time_min"],
        time_max=args.get("time_max", ""),
        query=args.get("query", ""),
        max_results=_limit(args, 20),
    )


def calendar_freebusy(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(
        calendar.calendar_freebusy,
        tenant_id=ctx.agent.tenant_id,
        time_min=args["time_min"],
        time_max=args["time_max"],
        calendars=[str(c) for c in args.get("calendars", ["primary"])],
    )


_DETAILS = ("description", "location", "attendees")


def calendar_create_event(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(
        calendar.calendar_create_event,
        tenant_id=ctx.agent.tenant_id,
        call_key=ctx.call_key,
        summary=args["summary"],
        start=args["start"],
        end=args["end"],
        time_zone=args.get("time_zone", ""),
        **{k: args[k] for k in _DETAILS if k in args},
    )


def calendar_update_event(ctx: ToolContext, args: dict[str, Any]) -> str:
    return _run(
        calendar.calendar_update_event,
        tenant_id=ctx.agent.tenant_id,
        event_id=args["event_id"],
        start=args.get("start"),
        end=args.get("end"),
        time_zone=args.get("time_zone", ""),
        **{k: args[k] for k in ("summary", *_DETAILS) if k in args},
    )


def _schema(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_S = {"type": "string"}
_LIST = {"type": "array", "items": {"type": "string"}}
_MAX = {"type": "integer", "description": f"1 to {MAX_LIST}"}
_TIME = {"type": "string", "description": "ISO 8601, e.g. 2025-03-01T09:00:00+01:00"}
_WHEN = {
    "type": "string",
    "description": "ISO 8601 date-time (2025-03-01T09:00:00+01:00) or date (all-day)",
}
_MAIL = {
    "to": {"type": "string", "description": "comma-separated addresses"},
    "subject": _S,
    "body": {"type": "string", "description": "plain text"},
    "cc": _S,
    "thread_id": {"type": "string", "description": "Gmail thread to reply in"},
    "in_reply_to": {"type": "string", "description": "Message-ID of the mail answered"},
}
_EVENT = {
    "summary": _S,
    "start": _WHEN,
    "end": _WHEN,
    "time_zone": {"type": "string", "description": "IANA zone, e.g. Europe/Paris"},
    "description": _S,
    "location": _S,
    "attendees": {**_LIST, "description": "email addresses (they get an invitation)"},
}

for _tool in (
    Tool(
        "gmail_search",
        "Search the company's Gmail (Gmail search syntax, e.g. 'from:bob is:unread').",
        _schema(["query"], query=_S, max_results=_MAX),
        gmail_search,
    ),
    Tool(
        "gmail_read",
        "Read one Gmail message (headers and text) by its id from gmail_search.",
        _schema(["message_id"], message_id=_S),
        gmail_read,
    ),
    Tool(
        "gmail_draft",
        "Save a draft in the company's Gmail for a person to review and send.",
        _schema(["to", "subject", "body"], **_MAIL),
        gmail_draft,
    ),
    Tool(
        "gmail_send",
        "Send a mail from the company's Gmail. Sent once, even if the run is retried.",
        _schema(["to", "subject", "body"], **_MAIL),
        gmail_send,
    ),
    Tool(
        "gmail_label",
        "Add labels to a Gmail message (created if missing) or remove them (e.g. UNREAD).",
        _schema(["message_id"], message_id=_S, add=_LIST, remove=_LIST),
        gmail_label,
    ),
    Tool(
        "calendar_list_events",
        "List events of the company's Google Calendar from time_min (to time_max).",
        _schema(["time_min"], time_min=_TIME, time_max=_TIME, query=_S, max_results=_MAX),
        calendar_list_events,
    ),
    Tool(
        "calendar_freebusy",
        "Busy periods between time_min and time_max (calendars default to 'primary').",
        _schema(["time_min", "time_max"], time_min=_TIME, time_max=_TIME, calendars=_LIST),
        calendar_freebusy,
    ),
    Tool(
        "calendar_create_event",
        "Create an event in the company's Google Calendar. Created once, even if retried.",
        _schema(["summary", "start", "end"], **_EVENT),
        calendar_create_event,
    ),
    Tool(
        "calendar_update_event",
        "Change an event (title, times, description, location, attendees) by its id.",
        _schema(["event_id"], event_id=_S, **_EVENT),
        calendar_update_event,
    ),
):
    tool_register(_tool)
