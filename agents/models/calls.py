"""One model call and its attempts: the Ledger the failover walker persists through."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class ModelCallStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ModelCall(TenantOwned):
    """A logical model call; `key` makes it idempotent (a re-delivered task resumes it)."""

    key = models.CharField(max_length=120)
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL)
    run = models.ForeignKey("agents.Run", null=True, blank=True, on_delete=models.SET_NULL)
    chain = models.ForeignKey(
        "agents.ModelChain", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ModelCallStatus.choices, default=ModelCallStatus.RUNNING
    )
    provider = models.CharField(max_length=60, blank=True)
    model = models.CharField(max_length=120, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True, help_text="the normalised answer")
    error = models.TextField(blank=True)
    soonest_expiry = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="modelcall_tenant_key_uniq")
        ]

    def __str__(self) -> str:
        return f"call {self.key} ({self.status})"


class FailoverAttempt(TenantOwned):
    """One attempt of a call, written before the request goes out and completed after."""

    call = models.ForeignKey(ModelCall, on_delete=models.CASCADE, related_name="attempts")
    seq = models.PositiveSmallIntegerField()
    candidate_index = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=60)
    model = models.CharField(max_length=120)
    profile = models.ForeignKey(
        "agents.AuthProfile", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile_key = models.CharField(max_length=40)
    try_no = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12)
    error_class = models.CharField(max_length=20, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    retry_after = models.FloatField(null=True, blank=True)
    probe = models.BooleanField(default=False)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["call_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "call", "seq"], name="attempt_call_seq_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.call_id}#{self.seq} {self.provider}/{self.model} {self.status}"
