"""Sessions: the transcript of an agent's conversation on one key (a task, a thread), the
messages waiting for it, and every tool call a run made."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class Session(TenantOwned):
    """An agent's conversation on one key. Its turns run one at a time because an agent has
    at most one live run (the partial unique constraint on Run); a message arriving
    meanwhile waits as a pending SessionMessage and gets the next turn."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="sessions")
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "agent", "key"], name="session_agent_key_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.key}"


class MessageRole(models.TextChoices):
    USER = "user", "Incoming"
    ASSISTANT = "assistant", "Agent"
    TOOL = "tool", "Tool result"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a turn"
    DONE = "done", "Handled"


class SessionMessage(TenantOwned):
    """One line of the transcript. Incoming messages start `pending` and are handled in id
    order; the agent's own lines are written `done` by the run that made them."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=MessageRole.choices)
    status = models.CharField(
        max_length=8, choices=MessageStatus.choices, default=MessageStatus.DONE
    )
    content = models.TextField(blank=True)
    author_label = models.CharField(max_length=200, blank=True)
    tool_calls = models.JSONField(null=True, blank=True)
    tool_call_id = models.CharField(max_length=80, blank=True)
    run = models.ForeignKey(
        "agents.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["session", "id"],
                condition=models.Q(status="pending"),
                name="sessionmsg_pending_idx",
            )
        ]
        constraints = [
            # A resumed run never writes the same step's line twice.
            models.UniqueConstraint(
                fields=["run", "step", "role", "tool_call_id"],
                condition=models.Q(run__isnull=False) & ~models.Q(role="user"),
                name="sessionmsg_run_step_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk} in {self.session_id}"


class ToolCallStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ToolCallRecord(TenantOwned):
    """One tool call of a run, written in the same transaction as the tool's own writes: a
    resumed run finds the record and replays its result, or finds none, and then the
    tool's writes were rolled back with it and running it again is safe. Tools that act
    outside the database must be idempotent on (run, step, index) themselves."""

    run = models.ForeignKey("agents.Run", on_delete=models.CASCADE, related_name="tool_calls")
    step = models.PositiveSmallIntegerField()
    index = models.PositiveSmallIntegerField()
    call_id = models.CharField(max_length=80)
    name = models.CharField(max_length=80)
    arguments = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=ToolCallStatus.choices)
    result = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "step", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step", "index"], name="toolcall_step_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
