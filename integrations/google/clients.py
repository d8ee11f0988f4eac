"""Gmail and Calendar clients: google-api-python-client on its static discovery documents,
pointed at ORION_GOOGLE_API_BASE, over an httpx transport.

Static discovery reads the documents shipped with the library (no discovery fetch). The
endpoint override (`client_options.api_endpoint`) replaces the document's rootUrl +
servicePath: Gmail's method paths carry "gmail/v1/..." themselves (servicePath is ""), so
its endpoint is the base; Calendar's paths are relative to "calendar/v3/", so its endpoint
is base + "calendar/v3/".

One httpx client per process (created lazily, so a forked worker makes its own) serves
every call: its pool keeps the TLS connection to Google open between tool calls, and
building a service costs ~1 ms instead of the ~21 ms of a new client's TLS context.

Why not httplib2 (the library's default): on a connection closed without an answer
httplib2 silently sends the request again, POST included (`_conn_request`,
BadStatusLine) — a Gmail send accepted just before the connection dropped would go out
twice, behind our idempotency. httpx never retries on its own: a dropped send surfaces as
an error and the tool asks Gmail whether it landed.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urljoin

import httplib2
import httpx
from django.conf import settings
from googleapiclient.discovery import build

TIMEOUT_S = 20.0


_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def _shared_client() -> httpx.Client:
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        with _clients_lock:
            client = _clients.get(pid)
            if client is None:
                client = _clients[pid] = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
    return client


class HttpxTransport:
    """The small part of httplib2.Http that googleapiclient calls, on the shared httpx
    client, with the bearer token added to every request."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._client = _shared_client()

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        redirections: int = 0,
        connection_type: Any = None,
    ) -> tuple[httplib2.Response, bytes]:
        sent = {**(headers or {}), "authorization": f"Bearer {self._token}"}
        response = self._client.request(method, uri, content=body, headers=sent)
        info = {
            k.lower(): v for k, v in response.headers.items() if k.lower() != "content-encoding"
        }
        info["status"] = str(response.status_code)
        return httplib2.Response(info), response.content

    def close(self) -> None:
        """Nothing to close: the pool is shared (googleapiclient calls this on exit)."""


def _base() -> str:
    base = settings.ORION_GOOGLE_API_BASE
    return base if base.endswith("/") else f"{base}/"


def gmail_service(token: str) -> Any:
    return build(
        "gmail",
        "v1",
        http=HttpxTransport(token),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": _base()},
    )


def calendar_service(token: str) -> Any:
    return build(
        "calendar",
        "v3",
        http=HttpxTransport(token),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": urljoin(_base(), "calendar/v3/")},
    )
