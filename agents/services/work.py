"""Writes of the work: goals, tasks, comments, and the task checkout (a compare-and-set
lease held by one live Run). People and agents both write through here; every change is
audited, bad input is a ValidationError with nothing written."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from agents.models import (
    LIVE_RUN_STATUSES,
    Agent,
    Comment,
    Goal,
    MessageRole,
    MessageStatus,
    ModelChain,
    Run,
    RunTrigger,
    Session,
    SessionMessage,
    Task,
    TaskStatus,
)
from agents.services.agents import agent_wake
from tenants.scope import require_tenant_id
from tenants.services.audit import audit_record

TASK_FIELDS = (
    "title",
    "body",
    "status",
    "priority",
    "assignee",
    "goal",
    "parent",
    "due_at",
    "model_chain",
)
MAX_TREE_DEPTH = 20


class CheckoutConflict(Exception):
    """The task is held by another live run."""

    def __init__(self, task: Task, holder_run_id: int | None) -> None:
        self.task = task
        self.holder_run_id = holder_run_id
        super().__init__(f"task {task.pk} is checked out by run {holder_run_id}")


def _actor(actor_user: Any, actor_agent: Agent | None) -> dict[str, Any]:
    return {"actor_user": actor_user, "actor_agent": actor_agent}


# -- goals ----------------------------------------------------------------------------------


def _goal_check_parent(goal: Goal) -> None:
    seen = {goal.pk} if goal.pk else set()
    parent = Goal.objects.filter(pk=goal.parent_id).first() if goal.parent_id else None
    if goal.parent_id and parent is None:
        raise ValidationError({"parent": "That goal is not in this company."})
    depth = 0
    while parent is not None:
        if parent.pk in seen:
            raise ValidationError({"parent": "A goal cannot sit under itself: that is a cycle."})
        seen.add(parent.pk)
        depth += 1
        if depth > MAX_TREE_DEPTH:
            raise ValidationError({"parent": f"Goals nest at most {MAX_TREE_DEPTH} deep."})
        parent = parent.parent if parent.parent_id else None


def _clean_title(title: Any, field: str = "title") -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError({field: "This field is required."})
    if len(title) > 200:
        raise ValidationError({field: "At most 200 characters."})
    return title.strip()


@transaction.atomic
def goal_create(
    *,
    title: str,
    description: str = "",
    parent: Goal | int | None = None,
    owner: Agent | int | None = None,
    actor_user: Any = None,
    actor_agent: Agent | None = None,
) -> Goal:
    goal = Goal(
        tenant_id=require_tenant_id(),
        title=_clean_title(title),
        description=description or "",
        parent_id=getattr(parent, "pk", parent),
        owner_id=getattr(owner, "pk", owner),
    )
    _goal_check_parent(goal)
    if goal.owner_id and not Agent.objects.filter(pk=goal.owner_id).exists():
        raise ValidationError({"owner": "That agent is not in this company."})
    goal.save()
    audit_record(
        tenant=goal.tenant_id,
        verb="goal.created",
        target=goal,
        after={"title": goal.title, "parent": goal.parent_id},
        **_actor(actor_user, actor_agent),
    )
    return goal


@transaction.atomic
def goal_update(
    *, goal: Goal, actor_user: Any = None, actor_agent: Agent | None = None, **values: Any
) -> Goal:
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    before = {"title": goal.title, "parent": goal.parent_id, "status": goal.status}
    for name, value in values.items():
        if name == "title":
            goal.title = _clean_title(value)
        elif name in ("parent", "owner"):
            setattr(goal, f"{name}_id", getattr(value, "pk", value))
        elif name in ("description", "status"):
            setattr(goal, name, value)
        else:
            raise ValidationError(f"Not editable: {name}.")
    _goal_check_parent(goal)
    try:
        goal.full_clean(exclude=["tenant", "parent", "owner"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    goal.save()
    audit_record(
        tenant=goal.tenant_id,
        verb="goal.updated",
        target=goal,
        before=before,
        after={"title": goal.title, "parent": goal.parent_id, "status": goal.status},
        **_actor(actor_user, actor_agent),
    )
    return goal


# -- tasks ----------------------------------------------------------------------------------


def _task_check(task: Task, changed: set[str]) -> None:
    """The changed references must be this tenant's rows (the scoped manager sees no other
    tenant's); the fields must be valid."""
    refs = (
        ("assignee", Agent, task.assignee_id),
        ("goal", Goal, task.goal_id),
        ("parent", Task, task.parent_id),
    )
    for field, model, pk in refs:
        if field in changed and pk is not None and not model.objects.filter(pk=pk).exists():
            raise ValidationError({field: f"That {field} is not in this company."})
    if (
        "model_chain" in changed
        and task.model_chain_id is not None
        and not ModelChain.objects.filter(pk=task.model_chain_id).exists()
    ):
        raise ValidationError({"model_chain": "No such model chain."})
    if "parent" in changed and task.parent_id is not None and task.pk is not None:
        seen, parent_id = {task.pk}, task.parent_id
        for _ in range(MAX_TREE_DEPTH + 1):
            if parent_id is None:
                break
            if parent_id in seen:
                raise ValidationError({"parent": "A task cannot sit under itself."})
            seen.add(parent_id)
            parent_id = (
                Task.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
            )
    try:
        task.full_clean(
            exclude=[
                "tenant",
                "assignee",
                "goal",
                "parent",
                "model_chain",
                "blockers",
                "checkout_run",
                "created_by_user",
                "created_by_agent",
            ]
        )
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


