"""Telegram, Discord and Slack fakes with scripted faults, as real HTTP servers on 127.0.0.1.

    with FakeTelegram() as tg:        # settings.ORION_TELEGRAM_API_BASE = tg.base_url
        tg.fail_next("429", "accept_then_hang")
        ...
        assert [m["text"] for m in tg.accepted] == ["hello"]

`accepted` holds every message the fake took (in order), whatever it answered: a fault
named `accept_then_*` takes the message and then answers 500, hangs or closes the
connection, which is how "the provider got it but we never heard" is scripted.

Faults every fake knows (`fail_next(*names)` queues them for the next sends;
`fault_for = fn(payload, times_seen) -> name | None` decides per message, e.g. for a
benchmark): "429" (with the provider's retry_after, `retry_after` seconds), "503", "500",
"hang", "accept_then_500", "accept_then_hang", "accept_then_close". Each fake adds its
provider's own: see the class docstrings.
"""

from __future__ import annotations

import html
import itertools
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from orion.core.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeDiscord", "FakeMessaging", "FakeSlack", "FakeTelegram"]

Fault = str | None
ACCEPTING = {"accept_then_500", "accept_then_hang", "accept_then_close"}


class FakeMessaging(FakeServer):
    """Shared plumbing: the accepted log, the fault queue, duplicate counting."""

    def __init__(self, *, retry_after: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_after = retry_after
        self.accepted: list[dict[str, Any]] = []
        self.fault_for: Callable[[dict[str, Any], int], Fault] | None = None
        self._faults: deque[str] = deque()
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return self.url

    def fail_next(self, *faults: str) -> None:
        with self._lock:
            self._faults.extend(faults)

    def wait_accepted(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.accepted) >= n:
                    return list(self.accepted)
            time.sleep(0.01)
        raise TimeoutError(f"{len(self.accepted)} message(s) accepted, expected {n}")

    def duplicates(self) -> int:
        """Messages accepted more than once (same text), counted beyond the first."""
        with self._lock:
            counts = Counter(m["text"] for m in self.accepted)
        return sum(c - 1 for c in counts.values() if c > 1)

    # -- for subclasses ----------------------------------------------------------------------

    def _next_fault(self, payload: dict[str, Any]) -> Fault:
        with self._lock:
            text = str(payload.get("text") or payload.get("content") or "")
            self._seen[text] += 1
            if self._faults:
                return self._faults.popleft()
            seen = self._seen[text]
        return self.fault_for(payload, seen) if self.fault_for else None

    def _accept(self, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            message = {"id": next(self._ids), **message}
            self.accepted.append(message)
        return message

    def _after_accept(self, fault: Fault, ok: Reply) -> Reply:
        if fault == "accept_then_500":
            return Reply(status=500, json={"ok": False, "description": "Internal Server Error"})
        if fault == "accept_then_hang":
            return Reply(action="hang")
        if fault == "accept_then_close":
            return Reply(action="close")
        return ok

    @staticmethod
    def _transport_fault(fault: Fault) -> Reply | None:
        if fault == "hang":
            return Reply(action="hang")
        if fault == "500":
            return Reply(status=500, json={"ok": False, "description": "Internal Server Error"})
        return None


class FakeTelegram(FakeMessaging):
    """Bot API: POST /bot<token>/sendMessage. HTML is checked like Telegram does (an unknown
    or unclosed tag, a stray "<" is "can't parse entities"). Faults: "parse_error",
    "chat_not_found", "kicked" (403); state: `revoke()` (401 from then on),
    `migrate(old_chat, new_chat)` (the old id answers 400 migrate_to_chat_id)."""

    TAGS = {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
    _TAG = re.compile(r"<(/?)([a-z][a-z0-9-]*)(?:\s[^<>]*)?>", re.IGNORECASE)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.revoked = False
        self.migrated: dict[str, str] = {}
        self.script("POST", "/bot*", self._send_message)

    def revoke(self) -> None:
        self.revoked = True

    def migrate(self, old: str, new: str) -> None:
        self.migrated[str(old)] = str(new)

    @staticmethod
    def error(status: int, description: str, **parameters: Any) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return Reply(status=status, json=body)

    def _send_message(self, request: Request) -> Reply:
        if not request.path.endswith("/sendMessage"):
            return self.error(404, "Not Found")
        if self.revoked:
            return self.error(401, "Unauthorized")
        payload = request.json()
        chat = str(payload.get("chat_id", ""))
        fault = self._next_fault(payload)
        early = self._transport_fault(fault)
        if early is not None:
            return early
        if fault == "429":
            return self.error(
                429,
                f"Too Many Requests: retry after {self.retry_after:g}",
                retry_after=self.retry_after,
            )
        if fault == "503":
            return self.error(503, "Service Unavailable")
        if fault == "kicked":
            return self.error(403, "Forbidden: bot was kicked from the supergroup chat")
        if fault == "chat_not_found":
            return self.error(400, "Bad Request: chat not found")
        if chat in self.migrated:
            return self.error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=int(self.migrated[chat]),
            )
        html_mode = str(payload.get("parse_mode", "")).upper() == "HTML"
        if fault == "parse_error" or (html_mode and not self._parses(payload["text"])):
            return self.error(
                400, "Bad Request: can't parse entities: unsupported start tag at byte offset 0"
            )
        message = self._accept(
            {"chat_id": chat, "text": payload["text"], "parse_mode": payload.get("parse_mode")}
        )
        ok = Reply(
            json={
                "ok": True,
                "result": {
                    "message_id": message["id"],
                    "chat": {"id": chat},
                    "text": payload["text"],
                },
            }
        )
        return self._after_accept(fault, ok)

    def _parses(self, text: str) -> bool:
        stack: list[str] = []
        position = 0
        for match in self._TAG.finditer(text):
            if "<" in text[position : match.start()] or ">" in text[position : match.start()]:
                return False
            closing, name = match.group(1), match.group(2).lower()
            if name not in self.TAGS:
                return False
            if closing:
                if not stack or stack.pop() != name:
                    return False
            else:
                stack.append(name)
            position = match.end()
        rest = text[position:]
        return not stack and "<" not in rest and ">" not in rest


class FakeDiscord(FakeMessaging):
    """Webhooks: POST /api/v10/webhooks/<id>/<token>[?wait=true]. `delete_webhook(id)` makes
    it answer 404 Unknown Webhook. A 429 carries `retry_after` (float seconds) in the body and
    Retry-After (whole seconds) in the header; like Discord, the unversioned path
    /api/webhooks/... is API v6, which gives both in milliseconds."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deleted: set[str] = set()
        self.script("POST", "/api/webhooks/*", self._execute)
        self.script("POST", "/api/v10/webhooks/*", self._execute)

    def webhook_url(self, webhook_id: str = "123", part: str = "hook-token") -> str:
        return f"https://discord.com/api/webhooks/{webhook_id}/{part}"

    def delete_webhook(self, webhook_id: str = "123") -> None:
        self.deleted.add(str(webhook_id))

    def _execute(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        versioned = parts[1:2] == ["v10"]
        if versioned:
            del parts[1]
        if len(parts) != 4 or parts[2] in self.deleted:
            return Reply(status=404, json={"message": "Unknown Webhook", "code": 10015})
        payload = request.json()
        fault = self._next_fault(payload)
        early = self._transport_fault(fault)
        if early is not None:
            return early
        if fault == "429":
            ms = round(self.retry_after * 1000)
            return Reply(
                status=429,
                json={
                    "message": "You are being rate limited.",
                    "retry_after": self.retry_after if versioned else ms,
                    "global": False,
                },
                headers={"Retry-After": str(math.ceil(self.retry_after) if versioned else ms)},
            )
        if fault == "503":
            return Reply(status=503, json={"message": "upstream unavailable"})
        content = str(payload.get("content", ""))
        if not content or len(content) > 2000:
            return Reply(status=400, json={"message": "Invalid Form Body", "code": 50035})
        message = self._accept({"webhook": parts[2], "text": content})
        wait = request.query.get("wait") == "true"
        ok = Reply(json={"id": str(message["id"]), "content": content}) if wait else Reply(204)
        return self._after_accept(fault, ok)


class FakeSlack(FakeMessaging):
    """Web API under /api/: chat.postMessage and conversations.history (with metadata).
    Any other fault name is answered as Slack's `{"ok": false, "error": name}` (e.g.
    "token_revoked", "channel_not_found"); `revoke(token)` answers token_revoked for good.
    A 429 carries Retry-After."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.revoked: set[str] = set()
        self._ts = 0.0
        self.script("POST", "/api/chat.postMessage", self._post)
        self.script("GET", "/api/conversations.history", self._history)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def _token(self, request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ").strip()

    def _next_ts(self) -> str:
        with self._lock:
            self._ts = max(time.time(), self._ts + 0.000001)
            return f"{self._ts:.6f}"

    def _post(self, request: Request) -> Reply:
        token = self._token(request)
        if not token:
            return Reply(json={"ok": False, "error": "not_authed"})
        if token in self.revoked:
            return Reply(json={"ok": False, "error": "token_revoked"})
        payload = request.json()
        fault = self._next_fault(payload)
        early = self._transport_fault(fault)
        if early is not None:
            return early
        if fault == "429":
            return Reply(
                status=429,
                json={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": f"{self.retry_after:g}"},
            )
        if fault == "503":
            return Reply(status=503, body=b"Service Unavailable")
        if fault and fault not in ACCEPTING:
            return Reply(json={"ok": False, "error": fault})
        ts = self._next_ts()
        message = self._accept(
            {
                "channel": payload.get("channel"),
                "text": payload.get("text"),
                "ts": ts,
                "metadata": payload.get("metadata"),
            }
        )
        ok = Reply(json={"ok": True, "channel": message["channel"], "ts": ts})
        return self._after_accept(fault, ok)

    def _history(self, request: Request) -> Reply:
        if self._token(request) in self.revoked:
            return Reply(json={"ok": False, "error": "token_revoked"})
        query = request.query
        oldest = float(query.get("oldest") or 0)
        limit = int(query.get("limit") or 100)
        offset = int(query.get("cursor") or 0)
        with_metadata = query.get("include_all_metadata") == "true"
        with self._lock:
            found = [
                m
                for m in reversed(self.accepted)
                if m["channel"] == query.get("channel") and float(m["ts"]) > oldest
            ]
        page = found[offset : offset + limit]
        items = []
        for m in page:
            item = {"type": "message", "ts": m["ts"], "text": html.escape(m["text"] or "")}
            if with_metadata and m.get("metadata"):
                item["metadata"] = m["metadata"]
            items.append(item)
        more = offset + limit < len(found)
        return Reply(
            json={
                "ok": True,
                "messages": items,
                "has_more": more,
                "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
            }
        )
