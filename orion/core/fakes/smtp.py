"""A real SMTP server on 127.0.0.1 (aiosmtpd) with scripted faults, for email deliveries.

    with FakeSMTP() as smtp:              # settings: EMAIL_BACKEND smtp, EMAIL_PORT smtp.port
        smtp.fail_next("rcpt_550")
        ...
        assert smtp.messages[0]["Message-ID"] == "<...>"

`messages` holds every message the server took (parsed, `email.message.Message`).
Faults (`fail_next(*names)`, one per message; or `fault_for = fn(body, times_seen)`
deciding at DATA for each message, e.g. for a benchmark): "rcpt_450" / "rcpt_550" (recipient refused
for now / for good), "data_451" / "data_554" (message refused after DATA), and, with the
message taken first, "accept_then_close" (the connection drops instead of the final 250)
and "accept_then_hang" (no answer until the server stops). `stop()` makes the server
"down": connections are refused; `start()` brings it back on the same port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from typing import Any, Self

from aiosmtpd.controller import Controller

__all__ = ["FakeSMTP"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeSMTP:
    def __init__(self, *, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self.messages: list[Message] = []
        self._faults: deque[str] = deque()
        self._seen: Counter[str] = Counter()
        self.fault_for: Callable[[str, int], str | None] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._controller: Controller | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._controller is None:
            self._stopping.clear()
            self._controller = Controller(
                _Handler(self), hostname=self.host, port=self.port, server_hostname="localhost"
            )
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._stopping.set()
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(self, *faults: str) -> None:
        with self._lock:
            self._faults.extend(faults)

    def wait_messages(self, n: int, timeout: float = 5.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.01)
        raise TimeoutError(f"{len(self.messages)} message(s) taken, expected {n}")

    def _peek(self, *names: str) -> str | None:
        with self._lock:
            if self._faults and self._faults[0] in names:
                return self._faults.popleft()
        return None

    def _decide(self, data: bytes) -> str | None:
        """A DATA-time fault for this message from `fault_for`, when nothing is queued."""
        body = message_from_bytes(data).get_payload()
        text = body if isinstance(body, str) else ""
        with self._lock:
            self._seen[text] += 1
            seen = self._seen[text]
        return self.fault_for(text, seen) if self.fault_for else None

    def _take(self, data: bytes) -> None:
        with self._lock:
            self.messages.append(message_from_bytes(data))


class _Handler:
    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self.fake._peek("rcpt_450", "rcpt_550")
        if fault == "rcpt_450":
            return "450 4.2.1 Mailbox busy, try later"
        if fault == "rcpt_550":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        fault = self.fake._peek("data_451", "data_554", "accept_then_close", "accept_then_hang")
        fault = fault or self.fake._decide(data)
        if fault == "data_451":
            return "451 4.3.0 Temporary failure, try later"
        if fault == "data_554":
            return "554 5.6.0 Message rejected as spam"
        self.fake._take(data)
        if fault == "accept_then_close":
            server.transport.abort()
        while fault == "accept_then_hang" and not self.fake._stopping.is_set():
            await asyncio.sleep(0.05)
        return "250 2.0.0 Queued"
