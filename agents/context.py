"""What every model turn is told: the company mission, the agent's instructions, the goal
ancestry of the task ("you do this because ..."), the task and its recent comments."""

from __future__ import annotations

from agents.models import Agent, Comment, Goal, Task

RECENT_COMMENTS = 10
MAX_GOAL_DEPTH = 20


def goal_ancestry(*, goal_id: int | None) -> list[Goal]:
    """The goal and its parents, nearest first (one query per level, capped)."""
    chain: list[Goal] = []
    while goal_id is not None and len(chain) < MAX_GOAL_DEPTH:
        goal = (
            Goal.objects.filter(pk=goal_id).only("id", "title", "description", "parent_id").first()
        )
        if goal is None or any(g.pk == goal.pk for g in chain):
            break
        chain.append(goal)
        goal_id = goal.parent_id
    return chain


def system_prompt(*, agent: Agent, mission: str) -> str:
    parts = [
        f"You are {agent.name}"
        + (f", {agent.title}" if agent.title else "")
        + f", an AI agent on the team of {agent.tenant.name}.",
        f"Company mission: {mission or '(not written yet)'}",
    ]
    if agent.instructions:
        parts.append(f"Your instructions:\n{agent.instructions}")
    parts.append(
        "Work the task you are given with your tools. When you are finished, set its status "
        "(done, or in_review if a person must look) and answer with a short report."
    )
    return "\n\n".join(parts)


def task_prompt(*, task: Task) -> str:
    lines = []
    ancestry = goal_ancestry(goal_id=task.goal_id)
    if ancestry:
        why = " → ".join(g.title for g in reversed(ancestry))
        lines.append(f"You do this because: {why}")
    lines.append(f"Task #{task.pk}: {task.title} (status {task.status}, priority {task.priority})")
    if task.body:
        lines.append(task.body)
    if task.parent_id:
        lines.append(f"It is a sub-task of task #{task.parent_id}.")
    comments = list(
        Comment.objects.filter(task=task)
        .select_related("author_agent", "author_user")
        .order_by("-created_at", "-id")[:RECENT_COMMENTS]
    )
    if comments:
        lines.append("Recent comments (oldest first):")
        lines.extend(f"- {c.author_label}: {c.body}" for c in reversed(comments))
    return "\n".join(lines)
