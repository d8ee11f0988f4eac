"""A small scripted HTTP/1.1 server on 127.0.0.1 for tests and staff drills.

Test doubles are servers, not patches: the real client code (httpx, google-api-python-client,
stripe) talks to a `FakeServer` over a real socket. Every response (status line, headers and
body) goes out in one `sendall` on a socket with `TCP_NODELAY`, and connections stay open
(HTTP/1.1 keep-alive), so a keep-alive client never waits on a delayed ACK and a benchmark
measures the client, not the fake.

    with FakeServer() as server:
        server.script("POST", "/v1/things", [Reply(status=503), Reply(json={"ok": True})])
        server.script("GET", "/health", Reply(json={"status": "up"}))      # always this
        server.script("*", "/bot*", lambda request: Reply(json={"ok": True}))  # dynamic
        ... client calls server.url + "/v1/things" ...
        server.wait_for(2)
        assert server.requests[1].json() == {...}

Faults: `Reply(delay=2.0)` answers late; `Reply(action="hang")` reads the request and never
answers (until the server stops); `"reset"` closes with an RST; `"close"` closes without
answering. An unscripted path answers 404 with a JSON body; a scripted queue that ran out with
no default answers 500 and says so in the body.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import selectors
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeServer", "Handler", "Headers", "Reply", "Request"]

Action = Literal["hang", "reset", "close"]
_ACTIONS = ("hang", "reset", "close")
_MAX_HEAD = 64 * 1024
_EXTRA_REASONS = {529: "Site Overloaded", 499: "Client Closed Request"}


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header mapping (repeated headers joined with ", ")."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._data: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._data:
                self._data[key] = (self._data[key][0], f"{self._data[key][1]}, {value}")
            else:
                self._data[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._data[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True)
class Request:
    """One request as the fake server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    target: str = ""  # the raw request target, path + "?" + query
    connection_id: int = 0  # which accepted connection carried it (keep-alive checks)
    received_at: float = 0.0  # time.monotonic()

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def form(self) -> dict[str, str]:
        """An `application/x-www-form-urlencoded` body as a dict (last value wins)."""
        return dict(parse_qsl(self.text, keep_blank_values=True))

    @property
    def query_items(self) -> list[tuple[str, str]]:
        """Every query parameter in order, repeated names included."""
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)


