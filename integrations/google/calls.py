"""A Google client for one operation, and its consequences on the connection: success
recorded once the operation is done, a refused token marks needs_reconnect, a missing
scope says which product to allow, an outage is an error in plain words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from googleapiclient.errors import HttpError

from integrations.google.clients import calendar_service, gmail_service
from integrations.google.credentials import RECONNECT, Access, google_access
from integrations.google.errors import GoogleNoAnswer, GoogleRefused
from integrations.google.scopes import PRODUCT_LABELS
from integrations.google.status import google_mark_used
from integrations.models import ConnectionStatus
from integrations.services.connections import connection_record_error

_SERVICES = {"gmail": gmail_service, "calendar": calendar_service}


@dataclass(frozen=True)
class GoogleClient:
    access: Access
    product: str
    service: Any  # googleapiclient Resource

    def run(self, request: Any, *, what: str) -> dict[str, Any]:
        """Execute one request built on `service`; `what` names it in messages."""
        label = PRODUCT_LABELS[self.product]
        try:
            return request.execute()
        except HttpError as exc:
            raise _refused(self.access, label, exc, what) from exc
        except httpx.HTTPError as exc:
            _record(self.access, f"{label} did not answer ({type(exc).__name__}).")
            raise GoogleNoAnswer(f"{label} did not answer {what}; try again later.") from exc


@contextmanager
def google_client(*, tenant_id: int, product: str) -> Iterator[GoogleClient]:
    """A client on a fresh token of the tenant's connection; closed at the end, and the
    connection's last success recorded when the block finished without error."""
    access = google_access(tenant_id=tenant_id, product=product)
    with _SERVICES[product](access.token) as service:
        yield GoogleClient(access, product, service)
    google_mark_used(
        connection_id=access.connection_id, refresh_expires_at=access.refresh_expires_at
    )


def _record(access: Access, error: str, status: str = ConnectionStatus.ERROR) -> None:
    """Recorded on its own connection: the agent loop rolls a refused tool's writes back."""
    connection_record_error(
        durable=True, connection_id=access.connection_id, error=error, status=status
    )


def _reason(exc: HttpError) -> tuple[str, str]:
    """Google's message and first error reason."""
    try:
        error = json.loads(exc.content).get("error", {})
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return str(error)[:200], ""
    reasons = [e.get("reason", "") for e in error.get("errors", []) if isinstance(e, dict)]
    return str(error.get("message", ""))[:200], (reasons[0] if reasons else "")


def _refused(access: Access, label: str, exc: HttpError, what: str) -> GoogleRefused:
    status = exc.resp.status
    message, reason = _reason(exc)
    if status == 401:
        text = f"Google refused Orion's access to {label}: {RECONNECT}."
        _record(access, text, ConnectionStatus.NEEDS_RECONNECT)
        return GoogleRefused(text, status=status)
    if status == 403 and reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
        text = (
            f"{label} access was not granted at Google: an owner or admin must reconnect "
            f"and allow {label} on the Integrations page."
        )
        _record(access, text, ConnectionStatus.NEEDS_RECONNECT)
        return GoogleRefused(text, status=status)
    if status == 429 or status >= 500:
        _record(access, f"{label} answered {status} to {what}.")
        return GoogleRefused(f"{label} is busy or failing ({status}); try later.", status=status)
    if status == 404:
        return GoogleRefused(f"{label}: {what} found nothing (404).", status=status)
    return GoogleRefused(
        f"{label} refused {what} ({status}{': ' + message if message else ''}).", status=status
    )
