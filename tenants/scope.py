"""The tenant scope: which tenant the current request, task or agent acts for.

It lives on a contextvar (not a thread-local) so it follows asyncio tasks and is reset
exactly by the token that set it. Reading tenant rows outside a scope fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

_current_tenant_id: ContextVar[int | None] = ContextVar("orion_tenant_id", default=None)


class NoTenantScope(RuntimeError):
    """Tenant-owned rows were queried outside a tenant scope."""


def current_tenant_id() -> int | None:
    return _current_tenant_id.get()


def require_tenant_id() -> int:
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise NoTenantScope(
            "tenant-owned rows queried outside a tenant scope; wrap the code in "
            "tenant_scope(tenant) or use Model.objects.unscoped() deliberately"
        )
    return tenant_id


def _as_id(tenant: Any) -> int:
    value = getattr(tenant, "pk", tenant)
    if value is None:
        raise ValueError("tenant_scope needs a saved tenant or a tenant id")
    return int(value)


@contextmanager
def tenant_scope(tenant: Any) -> Iterator[int]:
    """Act for one tenant inside the block (a Tenant or its id)."""
    token = _current_tenant_id.set(_as_id(tenant))
    try:
        yield _current_tenant_id.get()
    finally:
        _current_tenant_id.reset(token)


def enter_scope(tenant_id: int | None) -> Token:
    """Low-level: set the scope and get the token to `exit_scope` with (DRF base view)."""
    return _current_tenant_id.set(tenant_id)


def exit_scope(token: Token) -> None:
    _current_tenant_id.reset(token)