@dataclass(frozen=True)
class Reply:
    """A scripted answer. `json` (when not None) wins over `body` and sets the content type."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    action: Action | None = None

    def __post_init__(self) -> None:
        if self.action is not None and self.action not in _ACTIONS:
            raise ValueError(f"Reply.action must be one of {_ACTIONS}, not {self.action!r}")

    def payload(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        lower = {name.lower() for name in headers}
        if self.json is not None:
            body = jsonlib.dumps(self.json).encode()
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json"
        else:
            body = self.body
            if body and "content-type" not in lower:
                headers["Content-Type"] = "text/plain; charset=utf-8"
        return body, headers


Handler = Callable[[Request], Reply]
Scripted = Reply | Handler


class Script:
    """A queue of replies (or handlers) consumed in order, then a default. Thread-safe."""

    def __init__(
        self, replies: Scripted | Iterable[Scripted] = (), default: Scripted | None = None
    ):
        if isinstance(replies, Reply) or callable(replies):
            # A single reply or handler is the answer every time.
            replies, default = (), replies
        self._queue: deque[Scripted] = deque(replies)
        self.default = default
        self._lock = threading.Lock()

    def extend(self, replies: Iterable[Scripted]) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def next(self, request: Request) -> Reply | None:
        """The next reply for `request`, or None when the queue is empty and there is no default."""
        with self._lock:
            item = self._queue.popleft() if self._queue else self.default
        if item is None:
            return None
        if isinstance(item, Reply):
            return item
        return item(request)


class FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with scripted replies and a request log."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._routes: dict[tuple[str, str], Script] = {}
        self._requests: list[Request] = []
        self._cond = threading.Condition()
        self._conns: dict[int, socket.socket] = {}
        self._conn_threads: list[threading.Thread] = []
        self._conn_lock = threading.Lock()
        self._conn_seq = 0
        self.errors: list[str] = []  # tracebacks of handlers that raised (answered 500)
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._listener is not None:
            return self
        self._stopping = threading.Event()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self._port))  # a restart reuses the same port
        listener.listen(128)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"fake-server:{self._port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end every open connection (hung ones included) and return promptly."""
        if self._listener is None:
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=2)
        for sock in (self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()
        self._listener = None
        with self._conn_lock:
            conns = list(self._conns.values())
            threads, self._conn_threads = self._conn_threads, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv; the thread closes it
        deadline = time.monotonic() + 2
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._listener is None and not self._port:
            raise RuntimeError("the fake server is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._listener is not None

    # -- scripting ---------------------------------------------------------------------------

    def script(
        self,
        method: str,
        path: str,
        replies: Scripted | Iterable[Scripted],
        *,
        default: Scripted | None = None,
    ) -> Script:
        """Answer `method path` with `replies` in order, then `default`.

        `replies` may be a list of `Reply` / handler callables, or one `Reply` or handler (then it
        answers every request). `method` "*" matches any method; a `path` ending in "*" matches
        every path with that prefix (exact paths win, then the longest prefix).
        """
        script = Script(replies, default)
        with self._cond:
            self._routes[(method.upper(), path)] = script
        return script

    def route(self, method: str, path: str, handler: Handler) -> Script:
        """A dynamic route: `handler(request) -> Reply` answers every request."""
        return self.script(method, path, handler)

    def _find_script(self, method: str, path: str) -> Script | None:
        with self._cond:
            routes = dict(self._routes)
        for key in ((method, path), ("*", path)):
            if key in routes:
                return routes[key]
        best: tuple[int, Script] | None = None
        for (route_method, route_path), script in routes.items():
            if not route_path.endswith("*") or route_method not in (method, "*"):
                continue
            prefix = route_path[:-1]
            if path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), script)
        return best[1] if best else None

    def resolve(self, request: Request) -> Reply:
        """The reply for `request` (consumes the scripted queue)."""
        script = self._find_script(request.method, request.path)
        if script is None:
            return Reply(
                status=404,
                json={"error": f"fake server: no script for {request.method} {request.path}"},
            )
        reply = script.next(request)
        if reply is None:
            return Reply(
                status=500,
                json={
                    "error": f"fake server: script for {request.method} {request.path} "
                    "is exhausted and has no default"
                },
            )
        return reply

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._cond:
            return list(self._requests)

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Request]:
        """Block until at least `n` requests arrived; raise TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= n, timeout=timeout):
                raise TimeoutError(
                    f"fake server got {len(self._requests)} request(s), expected {n} "
                    f"within {timeout}s"
                )
            return list(self._requests)

    def clear(self) -> None:
        """Forget the request log (scripts stay)."""
        with self._cond:
            self._requests.clear()

    def reset_state(self) -> None:
        """Forget the request log and every script."""
        with self._cond:
            self._requests.clear()
            self._routes.clear()
        self.errors.clear()

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections were accepted since start (keep-alive reuse checks)."""
        with self._conn_lock:
            return self._conn_seq

    @property
    def open_connections(self) -> int:
        with self._conn_lock:
            return len(self._conns)

    # -- the server --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener, wake = self._listener, self._wake_r
        assert listener is not None and wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is wake or self._stopping.is_set():
                        return
                    try:
                        conn, _addr = listener.accept()
                    except OSError:
                        continue
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conn.setblocking(True)
                    with self._conn_lock:
                        self._conn_seq += 1
                        conn_id = self._conn_seq
                        self._conns[conn_id] = conn
                        thread = threading.Thread(
                            target=self._serve_connection,
                            args=(conn, conn_id),
                            name=f"fake-server:{self._port}:conn{conn_id}",
                            daemon=True,
                        )
                        self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
                        self._conn_threads.append(thread)
                    thread.start()

    def _serve_connection(self, conn: socket.socket, conn_id: int) -> None:
        buffer = b""
        try:
            while not self._stopping.is_set():
                try:
                    parsed = _read_request(conn, buffer)
                except _BadRequest as exc:
                    _send(conn, 400, {"Content-Type": "text/plain"}, str(exc).encode(), False)
                    return
                if parsed is None:
                    return
                method, target, version, header_items, body, buffer = parsed
                split = urlsplit(target)
                request = Request(
                    method=method,
                    path=split.path,
                    query=dict(parse_qsl(split.query, keep_blank_values=True)),
                    headers=Headers(header_items),
                    body=body,
                    target=target,
                    connection_id=conn_id,
                    received_at=time.monotonic(),
                )
                with self._cond:
                    self._requests.append(request)
                    self._cond.notify_all()
                if not self._answer(conn, request, version):
                    return
        except OSError:
            return
        finally:
            with self._conn_lock:
                self._conns.pop(conn_id, None)
            with contextlib.suppress(OSError):
                conn.close()

    def _answer(self, conn: socket.socket, request: Request, version: str) -> bool:
        """Send the reply; True when the connection stays open for the next request."""
        try:
            reply = self.resolve(request)
        except Exception:  # a broken handler answers 500 and is recorded
            import traceback

            trace = traceback.format_exc()
            self.errors.append(trace)
            reply = Reply(status=500, json={"error": "fake server handler raised", "trace": trace})
        if reply.delay and self._stopping.wait(reply.delay):
            return False
        if reply.action == "hang":
            self._stopping.wait()
            return False
        if reply.action == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return False
        if reply.action == "close":
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            return False
        connection = request.headers.get("connection", "").lower()
        keep_alive = (
            "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
        )
        body, headers = reply.payload()
        if request.method == "HEAD":
            headers.setdefault("Content-Length", str(len(body)))
            body = b""
        _send(conn, reply.status, headers, body, keep_alive)
        return keep_alive


