"""classify_exception over real httpx failures against sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from orion.reliability import AttemptFailed, Classified, ErrorClass, classify_exception

E = ErrorClass


def _raised(call: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    return info.value


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket], None] | None], int]]:
    """`server(handler)` listens on 127.0.0.1; handler(conn) runs per accepted connection;
    with no handler nothing is ever accepted (the kernel completes the handshake only)."""
    sockets: list[socket.socket] = []

    def start(handler: Callable[[socket.socket], None] | None) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        sockets.append(listener)
        if handler is not None:

            def serve() -> None:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                sockets.append(conn)
                handler(conn)

            threading.Thread(target=serve, daemon=True).start()
        return listener.getsockname()[1]

    yield start
    for sock in sockets:
        sock.close()


def test_connection_refused_is_network(closed_port: int) -> None:
    exc = _raised(lambda: httpx.get(f"http://127.0.0.1:{closed_port}/"))
    assert isinstance(exc, httpx.ConnectError)
    result = classify_exception(exc)
    assert result.error_class is E.NETWORK
    assert "ConnectError" in result.message


def test_server_that_never_answers_is_timeout(server) -> None:
    port = server(None)
    exc = _raised(lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=0.1))
    assert isinstance(exc, httpx.ReadTimeout)
    assert classify_exception(exc).error_class is E.TIMEOUT


def test_disconnect_without_response_is_network(server) -> None:
    def hang_up(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.close()

    port = server(hang_up)
    exc = _raised(lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=2))
    assert isinstance(exc, httpx.RemoteProtocolError)
    assert classify_exception(exc).error_class is E.NETWORK


def test_connection_reset_is_network(server) -> None:
    def reset(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    port = server(reset)
    exc = _raised(lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=2))
    assert isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError)
    assert classify_exception(exc).error_class is E.NETWORK


def test_exhausted_pool_is_timeout(server) -> None:
    def half_answer(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")

    port = server(half_answer)
    url = f"http://127.0.0.1:{port}/"
    limits = httpx.Limits(max_connections=1)
    with (
        httpx.Client(limits=limits, timeout=httpx.Timeout(2, pool=0.05)) as client,
        client.stream("GET", url),
    ):
        exc = _raised(lambda: client.get(url))
    assert isinstance(exc, httpx.PoolTimeout)
    assert classify_exception(exc).error_class is E.TIMEOUT


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("timed out"), E.TIMEOUT),
        (httpx.WriteTimeout("timed out"), E.TIMEOUT),
        (TimeoutError(), E.TIMEOUT),
        (ConnectionResetError(104, "Connection reset by peer"), E.NETWORK),
        (OSError(113, "No route to host"), E.NETWORK),
        (httpx.ReadError("boom"), E.NETWORK),
        (ValueError("a bug"), E.UNKNOWN),
        (KeyError("x"), E.UNKNOWN),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_exception_types(exc: BaseException, expected: ErrorClass) -> None:
    assert classify_exception(exc).error_class is expected


def test_attempt_failed_carries_its_own_classification() -> None:
    classified = Classified.of(E.BILLING, status=402, message="pay up")
    assert classify_exception(AttemptFailed(classified)) is classified


def test_exception_message_is_redacted() -> None:
    exc = httpx.ConnectError("failed for https://x/v1?key=AIzaSyD-abcdefghijklmnop12345")
    message = classify_exception(exc).message
    assert "AIzaSy" not in message and "[redacted]" in message


def test_http_status_error_is_classified_by_its_response() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(
        429,
        headers={"Retry-After": "2"},
        json={"error": {"message": "slow down", "type": "requests", "code": None}},
        request=request,
    )
    exc = _raised(response.raise_for_status)
    result = classify_exception(exc)
    assert (result.error_class, result.status, result.retry_after) == (E.RATE_LIMIT, 429, 2.0)
