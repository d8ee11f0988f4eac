"""Reads of a tenant's connections."""

from __future__ import annotations

from integrations.models import Connection


def connections_by_kind(*, tenant_id: int) -> dict[str, Connection]:
    return {c.kind: c for c in Connection.objects.unscoped().filter(tenant_id=tenant_id)}


def connection_get(*, tenant_id: int, kind: str) -> Connection | None:
    return Connection.objects.unscoped().filter(tenant_id=tenant_id, kind=kind).first()
