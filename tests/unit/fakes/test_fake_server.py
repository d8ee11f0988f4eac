"""FakeServer: scripted replies, request log, faults, keep-alive, one-write responses."""

from __future__ import annotations

import socket
import statistics
import threading
import time

import httpx
import pytest

from orion.core.fakes import FakeServer, Reply, Request


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


@pytest.fixture
def client():
    with httpx.Client(timeout=5) as c:
        yield c


def test_url_is_loopback_with_ephemeral_port(server):
    assert server.url.startswith("http://127.0.0.1:")
    assert server.port > 0


def test_queue_is_consumed_in_order_then_default(server, client):
    server.script(
        "POST",
        "/v1/things",
        [Reply(status=503), Reply(status=201, json={"n": 2})],
        default=Reply(json={"n": "default"}),
    )
    statuses = [client.post(f"{server.url}/v1/things").status_code for _ in range(2)]
    assert statuses == [503, 201]
    assert client.post(f"{server.url}/v1/things").json() == {"n": "default"}
    assert client.post(f"{server.url}/v1/things").json() == {"n": "default"}


def test_single_reply_answers_every_time(server, client):
    server.script("GET", "/health", Reply(json={"status": "up"}))
    for _ in range(3):
        assert client.get(f"{server.url}/health").json() == {"status": "up"}


def test_unscripted_path_is_404_json(server, client):
    response = client.get(f"{server.url}/nope")
    assert response.status_code == 404
    assert "GET /nope" in response.json()["error"]


def test_exhausted_queue_without_default_says_so(server, client):
    server.script("GET", "/once", [Reply(json={"ok": True})])
    assert client.get(f"{server.url}/once").status_code == 200
    response = client.get(f"{server.url}/once")
    assert response.status_code == 500
    assert "exhausted" in response.json()["error"]


def test_method_must_match(server, client):
    server.script("POST", "/x", Reply(json={}))
    assert client.get(f"{server.url}/x").status_code == 404


def test_callable_handler_and_prefix_and_any_method(server, client):
    def echo(request: Request) -> Reply:
        return Reply(json={"method": request.method, "path": request.path})

    server.script("*", "/bot*", echo)
    server.script("POST", "/bot123/special", Reply(json={"special": True}))
    assert client.get(f"{server.url}/bot123/getMe").json() == {
        "method": "GET",
        "path": "/bot123/getMe",
    }
    assert client.put(f"{server.url}/bot9/x").json()["method"] == "PUT"
    assert client.post(f"{server.url}/bot123/special").json() == {"special": True}


def test_longest_prefix_wins(server, client):
    server.script("GET", "/a/*", Reply(json={"route": "a"}))
    server.script("GET", "/a/b/*", Reply(json={"route": "ab"}))
    assert client.get(f"{server.url}/a/b/c").json() == {"route": "ab"}
    assert client.get(f"{server.url}/a/c").json() == {"route": "a"}


def test_handlers_in_the_queue(server, client):
    server.script("GET", "/q", [lambda r: Reply(json={"q": r.query["n"]})], default=Reply())
    assert client.get(f"{server.url}/q", params={"n": "7"}).json() == {"q": "7"}


def test_request_log(server, client):
    server.script("POST", "/v1/log", Reply(status=204))
    client.post(
        f"{server.url}/v1/log?alt=json&x=1&x=2",
        json={"hello": "world"},
        headers={"X-Custom": "yes", "Authorization": "Bearer abc"},
    )
    client.post(f"{server.url}/v1/log", data={"grant_type": "refresh_token", "a": "b c"})
    first, second = server.wait_for(2, timeout=2)
    assert (first.method, first.path) == ("POST", "/v1/log")
    assert first.query == {"alt": "json", "x": "2"}
    assert first.query_items == [("alt", "json"), ("x", "1"), ("x", "2")]
    assert first.headers["x-custom"] == "yes"
    assert first.headers["AUTHORIZATION"] == "Bearer abc"
    assert "Content-Type" in first.headers
    assert first.json() == {"hello": "world"}
    assert second.form() == {"grant_type": "refresh_token", "a": "b c"}
    assert second.headers.get("missing") is None


def test_chunked_request_body(server, client):
    server.script("POST", "/upload", Reply(json={}))

    def parts():
        yield b"hello "
        yield b"chunked "
        yield b"world"

    client.post(f"{server.url}/upload", content=parts())
    (request,) = server.wait_for(1)
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.body == b"hello chunked world"


def test_wait_for_times_out(server):
    with pytest.raises(TimeoutError, match="got 0 request"):
        server.wait_for(1, timeout=0.05)


def test_reply_headers_and_body(server, client):
    server.script("GET", "/h", Reply(status=429, body=b"slow down", headers={"Retry-After": "3"}))
    response = client.get(f"{server.url}/h")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.text == "slow down"
    assert response.headers["content-type"].startswith("text/plain")


def test_nonstandard_status(server, client):
    server.script("POST", "/m", Reply(status=529, json={"type": "error"}))
    assert client.post(f"{server.url}/m").status_code == 529


