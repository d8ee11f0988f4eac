"""A fresh access token for a tenant's Google connection, refreshed before it expires.

The refresh runs under a row lock on the independent connection: two workers that both
find the token about to expire refresh once, the second reads the first one's token.
`invalid_grant` (revoked, expired, password changed) marks the connection needs_reconnect.
"""

from __future__ import annotations

import calendar
import functools
import json
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials

from integrations.google.errors import GoogleUnavailable
from integrations.google.scopes import PRODUCT_LABELS, PRODUCTS
from integrations.models import Connection, ConnectionKind, ConnectionStatus
from integrations.selectors import connection_get
from integrations.services.connections import connection_record_error, connection_secret
from orion.core.rows import independent_alias

REFRESH_MARGIN_S = 300
REFRESH_TIMEOUT_S = 20
RECONNECT = "an owner or admin must reconnect Google on the Integrations page"


@dataclass(frozen=True)
class Access:
    connection_id: int
    token: str = field(repr=False)  # reprs land in tracebacks and error reports
    email: str
    refresh_expires_at: float | None


def google_access(*, tenant_id: int, product: str) -> Access:
    """An access token good for at least REFRESH_MARGIN_S that carries `product`'s scopes."""
    label = PRODUCT_LABELS[product]
    connection = connection_get(tenant_id=tenant_id, kind=ConnectionKind.GOOGLE)
    if connection is None:
        raise GoogleUnavailable(
            f"{label} is not connected for this company: an owner or admin can connect it "
            "on the Integrations page."
        )
    if connection.status == ConnectionStatus.DISABLED:
        raise GoogleUnavailable("Google is disabled for this company.")
    if connection.status == ConnectionStatus.NEEDS_RECONNECT:
        raise GoogleUnavailable(f"Google needs reconnecting: {RECONNECT}.")
    granted = set(connection.config.get("scopes", []))
    if not set(PRODUCTS[product]) <= granted:
        raise GoogleUnavailable(
            f"{label} access was not granted: an owner or admin must connect {label} on "
            "the Integrations page."
        )
    secret = connection_secret(connection)
    token = secret.get("access_token", "")
    if float(secret.get("expires_at") or 0) - time.time() <= REFRESH_MARGIN_S:
        token = _refresh(connection.pk)
    return Access(
        connection_id=connection.pk,
        token=token,
        email=connection.config.get("email", ""),
        refresh_expires_at=secret.get("refresh_expires_at"),
    )


def _refresh(connection_id: int) -> str:
    alias = independent_alias()
    with transaction.atomic(using=alias):
        row = Connection.objects.unscoped().using(alias).select_for_update().get(pk=connection_id)
        secret = connection_secret(row)
        if float(secret.get("expires_at") or 0) - time.time() > REFRESH_MARGIN_S:
            return secret["access_token"]  # another worker refreshed while we waited
        credentials = Credentials(
            token=None,
            refresh_token=secret.get("refresh_token"),
            token_uri=settings.ORION_GOOGLE_TOKEN_URI,
            client_id=settings.ORION_GOOGLE_CLIENT_ID,
            client_secret=settings.ORION_GOOGLE_CLIENT_SECRET,
        )
        try:
            credentials.refresh(functools.partial(Request(), timeout=REFRESH_TIMEOUT_S))
        except (RefreshError, TransportError) as exc:
            failure = exc
        else:
            fresh = {
                **secret,
                "access_token": credentials.token,
                "expires_at": calendar.timegm(credentials.expiry.utctimetuple()),
                "refresh_token": credentials.refresh_token or secret.get("refresh_token"),
            }
            Connection.objects.unscoped().using(alias).filter(pk=connection_id).update(
                secret=json.dumps(fresh), updated_at=timezone.now()
            )
            return credentials.token
    raise _refresh_failed(connection_id, failure) from failure


def _refresh_failed(connection_id: int, exc: Exception) -> GoogleUnavailable:
    """Record why the refresh failed; the error for the caller to raise."""
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    if data.get("error") == "invalid_grant":
        message = f"Google access was revoked or has expired: {RECONNECT}."
        connection_record_error(
            durable=True,
            connection_id=connection_id,
            error=message,
            status=ConnectionStatus.NEEDS_RECONNECT,
        )
        return GoogleUnavailable(message)
    if data.get("error") in ("invalid_client", "unauthorized_client"):
        message = (
            f"Google refused Orion's OAuth client ({data['error']}): Orion staff must fix the "
            "Google client settings; reconnecting will not help."
        )
        connection_record_error(
            durable=True, connection_id=connection_id, error=message, status=ConnectionStatus.ERROR
        )
        return GoogleUnavailable(message)
    connection_record_error(
        durable=True,
        connection_id=connection_id,
        error="Google's token service failed to refresh access; it will be tried again.",
        status=ConnectionStatus.ERROR,
    )
    return GoogleUnavailable("Google could not refresh access just now; try again later.")
