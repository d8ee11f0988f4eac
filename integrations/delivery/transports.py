"""What every transport shares: the message as a transport sees it, one pooled HTTP client
per process, the mapping of httpx failures onto errors, and finding a kind's transport.

A kind's transport is the module `integrations.<kind>.transport` with
`send(message) -> provider message id` (raising integrations.delivery.errors) and, when
the provider can be asked whether an earlier send landed, `lookup(message) -> id | None`.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

import httpx

from integrations.delivery.errors import Ambiguous, Transient
from integrations.delivery.policy import CONNECT_TIMEOUT_S, timeout_s


@dataclass(frozen=True)
class Outgoing:
    tenant_id: int
    key: str
    text: str
    subject: str = ""
    recipient: str = ""
    plain: bool = False  # Telegram: no parse mode (the HTML was refused once)
    config: dict[str, Any] = field(default_factory=dict)  # the connection's shown settings
    # Its decrypted secret, kept out of the repr (reprs land in tracebacks and error reports).
    secret: dict[str, Any] = field(default_factory=dict, repr=False)
    since: datetime | None = None  # lookup: when the interrupted attempt started


_local = threading.local()


def http_client() -> httpx.Client:
    """This thread's pooled client (keep-alive). No retries: retries are the engine's."""
    client = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(follow_redirects=False, trust_env=False)
        _local.client = client
    return client


def http_call(method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
    """One request; failures that provably sent nothing raise Transient, the others
    (the request may have been read by the provider) raise Ambiguous."""
    try:
        timeout = httpx.Timeout(timeout_s(), connect=CONNECT_TIMEOUT_S)
        return http_client().request(method, url, timeout=timeout, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # Connect errors: the request never left.
        raise Transient(f"could not reach {what} ({type(exc).__name__})") from exc
    except (httpx.WriteError, httpx.WriteTimeout) as exc:
        # The request was not completely written: the provider cannot have acted on it.
        raise Transient(f"the connection to {what} broke while sending") from exc
    except httpx.TimeoutException as exc:
        raise Ambiguous(f"{what} did not answer in time after the message was sent") from exc
    except httpx.HTTPError as exc:
        raise Ambiguous(f"the connection to {what} broke before it answered") from exc


def json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def transport_for(kind: str) -> ModuleType:
    return importlib.import_module(f"integrations.{kind}.transport")


def can_ask(kind: str) -> bool:
    """Can the provider be asked whether an interrupted send landed?"""
    return hasattr(transport_for(kind), "lookup")
