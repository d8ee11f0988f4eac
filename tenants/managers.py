"""The fail-closed manager every tenant-owned model uses by default."""

from __future__ import annotations

from typing import Any

from django.db import models

from tenants.scope import require_tenant_id


class CurrentTenantId(models.Expression):
    """The current scope's tenant id, read when the SQL is compiled, not when the queryset
    is built: querysets can be created anywhere (form fields at import time, class
    attributes), but running one outside a scope raises NoTenantScope."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[int]]:
        return "%s", [require_tenant_id()]


class TenantQuerySet(models.QuerySet):
    """Base queryset of tenant-owned models (AuditEvent's append-only one extends it)."""


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """`objects`: rows of the current tenant only; raises NoTenantScope outside a scope.

    `unscoped()` returns every tenant's rows: for staff admin, sweeps and migrations,
    explicit at the call site so a reviewer sees it.
    """

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(tenant_id=CurrentTenantId())

    def unscoped(self) -> TenantQuerySet:
        return super().get_queryset()
