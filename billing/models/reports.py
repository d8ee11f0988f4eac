"""Which daily usage reports went out (so each day's is sent once)."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class UsageReport(TenantOwned):
    day = models.DateField(help_text="the tenant's local calendar day it covers")
    recipients = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="usagereport_tenant_day_uniq")
        ]

    def __str__(self) -> str:
        return f"usage report {self.day}"
