"""Writes of the website connection: connect (validated before anything is stored) and
"check now" (status, latency, keyword), recorded on the Connection in plain words."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.models import Connection, ConnectionKind
from integrations.selectors import connection_get
from integrations.services.connections import (
    connection_connect,
    connection_record_error,
    connection_record_success,
    connection_secret,
    connection_touch_config,
)
from integrations.website.wordpress import WordPressAuthError, WordPressClient, WordPressError
from orion.core.ssrf import (
    FetchError,
    Resolver,
    UnsafeURL,
    guarded_client,
    guarded_request,
    url_check,
)
from tenants.services.audit import audit_record

KIND = ConnectionKind.WEBSITE
CHECK_TIMEOUT_S = 10.0  # connect, and each read
CHECK_DEADLINE_S = 15.0  # the whole check, redirects included


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    status: int | None = None
    latency_ms: int | None = None
    keyword_found: bool | None = None


def website_connect(
    *,
    tenant_id: int,
    url: str,
    health_path: str = "/",
    expected_status: int = 200,
    keyword: str = "",
    wp_user: str = "",
    wp_app_password: str = "",
    actor_user: Any = None,
    resolver: Resolver | None = None,
) -> Connection:
    """Store the tenant's website settings after checking them: the URL must pass the SSRF
    guard and WordPress credentials (when given) must be accepted by the site. A blank
    password with the same user and address keeps the stored one (never sent to a new
    address). Nothing is stored on a refusal."""
    try:
        url_check(url, resolver=resolver)
    except (UnsafeURL, FetchError) as exc:
        raise ValidationError({"url": str(exc)}) from exc
    existing = connection_get(tenant_id=tenant_id, kind=KIND)
    stored = connection_secret(existing) if existing else {}
    same_user = (
        bool(existing)
        and existing.config.get("wp_user") == wp_user
        and existing.config.get("url", "").rstrip("/") == url.rstrip("/")
    )
    secret: dict[str, Any] | None
    if not wp_user:
        secret = {}
    elif wp_app_password:
        secret = {"wp_app_password": wp_app_password}
    elif same_user and stored.get("wp_app_password"):
        secret = None  # keep the stored password
    else:
        raise ValidationError(
            {"wp_app_password": "Enter the application password for this user and address."}
        )
    if wp_user:
        password = wp_app_password or stored.get("wp_app_password", "")
        try:
            with WordPressClient(
                base_url=url, user=wp_user, app_password=password, resolver=resolver
            ) as wordpress:
                wordpress.me()
        except WordPressAuthError as exc:
            raise ValidationError({"wp_app_password": str(exc)}) from exc
        except (WordPressError, UnsafeURL) as exc:
            raise ValidationError({"url": str(exc)}) from exc
    config = {
        "url": url,
        "health_path": health_path,
        "expected_status": expected_status,
        "keyword": keyword,
        "wp_user": wp_user,
    }
    return connection_connect(
        tenant_id=tenant_id, kind=KIND, config=config, secret=secret, actor_user=actor_user
    )


def website_check(
    *,
    connection: Connection,
    actor_user: Any = None,
    resolver: Resolver | None = None,
    timeout_s: float = CHECK_TIMEOUT_S,
) -> CheckResult:
    """Fetch the health page now and record the outcome (and the figures in the config's
    `last_check`, which the card shows); a person's "check now" is audited."""
    config = connection.config
    url = (config.get("url") or "").rstrip("/") + (config.get("health_path") or "/")
    expected = int(config.get("expected_status") or 200)
    keyword = config.get("keyword") or ""
    started = time.monotonic()
    client = guarded_client(
        resolver=resolver, connect_timeout_s=timeout_s, read_timeout_s=timeout_s
    )
    try:
        fetched = guarded_request("GET", url, client=client, deadline_s=CHECK_DEADLINE_S)
    except UnsafeURL as exc:
        result = CheckResult(ok=False, message=f"The check was refused: {exc}")
    except FetchError as exc:
        result = CheckResult(
            ok=False,
            message=str(exc),
            latency_ms=int((time.monotonic() - started) * 1000),
        )
    else:
        found = keyword.lower() in fetched.text.lower() if keyword else None
        if fetched.status != expected:
            message = f"The website answered {fetched.status}; {expected} was expected."
        elif found is False:
            message = f"The page answered but did not contain “{keyword}”."
        else:
            message = f"The website answered {fetched.status} in {fetched.elapsed_ms} ms."
        result = CheckResult(
            ok=fetched.status == expected and found is not False,
            message=message,
            status=fetched.status,
            latency_ms=fetched.elapsed_ms,
            keyword_found=found,
        )
    finally:
        client.close()
    _record(connection.pk, result)
    if actor_user is not None:
        audit_record(
            tenant=connection.tenant_id,
            verb="integration.checked",
            target=connection,
            actor_user=actor_user,
            after={"kind": KIND, "ok": result.ok, "message": result.message},
        )
    return result


def _record(connection_id: int, result: CheckResult) -> None:
    if result.ok:
        connection_record_success(connection_id=connection_id)
    else:
        connection_record_error(connection_id=connection_id, error=result.message)
    with contextlib.suppress(Connection.DoesNotExist):  # disconnected during the check
        connection_touch_config(
            connection_id=connection_id,
            last_check={
                "ok": result.ok,
                "message": result.message,
                "status": result.status,
                "latency_ms": result.latency_ms,
                "keyword_found": result.keyword_found,
                "at": timezone.now().isoformat(),
            },
        )
