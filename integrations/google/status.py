"""Connection state written from the agents' tools: last success, needs reconnecting,
error, expiring.

A tool runs inside the agent loop's transaction, which is rolled back when the tool
refuses; these writes go through `orion.core.rows.independent_alias()` so that "Google
access was revoked" stays recorded (and monitoring sees it) whatever happens to the call.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import Case, CharField, F, TextField, Value, When
from django.utils import timezone

from integrations.models import Connection, ConnectionStatus
from orion.core.rows import independent_alias

EXPIRING_WITHIN_S = 3 * 24 * 3600
_CLEARABLE = [ConnectionStatus.ERROR, ConnectionStatus.EXPIRING]


def _rows(connection_id: int):
    return Connection.objects.unscoped().using(independent_alias()).filter(pk=connection_id)


def expiry_warning(refresh_expires_at: float | None, *, now: float) -> str:
    """The warning to show when Google said the refresh token ends soon, else ""."""
    if not refresh_expires_at or refresh_expires_at - now > EXPIRING_WITHIN_S:
        return ""
    ends = datetime.fromtimestamp(refresh_expires_at, tz=UTC)
    return (
        f"Google access ends on {ends:%Y-%m-%d %H:%M} UTC: an owner or admin should "
        "reconnect Google before then."
    )


def google_mark_used(*, connection_id: int, refresh_expires_at: float | None) -> None:
    """A call worked, in one statement: last success now; an error clears, and the status
    says expiring when Google limited the refresh token's life and its end is near
    (disabled and needs reconnecting stay as they are)."""
    now = timezone.now()
    warning = expiry_warning(refresh_expires_at, now=now.timestamp())
    if warning:
        movable, status = [*_CLEARABLE, ConnectionStatus.CONNECTED], ConnectionStatus.EXPIRING
    else:
        movable, status = _CLEARABLE, ConnectionStatus.CONNECTED
    moves = When(status__in=movable, then=Value(status))
    clears = When(status__in=movable, then=Value(warning))
    _rows(connection_id).update(
        last_success_at=now,
        status=Case(moves, default=F("status"), output_field=CharField()),
        last_error=Case(clears, default=F("last_error"), output_field=TextField()),
        updated_at=now,
    )
