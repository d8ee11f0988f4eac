"""Control-plane tools: the agent reads and changes the work through the same services a
person uses (validated, audited)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError

from agents.models import OPEN_TASK_STATUSES, Agent, Task, TaskStatus
from agents.services.work import comment_create, task_create, task_update
from agents.tools.registry import Tool, ToolContext, ToolError, tool_register

_STATUSES = [s.value for s in TaskStatus]


def _task(ctx: ToolContext, args: dict[str, Any]) -> Task:
    task_id = args.get("task_id")
    if task_id is None:
        if ctx.task is None:
            raise ToolError("no current task: pass task_id")
        return ctx.task
    task = Task.objects.filter(pk=task_id).first()
    if task is None:
        raise ToolError(f"no task {task_id} in this company")
    return task


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def list_tasks(ctx: ToolContext, args: dict[str, Any]) -> str:
    rows = Task.objects.filter(status__in=OPEN_TASK_STATUSES)
    if args.get("mine", True):
        rows = rows.filter(assignee=ctx.agent)
    rows = rows.values("id", "title", "status", "priority", "assignee__name")[:25]
    return json.dumps(list(rows))


def create_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    try:
        task = task_create(
            title=args["title"],
            body=args.get("body", ""),
            priority=args.get("priority", 1),
            goal=ctx.task.goal_id if ctx.task else None,
            actor_agent=ctx.agent,
        )
    except ValidationError as exc:
        raise ToolError(_errors(exc)) from exc
    return json.dumps({"created": task.pk})


def update_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    task = _task(ctx, args)
    values = {k: args[k] for k in ("status", "title", "body", "priority") if k in args}
    if not values:
        raise ToolError("nothing to change: pass status, title, body or priority")
    try:
        task_update(task=task, actor_agent=ctx.agent, **values)
    except ValidationError as exc:
        raise ToolError(_errors(exc)) from exc
    return json.dumps({"updated": task.pk, **values})


def comment(ctx: ToolContext, args: dict[str, Any]) -> str:
    task = _task(ctx, args)
    try:
        made = comment_create(task=task, body=args["body"], actor_agent=ctx.agent, run=ctx.run)
    except ValidationError as exc:
        raise ToolError(_errors(exc)) from exc
    return json.dumps({"comment": made.pk})


def delegate(ctx: ToolContext, args: dict[str, Any]) -> str:
    """A sub-task of the current task, assigned to one of this agent's direct reports."""
    report = Agent.objects.filter(name__iexact=args["to"], reports_to=ctx.agent).first()
    if report is None:
        names = list(Agent.objects.filter(reports_to=ctx.agent).values_list("name", flat=True))
        raise ToolError(
            f"{args['to']!r} is not one of your direct reports ({', '.join(names) or 'none'})"
        )
    try:
        task = task_create(
            title=args["title"],
            body=args.get("body", ""),
            assignee=report,
            parent=ctx.task.pk if ctx.task else None,
            goal=ctx.task.goal_id if ctx.task else None,
            actor_agent=ctx.agent,
        )
    except ValidationError as exc:
        raise ToolError(_errors(exc)) from exc
    return json.dumps({"delegated": task.pk, "to": report.name})


def ask_approval(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Put the task in review with the question for a person."""
    task = _task(ctx, args)
    try:
        comment_create(
            task=task,
            body=f"Approval needed: {args['question']}",
            actor_agent=ctx.agent,
            run=ctx.run,
        )
        task_update(task=task, status=TaskStatus.IN_REVIEW, actor_agent=ctx.agent)
    except ValidationError as exc:
        raise ToolError(_errors(exc)) from exc
    return json.dumps({"in_review": task.pk})


_TASK_ID = {"type": "integer", "description": "default: the current task"}

for _tool in (
    Tool(
        "list_tasks",
        "List open tasks (yours by default).",
        {"type": "object", "properties": {"mine": {"type": "boolean"}}},
        list_tasks,
        control_plane=True,
    ),
    Tool(
        "create_task",
        "Create a task for the team.",
        {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "body": {"type": "string"},
                "priority": {"type": "integer", "enum": [0, 1, 2, 3]},
            },
            "required": ["title"],
        },
        create_task,
        control_plane=True,
    ),
    Tool(
        "update_task",
        "Change a task's status, title, body or priority (status done when finished).",
        {
            "type": "object",
            "properties": {
                "task_id": _TASK_ID,
                "status": {"type": "string", "enum": _STATUSES},
                "title": {"type": "string"},
                "body": {"type": "string"},
                "priority": {"type": "integer", "enum": [0, 1, 2, 3]},
            },
        },
        update_task,
        control_plane=True,
    ),
    Tool(
        "comment",
        "Comment on a task; @Name mentions wake that agent.",
        {
            "type": "object",
            "properties": {"task_id": _TASK_ID, "body": {"type": "string"}},
            "required": ["body"],
        },
        comment,
        control_plane=True,
    ),
    Tool(
        "delegate",
        "Give part of the current task to one of your direct reports as a sub-task.",
        {
            "type": "object",
            "properties": {
                "to": {"type": "string", "description": "the report's name"},
                "title": {"type": "string"},
                "body": {"type": "string"},
            },
            "required": ["to", "title"],
        },
        delegate,
        control_plane=True,
    ),
    Tool(
        "ask_approval",
        "Ask a person to approve before you go on; the task waits in review.",
        {
            "type": "object",
            "properties": {"task_id": _TASK_ID, "question": {"type": "string"}},
            "required": ["question"],
        },
        ask_approval,
        control_plane=True,
    ),
):
    tool_register(_tool)
