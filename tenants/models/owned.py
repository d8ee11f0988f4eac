from __future__ import annotations

from typing import Any

from django.db import models

from tenants.managers import TenantManager
from tenants.scope import current_tenant_id


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was saved while acting for another."""


class TenantOwned(models.Model):
    """Base for every tenant-owned row: non-null tenant FK and the fail-closed manager.

    `objects` is the default manager, so admin, forms and related lookups fail closed
    too; the plain `_base_manager` stays for cascades and relation traversal.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        scoped = current_tenant_id()
        if self.tenant_id is None and scoped is not None:
            self.tenant_id = scoped
        if scoped is not None and self.tenant_id != scoped:
            raise CrossTenantWrite(
                f"{type(self).__name__} of tenant {self.tenant_id} saved in the scope of {scoped}"
            )
        super().save(*args, **kwargs)