class _BadRequest(Exception):
    pass


def _recv(conn: socket.socket) -> bytes:
    return conn.recv(65536)


def _read_request(
    conn: socket.socket, buffer: bytes
) -> tuple[str, str, str, list[tuple[str, str]], bytes, bytes] | None:
    """Read one request; None when the client closed the connection between requests."""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_HEAD:
            raise _BadRequest("request head too large")
        chunk = _recv(conn)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        raise _BadRequest(f"bad request line {lines[0]!r}") from None
    header_items: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(f"bad header line {line!r}")
        header_items.append((name.strip(), value.strip()))
    headers = Headers(header_items)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, rest = _read_chunked(conn, rest)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest("bad Content-Length") from None
        while len(rest) < length:
            chunk = _recv(conn)
            if not chunk:
                return None
            rest += chunk
        body, rest = rest[:length], rest[length:]
    return method.upper(), target, version.upper(), header_items, body, rest


def _read_chunked(conn: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    body = b""
    while True:
        while b"\r\n" not in buffer:
            chunk = _recv(conn)
            if not chunk:
                raise _BadRequest("connection closed inside a chunked body")
            buffer += chunk
        size_line, _, buffer = buffer.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise _BadRequest("bad chunk size") from None
        if size == 0:
            # Trailers (usually none) end with an empty line.
            while b"\r\n" not in buffer:
                chunk = _recv(conn)
                if not chunk:
                    return body, b""
                buffer += chunk
            while not buffer.startswith(b"\r\n"):
                _trailer, _, buffer = buffer.partition(b"\r\n")
                while b"\r\n" not in buffer:
                    chunk = _recv(conn)
                    if not chunk:
                        return body, b""
                    buffer += chunk
            return body, buffer[2:]
        while len(buffer) < size + 2:
            chunk = _recv(conn)
            if not chunk:
                raise _BadRequest("connection closed inside a chunked body")
            buffer += chunk
        body += buffer[:size]
        buffer = buffer[size + 2 :]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _EXTRA_REASONS.get(status, "Unknown")


def _send(
    conn: socket.socket, status: int, headers: dict[str, str], body: bytes, keep_alive: bool
) -> None:
    """Status line, headers and body in ONE write (no delayed-ACK stall on keep-alive)."""
    lower = {name.lower() for name in headers}
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if "content-length" not in lower and status not in (204, 304) and status >= 200:
        lines.append(f"Content-Length: {len(body)}")
    if "connection" not in lower:
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    if "server" not in lower:
        lines.append("Server: orion-fake")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    conn.sendall(head + body)
