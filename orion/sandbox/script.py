"""What the sandbox model answers, decided from the request alone (no randomness), so a demo
or a test sees the same conversation every time.

* Tools offered and no tool result since the last user message: call tools. For the task in
  the prompt ("Task #12: ..."): `comment` with a progress note, then `update_task` to done,
  or to in_review when the task asks for a person's approval or review. A turn that only
  brings new messages gets a `comment` in reply. Without a task: `list_tasks`.
* After a tool result: a short final report (it says so when a tool answered with an error).
* No tools: the final report at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TASK = re.compile(r"Task #(\d+): (.+?) \(status [a-z_]+, priority \d\)")
_NEEDS_PERSON = re.compile(r"\b(approv\w*|review\w*)\b", re.IGNORECASE)
_NEW_MESSAGES = "New messages for you"
_REPORTS = (
    "First pass is done; the details are in the task's comments.",
    "Done for now; nothing is blocking the next step.",
    "Finished the first round; I will pick up anything new at my next heartbeat.",
)


@dataclass(frozen=True)
class Turn:
    """One scripted answer: text, or tool calls `(name, arguments)`, and token usage."""

    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    usage: tuple[int, int, int] = (0, 0, 0)


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _tool_names(body: dict[str, Any]) -> set[str]:
    names = set()
    for tool in body.get("tools") or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.add(function["name"])
    return names


def _task_in(messages: list[dict[str, Any]]) -> tuple[int, str, str] | None:
    """(id, title, the task's own text without its comments) of the first task named in a
    user message."""
    for message in messages:
        if message.get("role") != "user":
            continue
        text = _text(message)
        found = _TASK.search(text)
        if found:
            own = text[found.start() :].split("\nRecent comments", 1)[0]
            return int(found.group(1)), found.group(2), own
    return None


def _usage(body: dict[str, Any], answer: str) -> tuple[int, int, int]:
    """Roughly what a real model would bill: ~4 characters a token."""
    prompt_chars = sum(len(_text(m)) for m in body.get("messages") or ()) + len(
        json.dumps(body.get("tools") or [])
    )
    return max(prompt_chars // 4, 1), max(len(answer) // 4, 1), 0


def _tool_turn(body: dict[str, Any], tools: set[str], last_user: str) -> Turn | None:
    task = _task_in(body.get("messages") or [])
    calls: list[tuple[str, dict[str, Any]]] = []
    if task is not None:
        task_id, title, text = task
        if _NEW_MESSAGES in last_user and _TASK.search(last_user) is None:
            if "comment" in tools:  # a later turn: reply to what was said
                calls.append(("comment", {"task_id": task_id, "body": "Thanks, noted."}))
        else:
            if "comment" in tools:
                note = f"Picked this up: {title}. Working through it now."
                calls.append(("comment", {"task_id": task_id, "body": note}))
            if "update_task" in tools:
                status = "in_review" if _NEEDS_PERSON.search(text) else "done"
                calls.append(("update_task", {"task_id": task_id, "status": status}))
    elif "list_tasks" in tools:
        calls.append(("list_tasks", {}))
    if not calls:
        return None
    return Turn(tool_calls=calls, usage=_usage(body, json.dumps(calls)))


def _report(body: dict[str, Any], after_tools: list[str]) -> Turn:
    task = _task_in(body.get("messages") or [])
    failed = [r for r in after_tools if r.startswith("error:")]
    if task is None:
        text = "Checked my tasks; nothing needs me right now."
    elif failed:
        text = f"Task #{task[0]} ({task[1]}): I could not finish. The tool said {failed[0]}"
    else:
        text = f"Task #{task[0]} ({task[1]}): {_REPORTS[task[0] % len(_REPORTS)]}"
    return Turn(content=text, usage=_usage(body, text))


def scripted_turn(body: dict[str, Any]) -> Turn:
    """The answer to one chat-completions request body (already parsed JSON)."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    last_user_at = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    since_user = messages[last_user_at + 1 :]
    tool_results = [_text(m) for m in since_user if m.get("role") == "tool"]
    if not tool_results:
        tools = _tool_names(body)
        last_user = _text(messages[last_user_at]) if last_user_at >= 0 else ""
        turn = _tool_turn(body, tools, last_user) if tools else None
        if turn is not None:
            return turn
    return _report(body, tool_results)