def _task_snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "status": task.status,
        "priority": task.priority,
        "assignee": task.assignee_id,
        "goal": task.goal_id,
        "parent": task.parent_id,
    }


def _set_task_fields(task: Task, values: dict[str, Any]) -> None:
    unknown = set(values) - set(TASK_FIELDS)
    if unknown:
        raise ValidationError(f"Not editable: {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        if name in ("assignee", "goal", "parent", "model_chain"):
            setattr(task, f"{name}_id", getattr(value, "pk", value))
        elif name == "title":
            task.title = _clean_title(value)
        else:
            setattr(task, name, value)
    if task.status == TaskStatus.DONE and task.completed_at is None:
        task.completed_at = timezone.now()


def _wake_on_commit(agent_id: int | None, trigger: str, *, not_agent: Agent | None) -> None:
    if agent_id is None or (not_agent is not None and not_agent.pk == agent_id):
        return  # an agent is never woken by its own action
    transaction.on_commit(lambda: agent_wake(agent_id=agent_id, trigger=trigger))


@transaction.atomic
def task_create(
    *,
    title: str,
    actor_user: Any = None,
    actor_agent: Agent | None = None,
    blockers: list[int] | None = None,
    **values: Any,
) -> Task:
    task = Task(
        tenant_id=require_tenant_id(),
        created_by_user=actor_user if getattr(actor_user, "pk", None) else None,
        created_by_agent=actor_agent,
    )
    _set_task_fields(task, {"title": title, **values})
    _task_check(task, set(TASK_FIELDS))
    task.save()
    if blockers:
        task_set_blockers(task=task, blockers=blockers)
    audit_record(
        tenant=task.tenant_id,
        verb="task.created",
        target=task,
        after=_task_snapshot(task),
        **_actor(actor_user, actor_agent),
    )
    _wake_on_commit(task.assignee_id, RunTrigger.ASSIGNMENT, not_agent=actor_agent)
    return task


def task_set_blockers(*, task: Task, blockers: list[int]) -> None:
    ids = {int(b) for b in blockers}
    if task.pk in ids:
        raise ValidationError({"blockers": "A task cannot block itself."})
    found = set(Task.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if found != ids:
        raise ValidationError({"blockers": "Every blocker must be a task of this company."})
    task.blockers.set(ids)


@transaction.atomic
def task_update(
    *,
    task: Task,
    actor_user: Any = None,
    actor_agent: Agent | None = None,
    blockers: list[int] | None = None,
    **values: Any,
) -> Task:
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = _task_snapshot(task)
    _set_task_fields(task, values)
    _task_check(task, set(values))
    task.save()
    if blockers is not None:
        task_set_blockers(task=task, blockers=blockers)
    after = _task_snapshot(task)
    if after != before:
        audit_record(
            tenant=task.tenant_id,
            verb="task.updated",
            target=task,
            before=before,
            after=after,
            **_actor(actor_user, actor_agent),
        )
    if after["assignee"] != before["assignee"]:
        _wake_on_commit(task.assignee_id, RunTrigger.ASSIGNMENT, not_agent=actor_agent)
    return task


# -- comments -------------------------------------------------------------------------------

_MENTION = re.compile(r"@([\w][\w.\-]*)", re.UNICODE)


def mentions_find(body: str, agents: list[Agent]) -> list[Agent]:
    """Agents named as @Name in `body` (case-insensitive, whole names)."""
    words = {m.group(1).lower().rstrip(".") for m in _MENTION.finditer(body)}
    return [a for a in agents if a.name.lower() in words]


def session_for(*, agent_id: int, key: str) -> Session:
    """The agent's session on `key`, created on first use (no savepoint: an INSERT that
    ignores a concurrent twin, then the read)."""
    rows = Session.objects.filter(agent_id=agent_id, key=key)
    session = rows.first()
    if session is None:
        Session.objects.bulk_create(
            [Session(tenant_id=require_tenant_id(), agent_id=agent_id, key=key)],
            ignore_conflicts=True,
        )
        session = rows.get()
    return session


def task_session_key(task_id: int) -> str:
    return f"task:{task_id}"


@transaction.atomic
def comment_create(
    *,
    task: Task,
    body: str,
    actor_user: Any = None,
    actor_agent: Agent | None = None,
    run: Run | None = None,
) -> Comment:
    """Post a comment. Each @mentioned agent (never the author) gets the comment as a
    pending message on its session for this task, and is woken."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": "A comment needs some text."})
    if len(body) > 20_000:
        raise ValidationError({"body": "At most 20,000 characters."})
    comment = Comment.objects.create(
        tenant_id=require_tenant_id(),
        task_id=task.pk,
        body=body.strip(),
        author_user=actor_user if getattr(actor_user, "pk", None) else None,
        author_agent=actor_agent,
        run=run,
    )
    candidates = list(Agent.objects.filter(status="active")) if "@" in body else []
    mentioned = [
        a for a in mentions_find(body, candidates) if actor_agent is None or a.pk != actor_agent.pk
    ]
    if mentioned:
        comment.mentions.set(mentioned)
        author = actor_agent.name if actor_agent else getattr(actor_user, "email", "") or "system"
        for agent in mentioned:
            session = session_for(agent_id=agent.pk, key=task_session_key(task.pk))
            SessionMessage.objects.create(
                tenant_id=comment.tenant_id,
                session=session,
                role=MessageRole.USER,
                status=MessageStatus.PENDING,
                content=comment.body,
                author_label=author[:200],
            )
            _wake_on_commit(agent.pk, RunTrigger.MENTION, not_agent=actor_agent)
    audit_record(
        tenant=comment.tenant_id,
        verb="comment.created",
        target=comment,
        after={"task": task.pk, "mentions": [a.pk for a in mentioned]},
        **_actor(actor_user, actor_agent),
    )
    return comment


# -- checkout -------------------------------------------------------------------------------


def task_holder_is_live(holder_id: int | None, now: datetime) -> bool:
    """Does the run `holder_id` still hold its tasks (live, lease not expired)?"""
    if holder_id is None:
        return False
    return (
        Run.objects.filter(pk=holder_id, status__in=LIVE_RUN_STATUSES)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__gt=now))
        .exists()
    )


def task_checkout(*, task: Task, run: Run) -> Task:
    """Take the task for `run`: a compare-and-set on the holder seen (`task` as the caller
    read it), so of N concurrent callers exactly one wins. A holder whose run ended or whose
    lease expired is dead and its lease is reclaimed. Raises CheckoutConflict when a live
    run holds it. A task still "todo" moves to "in_progress" in the same statement."""
    now = timezone.now()
    holder = task.checkout_run_id
    for _ in range(3):
        if holder == run.pk:
            return task
        if task_holder_is_live(holder, now):
            raise CheckoutConflict(task, holder)
        won = Task.objects.filter(pk=task.pk, checkout_run_id=holder).update(
            checkout_run_id=run.pk,
            checked_out_at=now,
            status=Case(
                When(status=TaskStatus.TODO, then=Value(TaskStatus.IN_PROGRESS)),
                default=F("status"),
            ),
        )
        if won:
            task.checkout_run_id, task.checked_out_at = run.pk, now
            if task.status == TaskStatus.TODO:
                task.status = TaskStatus.IN_PROGRESS
            return task
        holder = Task.objects.filter(pk=task.pk).values_list("checkout_run_id", flat=True).first()
    raise CheckoutConflict(task, holder)


def task_release(*, task_id: int, run_id: int) -> bool:
    """Give the task back (only the holder can)."""
    return bool(
        Task.objects.filter(pk=task_id, checkout_run_id=run_id).update(
            checkout_run_id=None, checked_out_at=None
        )
    )
