"""Outbound messages: one Delivery per message (idempotency key unique per tenant) and
one DeliveryAttempt per try. The Delivery path's task moves a delivery through its
states; see integrations/delivery/ for which channel does what after a crash."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Waiting to retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (may have been sent)"


class Delivery(TenantOwned):
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=16)
    connection = models.ForeignKey(
        "integrations.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    purpose = models.CharField(max_length=32, blank=True)
    recipient = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    # Telegram refused the HTML once: every later try goes out as plain text.
    plain_text = models.BooleanField(default=False)
    # A claim is a lease: the worker holding `lease_token` may send until `lease_until`;
    # after that the sweep hands the delivery to another run, which finds the started
    # attempt and asks the provider or marks the delivery unknown (never resends blindly).
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="delivery_tenant_key_uniq")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["tenant", "created_at"], name="delivery_tenant_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class AttemptOutcome(models.TextChoices):
    STARTED = "started", "Started"
    SENT = "sent", "Sent"
    TRANSIENT = "transient", "Transient error"
    PERMANENT = "permanent", "Permanent error"
    UNKNOWN = "unknown", "Outcome unknown"


class DeliveryAttempt(TenantOwned):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    outcome = models.CharField(
        max_length=12, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    retry_after_ms = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_uniq")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.outcome}"
