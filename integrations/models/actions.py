"""An outside action taken once: a Gmail send, a calendar event, a WordPress draft.

A tool that acts outside the database records its call key here durably *before* the
request leaves; a re-run that finds the row `started` asks the provider whether the
action landed (or marks it unknown) instead of acting blindly again."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class ActionStatus(models.TextChoices):
    STARTED = "started", "Started"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"


class ExternalAction(TenantOwned):
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.STARTED
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="action_tenant_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"