def test_head_has_no_body(server, client):
    server.script("HEAD", "/h", Reply(json={"big": "x" * 100}))
    response = client.head(f"{server.url}/h")
    assert response.status_code == 200
    assert response.content == b""
    # The connection stays usable after a HEAD.
    server.script("GET", "/h", Reply(json={"after": True}))
    assert client.get(f"{server.url}/h").json() == {"after": True}


def test_delay(server, client):
    server.script("GET", "/slow", Reply(json={}, delay=0.2))
    started = time.monotonic()
    assert client.get(f"{server.url}/slow").status_code == 200
    assert time.monotonic() - started >= 0.19


def test_hang_times_out_and_stop_does_not_hang(client):
    server = FakeServer().start()
    server.script("GET", "/hang", Reply(action="hang"))
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"{server.url}/hang", timeout=0.2)
    server.wait_for(1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    assert server.open_connections == 0


def test_stop_with_idle_keepalive_and_inflight_delay(client):
    server = FakeServer().start()
    server.script("GET", "/ok", Reply(json={}))
    server.script("GET", "/later", Reply(json={}, delay=30))
    client.get(f"{server.url}/ok")  # leaves an idle keep-alive connection
    outcome: list[BaseException] = []

    def slow_call():
        try:
            httpx.get(f"{server.url}/later", timeout=10)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=slow_call, daemon=True)
    worker.start()
    server.wait_for(2)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    worker.join(timeout=2)
    assert not worker.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError | httpx.ReadError)


def test_reset_is_a_transport_error(server, client):
    server.script("POST", "/r", Reply(action="reset"))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.post(f"{server.url}/r", json={})
    assert len(server.requests) == 1


def test_reset_sends_rst(server):
    server.script("GET", "/r", Reply(action="reset"))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
    try:
        sock.sendall(b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while sock.recv(1024):
                pass
    finally:
        sock.close()


def test_close_without_answer(server, client):
    server.script("POST", "/c", Reply(action="close"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{server.url}/c")


def test_invalid_action_is_refused():
    with pytest.raises(ValueError, match="action"):
        Reply(action="explode")  # type: ignore[arg-type]


def test_stopped_server_refuses_connections():
    server = FakeServer().start()
    url = server.url
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/", timeout=1)


def test_restart_keeps_the_port(client):
    server = FakeServer().start()
    port = server.port
    server.stop()
    server.start()
    try:
        assert server.port == port
        server.script("GET", "/", Reply(json={"back": True}))
        assert client.get(f"{server.url}/").json() == {"back": True}
    finally:
        server.stop()


def test_keepalive_reuses_one_connection(server, client):
    server.script("GET", "/k", Reply(json={}))
    client.get(f"{server.url}/k")
    client.get(f"{server.url}/k")
    first, second = server.requests
    assert server.connections_accepted == 1
    assert first.connection_id == second.connection_id


def test_connection_close_is_honoured(server, client):
    server.script("GET", "/k", Reply(json={}))
    first = client.get(f"{server.url}/k", headers={"Connection": "close"})
    assert first.headers["connection"] == "close"
    client.get(f"{server.url}/k")
    assert server.connections_accepted == 2


def test_handler_error_is_a_500_and_recorded(server, client):
    def broken(request: Request) -> Reply:
        raise RuntimeError("boom")

    server.script("GET", "/b", broken)
    response = client.get(f"{server.url}/b")
    assert response.status_code == 500
    assert "boom" in server.errors[0]


def test_bad_request_line_gets_400(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
    try:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 400")
    finally:
        sock.close()


def test_response_is_one_write(server):
    """Head and body go out in one write: the first recv gets the whole response."""
    body = b"x" * 2000
    server.script("GET", "/one", Reply(body=body))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
    try:
        sock.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        data = sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        assert data.endswith(body)
    finally:
        sock.close()


def test_sequential_keepalive_calls_are_fast(server, client):
    """Sanity check that the delayed-ACK stall (~40 ms per call) is gone."""
    server.script("POST", "/v1/chat/completions", Reply(json={"choices": []}))
    url = f"{server.url}/v1/chat/completions"
    client.post(url, json={"warm": True})
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        client.post(url, json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        timings.append(time.perf_counter() - started)
    assert server.connections_accepted == 1
    assert statistics.median(timings) < 0.005, f"p50 {statistics.median(timings) * 1000:.2f} ms"


def test_concurrent_clients_consume_each_reply_once(server):
    total = 80
    server.script("GET", "/n", [Reply(json={"n": i}) for i in range(total)])
    seen: list[int] = []
    lock = threading.Lock()

    def worker():
        with httpx.Client(timeout=5) as c:
            for _ in range(total // 8):
                n = c.get(f"{server.url}/n").json()["n"]
                with lock:
                    seen.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(seen) == list(range(total))
    assert len(server.wait_for(total)) == total


def test_reset_state_forgets_scripts_and_log(server, client):
    server.script("GET", "/x", Reply(json={}))
    client.get(f"{server.url}/x")
    server.reset_state()
    assert server.requests == []
    assert client.get(f"{server.url}/x").status_code == 404
    server.clear()
    assert server.requests == []
