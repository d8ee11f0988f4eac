"""Messaging tools: tell the team (the tenant's connected Telegram, Discord and Slack
channels) or notify the owners (by email, and on the team channels), through the one
Delivery path behind `orion.core.outbound`.

The tool call's key is the delivery key, and the deliveries are written in the transaction
that records the call (sent after it commits): a resumed run that replays the call finds
its record, and a call run again finds its deliveries, so a message never goes twice.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError

from agents.tools.registry import Tool, ToolContext, ToolError, tool_register
from orion.core.outbound import Channel, Outbound, outbound_send

MAX_CHARS = 4000
SUBJECT_MAX = 150


def _text(args: dict[str, Any]) -> str:
    text = args.get("text", "").strip()
    if not text:
        raise ToolError("the message is empty: write what to send")
    if len(text) > MAX_CHARS:
        raise ToolError(
            f"the message is {len(text):,} characters long; at most {MAX_CHARS:,} are sent "
            "at once: shorten it, or send it as several messages"
        )
    return text


def _send(ctx: ToolContext, *, channel: str, text: str, subject: str = "") -> list[int]:
    if not ctx.call_key:
        raise ToolError("this tool runs only inside an agent's run (it needs the call's key)")
    message = Outbound(
        tenant_id=ctx.agent.tenant_id,
        channel=channel,
        key=ctx.call_key,
        body=text,
        subject=subject,
        purpose="agent",
    )
    try:
        return outbound_send(message)
    except ValidationError as exc:
        raise ToolError(" ".join(exc.messages)) from exc


def send_team_message(ctx: ToolContext, args: dict[str, Any]) -> str:
    ids = _send(ctx, channel=Channel.TEAM, text=_text(args))
    if not ids:
        raise ToolError(
            "no team channel is connected (Telegram, Discord or Slack), or all are disabled: "
            "nothing was sent; ask an owner to connect one on the integrations page"
        )
    return json.dumps({"queued": len(ids), "deliveries": ids})


def notify_owner(ctx: ToolContext, args: dict[str, Any]) -> str:
    text = _text(args)
    subject = args.get("subject", "").strip() or f"{ctx.agent.name}: {text.splitlines()[0]}"
    ids = _send(ctx, channel=Channel.OWNER, text=text, subject=subject[:SUBJECT_MAX])
    if not ids:
        raise ToolError(
            "the owners have no email address and no team channel is connected: nothing was sent"
        )
    return json.dumps({"queued": len(ids), "deliveries": ids})


_TEXT = {"type": "string", "description": f"the message, at most {MAX_CHARS} characters"}

for _tool in (
    Tool(
        "send_team_message",
        "Post a message to the company's team channels (Telegram, Discord or Slack, "
        "whichever are connected). Sent once, after this step is saved.",
        {"type": "object", "properties": {"text": _TEXT}, "required": ["text"]},
        send_team_message,
    ),
    Tool(
        "notify_owner",
        "Tell the company's owners something that needs their attention: by email, and on "
        "the team channels when connected. Sent once, after this step is saved.",
        {
            "type": "object",
            "properties": {
                "text": _TEXT,
                "subject": {"type": "string", "description": "the email's subject line"},
            },
            "required": ["text"],
        },
        notify_owner,
    ),
):
    tool_register(_tool)
