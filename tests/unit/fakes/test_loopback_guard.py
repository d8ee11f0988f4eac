"""The network guard: loopback and unix sockets pass, anything else fails loudly."""

from __future__ import annotations

import os
import socket
import tempfile

import httpx
import pytest

from orion.core import loopback_guard
from orion.core.fakes import FakeServer, Reply
from orion.core.loopback_guard import NetworkGuardError


@pytest.fixture(autouse=True)
def guard():
    loopback_guard.install()
    yield
    loopback_guard.uninstall()


def test_blocks_private_ip_before_any_packet():
    with pytest.raises(NetworkGuardError, match=r"10\.0\.0\.1"):
        socket.create_connection(("10.0.0.1", 80), timeout=0.1)
    sock = socket.socket()
    try:
        with pytest.raises(NetworkGuardError, match=r"10\.0\.0\.1"):
            sock.connect(("10.0.0.1", 80))
        with pytest.raises(NetworkGuardError):
            sock.connect_ex(("10.0.0.1", 80))
    finally:
        sock.close()


def test_blocks_public_names_at_resolution():
    with pytest.raises(NetworkGuardError, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(NetworkGuardError, match=r"example\.com"):
        socket.create_connection(("example.com", 443), timeout=0.1)


def test_blocks_httpx_and_is_not_swallowed_as_a_connect_error():
    with pytest.raises(NetworkGuardError, match=r"example\.com"):
        httpx.get("http://example.com/", timeout=0.5)
    assert not issubclass(NetworkGuardError, OSError)
    assert "example.com" in loopback_guard.blocked()


def test_blocks_ipv6_outside_loopback():
    sock = socket.socket(socket.AF_INET6)
    try:
        with pytest.raises(NetworkGuardError):
            sock.connect(("2001:db8::1", 80, 0, 0))
    finally:
        sock.close()


def test_allows_loopback_fake_server():
    with FakeServer() as server:
        server.script("GET", "/", Reply(json={"ok": True}))
        assert httpx.get(server.url + "/", timeout=2).json() == {"ok": True}
        assert httpx.get(f"http://localhost:{server.port}/", timeout=2).status_code == 200
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST", None, "0.0.0.0"],
)
def test_local_hosts_resolve(host):
    assert socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("app.localhost", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        (b"127.0.0.1", True),
        ("localhost.", True),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("::ffff:10.0.0.1", False),
        ("localhost.example.com", False),
        ("mylocalhost", False),
    ],
)
def test_host_rules(host, allowed):
    assert loopback_guard._host_allowed(host) is allowed


def test_allows_unix_sockets():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen(1)
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(path)
        finally:
            client.close()
            listener.close()


def test_allow_list_is_scoped_to_its_install():
    loopback_guard.install(allow=["db.ci.internal", "192.0.2.10"])
    try:
        assert loopback_guard._host_allowed("db.ci.internal")
        assert loopback_guard._host_allowed("192.0.2.10")
    finally:
        loopback_guard.uninstall()
    assert not loopback_guard._host_allowed("db.ci.internal")
    assert not loopback_guard._host_allowed("192.0.2.10")


def test_service_hosts_from_env_are_allowed(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://redis-ci:6379/0")
    monkeypatch.setenv("ORION_NETGUARD_ALLOW", "pg-ci, other")
    loopback_guard.install()
    try:
        assert loopback_guard._host_allowed("redis-ci")
        assert loopback_guard._host_allowed("pg-ci")
    finally:
        loopback_guard.uninstall()
    assert not loopback_guard._host_allowed("redis-ci")


def test_install_nests():
    assert loopback_guard.is_installed()
    guarded = socket.socket.connect
    loopback_guard.install()
    loopback_guard.uninstall()
    assert loopback_guard.is_installed()
    assert socket.socket.connect is guarded


def test_uninstall_restores_the_originals():
    """Peel every install (the session's too), check, then put them back."""
    depth = 0
    while loopback_guard.is_installed():
        loopback_guard.uninstall()
        depth += 1
    try:
        assert socket.socket.connect is socket.socket.__mro__[1].connect  # _socket.socket's
        assert socket.getaddrinfo.__module__ == "socket"
        assert socket.create_connection.__module__ == "socket"
        assert socket.getaddrinfo is not loopback_guard._guarded_getaddrinfo
    finally:
        for _ in range(depth):
            loopback_guard.install()
    assert loopback_guard.is_installed()
    with pytest.raises(NetworkGuardError):
        socket.getaddrinfo("example.com", 80)
