"""The fail-closed manager every tenant-owned model uses by default."""

from __future__ import annotations

from django.db import models

from tenants.scope import require_tenant_id


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant_id: int) -> TenantQuerySet:
        return self.filter(tenant_id=tenant_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """`objects`: rows of the current tenant only; raises NoTenantScope outside a scope.

    `unscoped()` returns every tenant's rows: for staff admin, sweeps and migrations,
    explicit at the call site so a reviewer sees it.
    """

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(tenant_id=require_tenant_id())

    def unscoped(self) -> TenantQuerySet:
        return super().get_queryset()
