"""The pooled client registry and the total deadline."""

from __future__ import annotations

import ast
import pathlib
import threading
import time

import httpx
import pytest

from agents.providers import transport
from orion.core.fakes import FakeServer, Reply

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s
    transport.close_all()


def test_one_client_per_base_url(server):
    a = transport.get_client(server.url)
    assert transport.get_client(server.url + "/") is a
    assert transport.get_client("http://127.0.0.1:1/v1") is not a
    assert a.timeout == transport.DEFAULT_TIMEOUT
    assert (a.timeout.connect, a.timeout.read, a.timeout.write, a.timeout.pool) == (5, 60, 10, 5)
    assert a.follow_redirects is False


def test_registry_is_thread_safe(server):
    got: list[httpx.Client] = []

    def grab():
        got.append(transport.get_client(server.url + "/threads"))

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in got}) == 1


def test_close_all_closes_and_forgets(server):
    first = transport.get_client(server.url)
    transport.close_all()
    assert first.is_closed
    assert transport.get_client(server.url) is not first


def test_custom_timeout_on_first_use(server):
    client = transport.get_client(server.url + "/custom", timeout=httpx.Timeout(1.0))
    assert client.timeout.read == 1.0


def test_send_returns_status_headers_body(server):
    server.script("POST", "/x", Reply(status=418, json={"a": 1}, headers={"X-Thing": "y"}))
    response = transport.send(
        transport.get_client(server.url), "POST", f"{server.url}/x", json={"q": 1}
    )
    assert response.status == 418
    assert response.headers["x-thing"] == "y"
    assert response.body == b'{"a": 1}'
    assert response.url == f"{server.url}/x"
    assert server.requests[0].json() == {"q": 1}


def test_redirects_are_not_followed(server):
    server.script("POST", "/old", Reply(status=307, headers={"Location": "/new"}))
    response = transport.send(transport.get_client(server.url), "POST", f"{server.url}/old")
    assert response.status == 307
    assert len(server.requests) == 1


def test_total_deadline_beats_a_long_read_timeout(server):
    server.script("GET", "/slow", Reply(json={}, delay=3))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        transport.send(
            transport.get_client(server.url),
            "GET",
            f"{server.url}/slow",
            timeout=httpx.Timeout(30.0),
            total_timeout=0.25,
        )
    assert 0.2 < time.monotonic() - started < 1.5


def test_no_deadline_when_total_timeout_is_none(server):
    server.script("GET", "/slowish", Reply(json={}, delay=0.3))
    response = transport.send(
        transport.get_client(server.url), "GET", f"{server.url}/slowish", total_timeout=None
    )
    assert response.status == 200
    assert response.elapsed >= 0.29


def test_deadline_timeouts_clamp_every_phase():
    timeouts = transport._DeadlineTimeouts(httpx.Timeout(5.0, read=60.0), time.monotonic() + 1.0)
    assert 0.9 < timeouts.get("read") <= 1.0
    assert 0.9 < timeouts["connect"] <= 1.0
    assert timeouts.get("missing", "d") == "d"
    expired = transport._DeadlineTimeouts(httpx.Timeout(5.0), time.monotonic() - 1)
    assert expired.get("pool") == transport._MIN_TIMEOUT
    unbounded = transport._DeadlineTimeouts(httpx.Timeout(None), None)
    assert unbounded.get("read") is None


def test_provider_and_fake_code_never_imports_django():
    files = [
        *(ROOT / "agents" / "providers").glob("*.py"),
        *(ROOT / "orion" / "core" / "fakes").glob("*.py"),
        ROOT / "orion" / "core" / "loopback_guard.py",
    ]
    assert len(files) >= 8
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("django", "rest_framework")), f"{path}: {name}"
