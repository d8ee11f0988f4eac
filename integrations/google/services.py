"""Writes of the Google connection made by a person: store a completed consent for the
tenant, and disconnect (revoke at Google, then delete)."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from integrations.google.oauth import Grant
from integrations.google.scopes import products_granted
from integrations.google.status import expiry_warning
from integrations.models import Connection, ConnectionKind, ConnectionStatus
from integrations.selectors import connection_get
from integrations.services.connections import (
    connection_connect,
    connection_disconnect,
    connection_secret,
)

REVOKE_TIMEOUT_S = 15.0


class RevokeFailed(Exception):
    """Google could not be told to revoke the token; nothing was changed."""


@transaction.atomic
def google_connect(*, tenant_id: int, grant: Grant, actor_user: Any) -> Connection:
    """Store the consent's tokens (encrypted) for the tenant; what was granted is shown.
    With include_granted_scopes Google's answer lists every scope granted so far, so it
    replaces the stored list."""
    config = {
        "email": grant.email,
        "scopes": list(grant.scopes),
        "products": products_granted(grant.scopes),
    }
    connection = connection_connect(
        tenant_id=tenant_id,
        kind=ConnectionKind.GOOGLE,
        config=config,
        secret=grant.secret(),
        actor_user=actor_user,
    )
    warning = expiry_warning(grant.refresh_expires_at, now=connection.updated_at.timestamp())
    if warning:
        Connection.objects.unscoped().filter(pk=connection.pk).update(
            status=ConnectionStatus.EXPIRING, last_error=warning
        )
        connection.refresh_from_db()
    return connection


def google_revoke(*, refresh_token: str) -> None:
    """Revoke the grant at Google. 200 revoked; 400 already invalid (fine for a
    disconnect); anything else raises RevokeFailed."""
    try:
        response = httpx.post(
            settings.ORION_GOOGLE_REVOKE_URI,
            data={"token": refresh_token},
            timeout=REVOKE_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        raise RevokeFailed("Google could not be reached") from exc
    if response.status_code not in (200, 400):
        raise RevokeFailed(f"Google answered {response.status_code}")


def google_disconnect(*, tenant_id: int, actor_user: Any) -> bool:
    """Revoke the tenant's Google token, then delete the connection; False when there was
    none. RevokeFailed leaves the connection as it was (try again)."""
    connection = connection_get(tenant_id=tenant_id, kind=ConnectionKind.GOOGLE)
    if connection is None:
        return False
    refresh_token = connection_secret(connection).get("refresh_token")
    if refresh_token:
        google_revoke(refresh_token=refresh_token)
    return connection_disconnect(
        tenant_id=tenant_id, kind=ConnectionKind.GOOGLE, actor_user=actor_user
    )
