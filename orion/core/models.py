"""Platform rows shared by every app: the staff audit log of platform configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AppendOnly(RuntimeError):
    """Audit events are never changed or deleted."""


class StaffAuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events are append-only")


class StaffAuditEvent(models.Model):
    """A staff change to platform configuration (providers, keys, model chains), which
    belongs to no tenant. Tenant rows are audited in tenants.AuditEvent. Secrets never
    appear in `before`/`after`: the services write a fingerprint-free "changed" marker."""

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

    objects = StaffAuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.verb} {self.target_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events are append-only")
