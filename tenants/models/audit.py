from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from tenants.managers import TenantManager, TenantQuerySet


class ActorType(models.TextChoices):
    USER = "user", "User"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class AppendOnly(RuntimeError):
    """Audit events are never changed or deleted."""


class AuditQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events are append-only")


class AuditManager(TenantManager.from_queryset(AuditQuerySet)):
    pass


class AuditEvent(models.Model):
    """Who changed what, when, from what to what. Written by services, never edited."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "-at"], name="audit_tenant_at_idx")]

    def __str__(self) -> str:
        return f"{self.actor_label or self.actor_type} {self.verb} {self.target_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events are append-only")
