"""Pooled httpx clients for model providers, and a total deadline per call.

One `httpx.Client` per base URL lives in a module-level registry (thread-safe; dropped in a
forked child so a Celery prefork worker never shares a parent's sockets). Each client keeps
connections alive, never follows redirects and has explicit per-phase timeouts.

httpx timeouts are per socket operation: a provider that keeps trickling bytes never trips
the read timeout. `send()` therefore also enforces `total_timeout` for the whole call: every
phase timeout (pool, connect, write, read) is clamped to the time left when the phase starts,
and the body is streamed with the deadline checked after every chunk. Running out raises the
matching `httpx.TimeoutException` (`ReadTimeout` once the request is on the wire), so callers
see one kind of failure for "too slow".
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from agents.providers.base import ProviderResponseError

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "RawResponse",
    "close_all",
    "get_client",
    "send",
]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=10.0, pool=5.0)
DEFAULT_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0
)
DEFAULT_TOTAL_TIMEOUT = 120.0
_MIN_TIMEOUT = 0.001  # an expired deadline still gives the socket a positive timeout

_lock = threading.Lock()
_clients: dict[str, httpx.Client] = {}


def _key(base_url: str) -> str:
    return base_url.rstrip("/")


def get_client(
    base_url: str,
    *,
    timeout: httpx.Timeout | None = None,
    limits: httpx.Limits | None = None,
) -> httpx.Client:
    """The shared client for `base_url` (created on first use with `timeout` / `limits`)."""
    key = _key(base_url)
    with _lock:
        client = _clients.get(key)
        if client is None or client.is_closed:
            client = httpx.Client(
                timeout=timeout or DEFAULT_TIMEOUT,
                limits=limits or DEFAULT_LIMITS,
                follow_redirects=False,
                trust_env=False,  # no proxy or netrc from the environment for provider calls
            )
            _clients[key] = client
        return client


def close_all() -> None:
    """Close every pooled client (worker shutdown, tests)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _clients.clear()  # the parent's sockets are not ours; do not close them from here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str
    elapsed: float  # seconds, whole call

    def error(self, detail: str) -> ProviderResponseError:
        return ProviderResponseError(
            self.status, self.headers, self.body, detail=detail, url=self.url
        )

    def json_body(self) -> Any:
        """The parsed body of a 2xx answer; anything else raises ProviderResponseError."""
        if not 200 <= self.status < 300:
            raise self.error("error status")
        try:
            return json.loads(self.body)
        except ValueError:
            raise self.error("body is not JSON") from None


class _DeadlineTimeouts(dict):
    """httpcore reads `extensions["timeout"][phase]` when a phase starts; answer with the
    phase timeout clamped to the time left before the deadline."""

    def __init__(self, timeout: httpx.Timeout, deadline: float | None) -> None:
        super().__init__(timeout.as_dict())
        self.deadline = deadline

    def _clamp(self, value: float | None) -> float | None:
        if self.deadline is None:
            return value
        left = max(_MIN_TIMEOUT, self.deadline - time.monotonic())
        return left if value is None else min(value, left)

    def __getitem__(self, key: str) -> float | None:
        return self._clamp(super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self._clamp(super().get(key, default)) if key in self else default


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
    timeout: httpx.Timeout | float | None = None,
    total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
) -> RawResponse:
    """One request, body read in full, within `total_timeout` seconds (None: no deadline).

    Transport failures raise the httpx exceptions unchanged; any status is returned.
    """
    started = time.monotonic()
    deadline = None if total_timeout is None else started + total_timeout
    phases = (
        client.timeout
        if timeout is None
        else timeout
        if isinstance(timeout, httpx.Timeout)
        else httpx.Timeout(timeout)
    )
    request = client.build_request(
        method,
        url,
        headers=headers,
        json=json,
        content=content,
        extensions={"timeout": _DeadlineTimeouts(phases, deadline)},
    )
    response = client.send(request, stream=True)
    try:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                raise httpx.ReadTimeout(
                    f"total deadline of {total_timeout}s exceeded while reading the body",
                    request=request,
                )
        return RawResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=b"".join(chunks),
            url=str(request.url),
            elapsed=time.monotonic() - started,
        )
    finally:
        response.close()


def post_json(
    base_url: str,
    url: str,
    *,
    headers: Mapping[str, str],
    payload: Any,
    timeout: httpx.Timeout | float | None,
    total_timeout: float | None,
) -> RawResponse:
    """POST `payload` as JSON on the pooled client of `base_url` (what every provider does)."""
    return send(
        get_client(base_url),
        "POST",
        url,
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        json=payload,
        timeout=timeout,
        total_timeout=total_timeout,
    )
