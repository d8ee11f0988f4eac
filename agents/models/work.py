"""The work an agent does: goals (a tree from the company mission down), tasks and their
comments."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class GoalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ACHIEVED = "achieved", "Achieved"
    DROPPED = "dropped", "Dropped"


class Goal(TenantOwned):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    owner = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="goals"
    )
    status = models.CharField(max_length=10, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class TaskStatus(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    IN_REVIEW = "in_review", "In review"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_TASK_STATUSES = (
    TaskStatus.BACKLOG,
    TaskStatus.TODO,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BLOCKED,
    TaskStatus.IN_REVIEW,
)
# What a heartbeat may pick up: assigned, ready, not waiting on a person.
ACTIONABLE_TASK_STATUSES = (TaskStatus.TODO, TaskStatus.IN_PROGRESS)


class TaskPriority(models.IntegerChoices):
    LOW = 0, "Low"
    NORMAL = 1, "Normal"
    HIGH = 2, "High"
    URGENT = 3, "Urgent"


class Task(TenantOwned):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.TODO)
    priority = models.PositiveSmallIntegerField(
        choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    assignee = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    goal = models.ForeignKey(
        Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="subtasks"
    )
    blockers = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="blocking"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    model_chain = models.ForeignKey(
        "agents.ModelChain",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="routes this task to another chain than the agent's",
    )
    # The checkout: a lease held by one live Run (compare-and-set, see services.checkout).
    checkout_run = models.ForeignKey(
        "agents.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_out_at = models.DateTimeField(null=True, blank=True)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [
            models.Index(
                fields=["tenant", "assignee", "status", "-priority"], name="task_inbox_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Comment(TenantOwned):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        "agents.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    body = models.TextField()
    mentions = models.ManyToManyField("agents.Agent", blank=True, related_name="mentioned_in")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "-created_at"], name="comment_task_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on task {self.task_id}"

    @property
    def author_label(self) -> str:
        if self.author_agent_id is not None:
            return self.author_agent.name
        if self.author_user_id is not None:
            return self.author_user.get_username()
        return "system"
