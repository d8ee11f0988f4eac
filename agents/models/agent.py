"""The agent and its runs (heartbeats)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenants.models import TenantOwned


class AgentRole(models.TextChoices):
    COORDINATOR = "coordinator", "Coordinator"
    ADMIN = "admin", "Admin / email"
    WEBSITE = "website", "Website"
    MARKETING = "marketing", "Marketing"
    REPORTING = "reporting", "Reporting"


class AgentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    TERMINATED = "terminated", "Terminated"


class PauseReason(models.TextChoices):
    NONE = "", "—"
    MANUAL = "manual", "Paused by a person"
    BUDGET = "budget", "Over budget"
    BILLING = "billing", "Billing problem"


class ScheduleKind(models.TextChoices):
    INTERVAL = "interval", "Every N seconds"
    CRON = "cron", "Cron expression (tenant's time zone)"


class Agent(TenantOwned):
    name = models.CharField(max_length=80)
    title = models.CharField(max_length=120, blank=True, help_text="e.g. Inbox manager")
    role = models.CharField(max_length=16, choices=AgentRole.choices)
    template = models.CharField(max_length=40, blank=True, help_text="starter template key")
    instructions = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=AgentStatus.choices, default=AgentStatus.ACTIVE
    )
    pause_reason = models.CharField(
        max_length=12, choices=PauseReason.choices, default=PauseReason.NONE, blank=True
    )
    reports_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    model_chain = models.ForeignKey(
        "agents.ModelChain",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="empty: the platform's default chain",
    )
    schedule_kind = models.CharField(
        max_length=10, choices=ScheduleKind.choices, default=ScheduleKind.INTERVAL
    )
    interval_s = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(60), MaxValueValidator(7 * 24 * 3600)]
    )
    cron = models.CharField(max_length=120, blank=True, help_text="e.g. 30 7 * * 1-5")
    next_heartbeat_at = models.DateTimeField(null=True, blank=True)
    wake_trigger = models.CharField(
        max_length=12, blank=True, help_text="why the next heartbeat was brought forward"
    )
    allowed_tools = models.JSONField(
        default=list, blank=True, help_text="tool names; empty: the control-plane tools"
    )
    max_steps = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    max_run_tokens = models.PositiveIntegerField(
        default=60_000, validators=[MinValueValidator(1000)]
    )
    monthly_budget_cents = models.PositiveIntegerField(
        null=True, blank=True, help_text="enforced by billing; empty: no agent budget"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="agent_tenant_name_uniq")
        ]
        indexes = [
            # The dispatcher's scan: due active agents across tenants, oldest first.
            models.Index(
                fields=["next_heartbeat_at"],
                condition=models.Q(status="active"),
                name="agent_due_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    ASSIGNMENT = "assignment", "Assignment"
    MENTION = "mention", "Mention"
    MANUAL = "manual", "Manual"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    FAILED_ALL_MODELS = "failed_all_models", "Failed: every model failed"
    SKIPPED = "skipped", "Skipped"
    STUCK = "stuck", "Stuck"
    CANCELLED = "cancelled", "Cancelled"


LIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class Run(TenantOwned):
    """One heartbeat of an agent. At most one live (queued or running) run per agent: the
    partial unique constraint is the claim, and a heartbeat falling due meanwhile is
    counted in `coalesced` instead of queued behind it."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(
        max_length=12, choices=RunTrigger.choices, default=RunTrigger.SCHEDULE
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    reason = models.TextField(blank=True, help_text="why it was skipped, failed or stuck")
    task = models.ForeignKey(
        "agents.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    session = models.ForeignKey(
        "agents.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    steps = models.PositiveSmallIntegerField(default=0)
    summary = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    error_detail = models.TextField(blank=True)
    answered_provider = models.CharField(max_length=60, blank=True)
    answered_model = models.CharField(max_length=120, blank=True)
    fell_back = models.BooleanField(default=False)
    coalesced = models.PositiveIntegerField(default=0, help_text="heartbeats that fell due")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="after failed_all_models: the soonest cooldown expiry"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="run_tenant_status_idx"),
            models.Index(fields=["agent", "-created_at"], name="run_agent_created_idx"),
            models.Index(
                fields=["last_progress_at"],
                condition=models.Q(status="running"),
                name="run_running_progress_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(status__in=["queued", "running"]),
                name="run_one_live_per_agent",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.agent_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_RUN_STATUSES
