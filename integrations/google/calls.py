"""One Google API call with its consequences on the connection: success recorded, a
refused token marks needs_reconnect, a missing scope says which to allow, an outage is
an error in plain words."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import httpx
from googleapiclient.errors import HttpError

from integrations.google.credentials import RECONNECT, Access
from integrations.google.errors import GoogleNoAnswer, GoogleRefused
from integrations.google.scopes import PRODUCT_LABELS
from integrations.google.status import google_mark_error, google_mark_used
from integrations.models import ConnectionStatus

T = TypeVar("T")


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


def google_call(access: Access, product: str, call: Callable[[], T], *, what: str) -> T:
    """Run `call` (one request built on a client); `what` names it in messages."""
    label = PRODUCT_LABELS[product]
    try:
        result = call()
    except HttpError as exc:
        raise _refused(access, label, exc, what) from exc
    except httpx.HTTPError as exc:
        google_mark_error(
            connection_id=access.connection_id,
            error=f"{label} did not answer ({type(exc).__name__}).",
            status=ConnectionStatus.ERROR,
        )
        raise GoogleNoAnswer(f"{label} did not answer {what}; try again later.") from exc
    google_mark_used(
        connection_id=access.connection_id, refresh_expires_at=access.refresh_expires_at
    )
    return result


def _refused(access: Access, label: str, exc: HttpError, what: str) -> GoogleRefused:
    status = exc.resp.status
    message, reason = _reason(exc)
    if status == 401:
        text = f"Google refused Orion's access to {label}: {RECONNECT}."
        google_mark_error(
            connection_id=access.connection_id, error=text, status=ConnectionStatus.NEEDS_RECONNECT
        )
        return GoogleRefused(text, status=status)
    if status == 403 and reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
        text = (
            f"{label} access was not granted at Google: an owner or admin must reconnect "
            f"and allow {label} on the Integrations page."
        )
        google_mark_error(
            connection_id=access.connection_id, error=text, status=ConnectionStatus.NEEDS_RECONNECT
        )
        return GoogleRefused(text, status=status)
    if status == 429 or status >= 500:
        google_mark_error(
            connection_id=access.connection_id,
            error=f"{label} answered {status} to {what}.",
            status=ConnectionStatus.ERROR,
        )
        return GoogleRefused(f"{label} is busy or failing ({status}); try later.", status=status)
    if status == 404:
        return GoogleRefused(f"{label}: {what} found nothing (404).", status=status)
    return GoogleRefused(
        f"{label} refused {what} ({status}{': ' + message if message else ''}).", status=status
    )
