"""Writes of a tenant's connections, shared by every kind package: connect (or replace
the settings of) a connection, disconnect it, and record how its last use went.

A kind's form validates first; these functions write the row and its audit entry in one
transaction, so a rejected connect stores nothing. The audit entry never carries a secret.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, ConnectionStatus
from integrations.selectors import connection_get
from orion.core.rows import independent_alias
from orion.core.secrets import Secret
from tenants.services.audit import audit_record

MAX_ERROR_CHARS = 500


def connection_secret(connection: Connection) -> dict[str, Any]:
    """The decrypted secret object of `connection` ({} when none is stored)."""
    value = connection.secret
    if not value or (isinstance(value, Secret) and not value.token):  # stored empty
        return {}
    text = value.reveal() if isinstance(value, Secret) else str(value)
    return json.loads(text) if text else {}


@transaction.atomic
def connection_connect(
    *,
    tenant_id: int,
    kind: str,
    config: dict[str, Any],
    secret: dict[str, Any] | None,
    actor_user: Any = None,
    actor_agent: Any = None,
) -> Connection:
    """Create or replace the tenant's `kind` connection; status back to connected and the
    last error cleared. `secret=None` keeps the stored secret (a settings-only edit)."""
    connection = (
        Connection.objects.unscoped()
        .select_for_update()
        .filter(tenant_id=tenant_id, kind=kind)
        .first()
    )
    created = connection is None
    if created:
        connection = Connection(tenant_id=tenant_id, kind=kind)
    before = None if created else {"status": connection.status, "config": connection.config}
    connection.config = config
    if secret is not None:
        connection.secret = json.dumps(secret)
    connection.status = ConnectionStatus.CONNECTED
    connection.last_error = ""
    connection.last_error_at = None
    connection.save()
    audit_record(
        tenant=tenant_id,
        verb="integration.connected" if created else "integration.updated",
        target=connection,
        actor_user=actor_user,
        actor_agent=actor_agent,
        before=before,
        after={"kind": kind, "config": config, "secret_changed": secret is not None},
    )
    return connection


@transaction.atomic
def connection_disconnect(*, tenant_id: int, kind: str, actor_user: Any = None) -> bool:
    """Delete the tenant's `kind` connection and its secret; False when there was none.
    Deliveries keep their history (their connection becomes null)."""
    connection = connection_get(tenant_id=tenant_id, kind=kind)
    if connection is None:
        return False
    audit_record(
        tenant=tenant_id,
        verb="integration.disconnected",
        target=connection,
        actor_user=actor_user,
        before={"kind": kind, "status": connection.status, "config": connection.config},
    )
    connection.delete()
    return True


def connection_record_success(*, connection_id: int) -> None:
    """A use worked: last success now; an error status clears (disabled stays disabled)."""
    now = timezone.now()
    Connection.objects.unscoped().filter(pk=connection_id).update(last_success_at=now)
    Connection.objects.unscoped().filter(
        pk=connection_id, status__in=[ConnectionStatus.ERROR, ConnectionStatus.EXPIRING]
    ).update(status=ConnectionStatus.CONNECTED, last_error="", updated_at=now)


def connection_record_error(
    *, connection_id: int, error: str, status: str = ConnectionStatus.ERROR, durable: bool = False
) -> None:
    """A use failed: `error` in plain words, and the status (error, needs_reconnect, or
    disabled for a permanent failure such as a revoked bot or a deleted webhook).

    `durable` writes on the independent connection: an agent's tool runs inside the loop's
    transaction, which rolls back when the tool refuses, and "access was revoked" must stay
    recorded (monitoring watches it) whatever happens to the call."""
    now = timezone.now()
    rows = Connection.objects.unscoped()
    if durable:
        rows = rows.using(independent_alias())
    rows = rows.filter(pk=connection_id)
    if status != ConnectionStatus.DISABLED:
        # Disabled stays disabled, with its reason, until someone connects it again: a
        # lesser failure recorded later (a send that gave up on 503s) must not re-enable it.
        rows = rows.exclude(status=ConnectionStatus.DISABLED)
    rows.update(
        status=status,
        last_error=error[:MAX_ERROR_CHARS],
        last_error_at=now,
        updated_at=now,
    )


def connection_touch_config(*, connection_id: int, **changes: Any) -> None:
    """Merge `changes` into the connection's shown config (a Telegram chat that migrated to
    a supergroup gets its new chat id) under a row lock, touching nothing else."""
    with transaction.atomic():
        connection = Connection.objects.unscoped().select_for_update().get(pk=connection_id)
        Connection.objects.unscoped().filter(pk=connection_id).update(
            config={**connection.config, **changes}, updated_at=timezone.now()
        )
