"""Test-only socket guard: fail any test that opens a connection outside this machine.

(Not the SSRF guard for tenant-supplied URLs: that one guards production fetches.)

`install()` wraps `socket.socket.connect` / `connect_ex`, `socket.create_connection` and
`socket.getaddrinfo`: a destination other than 127.0.0.0/8, ::1, "localhost" (or a
`*.localhost` name), the unspecified address or a unix socket raises `NetworkGuardError`
naming the host, before any packet leaves. Test doubles are servers on 127.0.0.1, so a test
that reaches for the internet is a bug.

The hosts of `DATABASE_URL` and `REDIS_URL` (the services the suite was told to use, e.g. CI
service containers) and those in `ORION_NETGUARD_ALLOW` (comma-separated) are allowed, as are
the addresses they resolve to. `install()` / `uninstall()` nest (a counter), so a test may
install the guard again inside a session that already has it.

`NetworkGuardError` is deliberately not an `OSError`: client libraries that turn socket
errors into their own "connection failed" (and retry) must not swallow it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["NetworkGuardError", "blocked", "install", "is_installed", "uninstall"]


class NetworkGuardError(RuntimeError):
    """A test tried to reach a host outside 127.0.0.1."""

    def __init__(self, host: object, via: str) -> None:
        self.host = host
        super().__init__(
            f"network guard: {via} to {host!r} blocked; tests may only talk to 127.0.0.1 "
            "(run a fake server from orion.core.fakes instead)"
        )


_lock = threading.Lock()
_depth = 0
_originals: dict[str, Any] = {}
_allow_stack: list[set[str]] = []  # one entry per install() still in force
_allowed_hosts: set[str] = set()  # union of the stack
_resolved: dict[str, set[str]] = {}  # allowed host -> the addresses it resolved to
_blocked: list[str] = []


def blocked() -> list[str]:
    """Every host the guard refused since the first install (for a plugin's report)."""
    with _lock:
        return list(_blocked)


def is_installed() -> bool:
    return _depth > 0


def _env_hosts() -> set[str]:
    hosts = {h.strip().lower() for h in os.environ.get("ORION_NETGUARD_ALLOW", "").split(",")}
    for name in ("DATABASE_URL", "REDIS_URL"):
        url = os.environ.get(name)
        if url:
            try:
                host = urlsplit(url).hostname
            except ValueError:
                host = None
            if host:
                hosts.add(host.lower())
    hosts.discard("")
    return hosts


def _is_local_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _host_allowed(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): a local bind address
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").lower().rstrip(".")
    if name in ("", "localhost") or name.endswith(".localhost") or _is_local_ip(name):
        return True
    return name in _allowed_hosts or any(name in _resolved.get(host, ()) for host in _allowed_hosts)


def _check_address(address: object, via: str) -> None:
    if isinstance(address, str | bytes):
        return  # AF_UNIX path
    if isinstance(address, tuple) and address and not _host_allowed(address[0]):
        _refuse(address[0], via)


def _refuse(host: object, via: str) -> None:
    with _lock:
        _blocked.append(str(host))
    raise NetworkGuardError(host, via)


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family != getattr(socket, "AF_UNIX", None):
        _check_address(address, "connect")
    return _originals["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family != getattr(socket, "AF_UNIX", None):
        _check_address(address, "connect_ex")
    return _originals["connect_ex"](self, address)


def _guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    _check_address(address, "create_connection")
    return _originals["create_connection"](address, *args, **kwargs)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list[Any]:
    if not _host_allowed(host):
        _refuse(host, "getaddrinfo")
    result = _originals["getaddrinfo"](host, *args, **kwargs)
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.lower() in _allowed_hosts:
        with _lock:  # an allowed service host: its addresses are allowed too
            _resolved.setdefault(name.lower(), set()).update(str(i[4][0]) for i in result)
    return result


def install(allow: Iterable[str] = ()) -> None:
    """Guard every outbound connection. `allow`: extra host names or IPs to let through."""
    global _depth
    with _lock:
        _allow_stack.append({h.lower() for h in allow} | _env_hosts())
        _refresh_allowed()
        _depth += 1
        if _depth > 1:
            return
        _originals.update(
            connect=socket.socket.connect,
            connect_ex=socket.socket.connect_ex,
            create_connection=socket.create_connection,
            getaddrinfo=socket.getaddrinfo,
        )
        socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
        socket.create_connection = _guarded_create_connection  # type: ignore[assignment]
        socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]


def uninstall() -> None:
    """Undo one `install()`; the originals come back when the last one is undone."""
    global _depth
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        _allow_stack.pop()
        _refresh_allowed()
        if _depth > 0:
            return
        socket.socket.connect = _originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = _originals["connect_ex"]  # type: ignore[method-assign]
        socket.create_connection = _originals["create_connection"]
        socket.getaddrinfo = _originals["getaddrinfo"]
        _originals.clear()


def _refresh_allowed() -> None:
    _allowed_hosts.clear()
    _allowed_hosts.update(*_allow_stack)
