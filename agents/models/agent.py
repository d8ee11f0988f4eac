from __future__ import annotations

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


class Agent(TenantOwned):
    name = models.CharField(max_length=80)
    role = models.CharField(max_length=16, choices=AgentRole.choices)
    status = models.CharField(max_length=8, choices=AgentStatus.choices, default=AgentStatus.ACTIVE)
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="agent_tenant_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    FAILED_ALL_MODELS = "failed_all_models", "Failed: every model failed"
    SKIPPED = "skipped", "Skipped"


class Run(TenantOwned):
    """One heartbeat of an agent."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    last_progress_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="after failed_all_models: the soonest cooldown expiry"
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["tenant", "status"], name="run_tenant_status_idx")]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.agent_id} ({self.status})"
