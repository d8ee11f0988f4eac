from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models.owned import TenantOwned
from tenants.models.tenant import Role


class Invitation(TenantOwned):
    """An invitation to join a tenant; only the SHA-256 of its token is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "email"], name="invitation_tenant_email_idx")]

    def __str__(self) -> str:
        return f"invitation of {self.email} to tenant {self.tenant_id}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )
