"""A fake Google: OAuth token and revoke endpoints, and the Gmail and Calendar API paths
Orion's tools use, as a real HTTP server on 127.0.0.1 with in-memory state.

    with FakeGoogle() as google:
        settings.ORION_GOOGLE_TOKEN_URI = google.token_uri     # or: for k, v in google.settings()
        url = <Orion's consent redirect>
        params = google.consent(url)                 # the person clicks "Allow"
        client.get(callback, params)                 # Orion exchanges the code (PKCE checked)
        google.add_message(sender="a@b.test", subject="Hi", body="...")
        google.revoke_all()                          # the person revoked access at Google
        google.after_accept["gmail.send"] = "close"  # next send is stored, then the
                                                     # connection drops without an answer
                                                     # ("hang": it never answers)
        google.fail_once("GET", "/gmail/v1/users/me/messages", Reply(status=503))

The consent page itself is not served: `consent(url)` reads the authorization URL's
parameters (client id, redirect URI, scopes, PKCE challenge) and answers with the
callback's query (`code` + `state`, or `error=access_denied`).
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import email.utils
import hashlib
import itertools
import json
import re
import shlex
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from orion.core.fakes.server import Action, FakeServer, Reply, Request

__all__ = ["FakeGoogle"]

GMAIL = "https://www.googleapis.com/auth/gmail.modify"
CAL_EVENTS = "https://www.googleapis.com/auth/calendar.events"
CAL_FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_SYSTEM_LABELS = ("INBOX", "UNREAD", "STARRED", "IMPORTANT", "SENT", "DRAFT", "SPAM", "TRASH")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _error(status: int, message: str, reason: str = "") -> Reply:
    detail: dict[str, Any] = {"code": status, "message": message}
    if reason:
        detail["errors"] = [{"reason": reason, "message": message}]
    return Reply(status=status, json={"error": detail})


def _when(value: dict[str, Any] | None) -> datetime | None:
    if not value:
        return None
    text = value.get("dateTime") or value.get("date")
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


class FakeGoogle(FakeServer):
    client_id = "orion-test-client.apps.googleusercontent.test"
    client_secret = "orion-test-client-secret"

    def __init__(self, *, email_address: str = "office@acme-mail.test", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.email = email_address
        self.access_ttl = 3600
        self.refresh_token_expires_in: int | None = None
        self.token_delay = 0.0  # seconds the token endpoint takes to answer
        self.granted: set[str] = set()
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.drafts: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {
            name: {"id": name, "name": name, "type": "system"} for name in _SYSTEM_LABELS
        }
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        # "gmail.send" / "gmail.draft" / "calendar.insert" -> "close" or "hang": the next one
        # is stored, then the connection drops (or hangs) without an answer.
        self.after_accept: dict[str, Action] = {}
        self.revocations: list[str] = []
        self._ids = itertools.count(0x18C0000000000001)
        self._lock = threading.RLock()
        self.script("POST", "/token", self._token)
        self.script("POST", "/revoke", self._revoke)
        self.script("*", "/gmail/v1/users/me/*", self._gmail)
        self.script("*", "/calendar/v3/*", self._calendar)

    # -- addresses ---------------------------------------------------------------------------

    @property
    def auth_uri(self) -> str:
        return f"{self.url}/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def revoke_uri(self) -> str:
        return f"{self.url}/revoke"

    @property
    def api_base(self) -> str:
        return f"{self.url}/"

    def settings(self) -> dict[str, str]:
        """Django settings that point Orion at this fake."""
        return {
            "ORION_GOOGLE_AUTH_URI": self.auth_uri,
            "ORION_GOOGLE_TOKEN_URI": self.token_uri,
            "ORION_GOOGLE_REVOKE_URI": self.revoke_uri,
            "ORION_GOOGLE_API_BASE": self.api_base,
            "ORION_GOOGLE_CLIENT_ID": self.client_id,
            "ORION_GOOGLE_CLIENT_SECRET": self.client_secret,
        }

    def fail_once(self, method: str, path: str, reply: Reply) -> None:
        """Answer the next `method path` with `reply` (a fault), then as usual."""
        if path.startswith("/gmail/"):
            usual = self._gmail
        elif path.startswith("/calendar/"):
            usual = self._calendar
        else:
            usual = {"/token": self._token, "/revoke": self._revoke}[path]
        self.script(method, path, [reply], default=usual)

    def _new_id(self) -> str:
        return f"{next(self._ids):x}"

    # -- OAuth -------------------------------------------------------------------------------

    def consent(
        self, auth_url: str, *, allow: bool = True, scopes: list[str] | None = None
    ) -> dict[str, str]:
        """The person answers the consent screen of `auth_url`: the callback's parameters.
        `scopes` grants only those (granular consent); by default everything asked."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
        state = query.get("state", "")
        assert query.get("client_id") == self.client_id, "consent: unknown client_id"
        assert query.get("response_type") == "code", "consent: response_type must be code"
        assert query.get("code_challenge_method") == "S256", "consent: PKCE S256 expected"
        if not allow:
            return {"error": "access_denied", "state": state}
        asked = query.get("scope", "").split()
        given = [s for s in asked if scopes is None or s in scopes or s in ("openid",)]
        code = f"code-{self._new_id()}"
        with self._lock:
            self.codes[code] = {
                "challenge": query.get("code_challenge", ""),
                "redirect_uri": query.get("redirect_uri", ""),
                "scopes": given,
                "include_granted": query.get("include_granted_scopes") == "true",
                "offline": query.get("access_type") == "offline",
            }
        return {"code": code, "state": state, "scope": " ".join(given)}

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        return client_id == self.client_id and secret == self.client_secret

    def _issue_access(self, refresh_token: str, scopes: list[str]) -> dict[str, Any]:
        access = f"ya29.{self._new_id()}"
        self.access_tokens[access] = {
            "scopes": set(scopes),
            "expires_at": time.time() + self.access_ttl,
            "refresh": refresh_token,
        }
        return {
            "access_token": access,
            "expires_in": self.access_ttl,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    def _id_token(self) -> str:
        header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": self.client_id,
            "sub": "1000001",
            "email": self.email,
            "email_verified": True,
            "iat": int(time.time()),
            "exp": int(time.time()) + 3600,
        }
        return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(b'fake-signature')}"

    def _token(self, request: Request) -> Reply:
        reply = self._token_reply(request)
        return replace(reply, delay=self.token_delay) if self.token_delay else reply

    def _token_reply(self, request: Request) -> Reply:
        form = request.form()
        if not self._client_ok(request, form):
            return Reply(status=401, json={"error": "invalid_client"})
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                return self._exchange(form)
            if form.get("grant_type") == "refresh_token":
                held = self.refresh_tokens.get(form.get("refresh_token", ""))
                if held is None or held["revoked"]:
                    return Reply(
                        status=400,
                        json={
                            "error": "invalid_grant",
                            "error_description": "Token has been expired or revoked.",
                        },
                    )
                return Reply(json=self._issue_access(form["refresh_token"], held["scopes"]))
        return Reply(status=400, json={"error": "unsupported_grant_type"})

    def _exchange(self, form: dict[str, str]) -> Reply:
        code = self.codes.pop(form.get("code", ""), None)
        bad = {"error": "invalid_grant", "error_description": "Bad Request"}
        if code is None or code["redirect_uri"] != form.get("redirect_uri"):
            return Reply(status=400, json=bad)
        verifier = form.get("code_verifier", "")
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != code["challenge"]:
            return Reply(status=400, json={**bad, "error_description": "Invalid code verifier."})
        if code["include_granted"]:
            self.granted |= set(code["scopes"])
            scopes = sorted(self.granted)
        else:
            scopes = sorted(code["scopes"])
        body = {**self._issue_access("", scopes), "id_token": self._id_token()}
        if code["offline"]:
            refresh = f"1//{self._new_id()}"
            self.refresh_tokens[refresh] = {"scopes": scopes, "revoked": False}
            self.access_tokens[body["access_token"]]["refresh"] = refresh
            body["refresh_token"] = refresh
            if self.refresh_token_expires_in:
                body["refresh_token_expires_in"] = self.refresh_token_expires_in
        return Reply(json=body)

    def _revoke(self, request: Request) -> Reply:
        token = request.form().get("token") or request.query.get("token", "")
        with self._lock:
            self.revocations.append(token)
            refresh = self.access_tokens.get(token, {}).get("refresh") or token
            if refresh not in self.refresh_tokens:
                return Reply(status=400, json={"error": "invalid_token"})
            self._revoke_refresh(refresh)
        return Reply(json={})

    def _revoke_refresh(self, refresh: str) -> None:
        self.refresh_tokens[refresh]["revoked"] = True
        for access in self.access_tokens.values():
            if access["refresh"] == refresh:
                access["expires_at"] = 0

    def revoke_all(self) -> None:
        """The person removed Orion's access in their Google account."""
        with self._lock:
            for refresh in self.refresh_tokens:
                self._revoke_refresh(refresh)
            self.granted.clear()

    def expire_access_tokens(self) -> None:
        with self._lock:
            for access in self.access_tokens.values():
                access["expires_at"] = 0

    def _authorized(self, request: Request, scope: str) -> Reply | None:
        auth = request.headers.get("authorization", "")
        held = self.access_tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if held is None or held["expires_at"] < time.time():
            return _error(401, "Request had invalid authentication credentials.", "authError")
        if scope not in held["scopes"]:
            return _error(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
        return None

    # -- Gmail -------------------------------------------------------------------------------

    def add_message(
        self,
        *,
        sender: str = "customer@example.test",
        to: str = "",
        subject: str = "",
        body: str = "",
        labels: tuple[str, ...] = ("INBOX", "UNREAD"),
        message_id: str = "",
    ) -> str:
        msg = email.message.EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to or self.email, subject
        msg["Date"] = email.utils.formatdate()
        msg["Message-ID"] = message_id or email.utils.make_msgid(domain="example.test")
        msg.set_content(body)
        return self._store(msg.as_bytes(), list(labels), thread_id="")

    def _store(self, raw: bytes, labels: list[str], thread_id: str) -> str:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain", "html"))
        text = part.get_content() if part is not None else ""
        with self._lock:
            message_id = self._new_id()
            self.messages[message_id] = {
                "id": message_id,
                "threadId": thread_id or message_id,
                "labelIds": labels,
                "raw": raw,
                "headers": [(k, str(v)) for k, v in parsed.items()],
                "text": text,
                "snippet": " ".join(text.split())[:100],
                "internalDate": str(int(time.time() * 1000)),
            }
        return message_id

    def header(self, message_id: str, name: str) -> str:
        for key, value in self.messages[message_id]["headers"]:
            if key.lower() == name.lower():
                return value
        return ""

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if "SENT" in m["labelIds"]]

    def _matches(self, message: dict[str, Any], query: str) -> bool:
        try:
            terms = shlex.split(query)
        except ValueError:
            terms = query.split()
        headers = {k.lower(): v for k, v in message["headers"]}
        for term in terms:
            key, sep, value = term.partition(":")
            value = value.lower()
            if sep and key == "rfc822msgid":
                if headers.get("message-id", "").strip("<>").lower() != value.strip("<>"):
                    return False
            elif sep and key in ("from", "to", "subject"):
                if value not in headers.get(key, "").lower():
                    return False
            elif sep and key in ("label", "in", "is"):
                if value.upper() not in message["labelIds"] and not any(
                    self.labels.get(i, {}).get("name", "").lower() == value
                    for i in message["labelIds"]
                ):
                    return False
            else:
                haystack = (
                    f"{headers.get('subject', '')} {headers.get('from', '')} {message['text']}"
                )
                if term.lower() not in haystack.lower():
                    return False
        return True

    def _message_resource(self, message: dict[str, Any], fmt: str) -> dict[str, Any]:
        out = {k: message[k] for k in ("id", "threadId", "labelIds", "snippet", "internalDate")}
        if fmt == "raw":
            out["raw"] = _b64url(message["raw"])
            return out
        headers = [{"name": k, "value": v} for k, v in message["headers"]]
        out["payload"] = {"mimeType": "text/plain", "headers": headers}
        if fmt != "metadata":
            out["payload"]["body"] = {"data": _b64url(message["text"].encode())}
        return out

    def _gmail(self, request: Request) -> Reply:
        denied = self._authorized(request, GMAIL)
        if denied is not None:
            return denied
        parts = request.path.removeprefix("/gmail/v1/users/me/").strip("/").split("/")
        with self._lock:
            return self._gmail_route(request, parts)

    def _gmail_route(self, request: Request, parts: list[str]) -> Reply:
        method = request.method
        if parts == ["profile"] and method == "GET":
            return Reply(json={"emailAddress": self.email, "messagesTotal": len(self.messages)})
        if parts == ["messages"] and method == "GET":
            query = request.query.get("q", "")
            limit = int(request.query.get("maxResults", "100"))
            found = [m for m in reversed(self.messages.values()) if self._matches(m, query)]
            listed = [{"id": m["id"], "threadId": m["threadId"]} for m in found[:limit]]
            body: dict[str, Any] = {"resultSizeEstimate": len(found)}
            if listed:
                body["messages"] = listed
            return Reply(json=body)
        if parts == ["messages", "send"] and method == "POST":
            sent = request.json()
            message_id = self._store(_unb64url(sent["raw"]), ["SENT"], sent.get("threadId", ""))
            stored = self.messages[message_id]
            if "gmail.send" in self.after_accept:
                return Reply(action=self.after_accept.pop("gmail.send"))
            return Reply(json={k: stored[k] for k in ("id", "threadId", "labelIds")})
        if len(parts) == 2 and parts[0] == "messages" and method == "GET":
            message = self.messages.get(parts[1])
            if message is None:
                return _error(404, "Requested entity was not found.", "notFound")
            return Reply(json=self._message_resource(message, request.query.get("format", "full")))
        if len(parts) == 3 and parts[0] == "messages" and parts[2] == "modify":
            message = self.messages.get(parts[1])
            if message is None:
                return _error(404, "Requested entity was not found.", "notFound")
            change = request.json()
            unknown = [i for i in change.get("addLabelIds", []) if i not in self.labels]
            if unknown:
                return _error(400, f"Invalid label: {unknown[0]}", "invalidArgument")
            remove = set(change.get("removeLabelIds", []))
            kept = [i for i in message["labelIds"] if i not in remove]
            message["labelIds"] = kept + [i for i in change.get("addLabelIds", []) if i not in kept]
            return Reply(json={k: message[k] for k in ("id", "threadId", "labelIds")})
        if parts == ["drafts"] and method == "POST":
            draft = request.json()["message"]
            message_id = self._store(_unb64url(draft["raw"]), ["DRAFT"], draft.get("threadId", ""))
            draft_id = f"r{self._new_id()}"
            self.drafts[draft_id] = {"id": draft_id, "message_id": message_id}
            if "gmail.draft" in self.after_accept:
                return Reply(action=self.after_accept.pop("gmail.draft"))
            ids = {k: self.messages[message_id][k] for k in ("id", "threadId", "labelIds")}
            return Reply(json={"id": draft_id, "message": ids})
        if parts == ["drafts"] and method == "GET":
            query = request.query.get("q", "")
            found = [
                {"id": d["id"], "message": {"id": d["message_id"]}}
                for d in self.drafts.values()
                if self._matches(self.messages[d["message_id"]], query)
            ]
            return Reply(json={"drafts": found, "resultSizeEstimate": len(found)} if found else {})
        if parts == ["labels"] and method == "GET":
            return Reply(json={"labels": list(self.labels.values())})
        if parts == ["labels"] and method == "POST":
            name = request.json().get("name", "")
            if any(label["name"].lower() == name.lower() for label in self.labels.values()):
                return _error(409, "Label name exists or conflicts", "duplicate")
            label_id = f"Label_{len(self.labels)}"
            self.labels[label_id] = {"id": label_id, "name": name, "type": "user"}
            return Reply(json=self.labels[label_id])
        return _error(404, f"fake gmail: no {method} {request.path}", "notFound")

    # -- Calendar ----------------------------------------------------------------------------

    def add_event(self, calendar_id: str = "primary", **event: Any) -> dict[str, Any]:
        with self._lock:
            stored = {"id": event.pop("id", None) or self._new_id(), "status": "confirmed"}
            stored.update(event)
            self.events.setdefault(calendar_id, {})[stored["id"]] = stored
            return stored

    def _calendar(self, request: Request) -> Reply:
        if request.path == "/calendar/v3/freeBusy":
            denied = self._authorized(request, CAL_FREEBUSY)
            if denied is None and request.method == "POST":
                with self._lock:
                    return self._freebusy(request.json())
            return denied or _error(405, "method not allowed")
        denied = self._authorized(request, CAL_EVENTS)
        if denied is not None:
            return denied
        parts = [unquote(p) for p in request.path.removeprefix("/calendar/v3/").split("/")]
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            return _error(404, f"fake calendar: no {request.method} {request.path}", "notFound")
        with self._lock:
            return self._events_route(request, parts[1], parts[3:])

    def _events_route(self, request: Request, calendar_id: str, rest: list[str]) -> Reply:
        events = self.events.setdefault(calendar_id, {})
        method = request.method
        if not rest and method == "GET":
            low = (
                _when({"dateTime": request.query["timeMin"]})
                if "timeMin" in request.query
                else None
            )
            high = (
                _when({"dateTime": request.query["timeMax"]})
                if "timeMax" in request.query
                else None
            )
            text = request.query.get("q", "").lower()
            items = []
            for event in events.values():
                start, end = _when(event.get("start")), _when(event.get("end"))
                if (low and end and end <= low) or (high and start and start >= high):
                    continue
                if text and text not in json.dumps(event).lower():
                    continue
                items.append(event)
            items.sort(key=lambda e: _when(e.get("start")) or datetime.min)
            limit = int(request.query.get("maxResults", "250"))
            return Reply(json={"kind": "calendar#events", "items": items[:limit]})
        if not rest and method == "POST":
            event = request.json()
            event_id = event.get("id") or self._new_id()
            if not _EVENT_ID.match(event_id):
                return _error(400, "Invalid resource id value.", "invalid")
            if event_id in events:
                return _error(409, "The requested identifier already exists.", "duplicate")
            start, end = _when(event.get("start")), _when(event.get("end"))
            if start is None or end is None or end <= start:
                return _error(400, "The specified time range is empty.", "timeRangeEmpty")
            stored = {**event, "id": event_id, "status": "confirmed"}
            stored["htmlLink"] = f"{self.url}/calendar/event?eid={event_id}"
            events[event_id] = stored
            if "calendar.insert" in self.after_accept:
                return Reply(action=self.after_accept.pop("calendar.insert"))
            return Reply(json=stored)
        if len(rest) == 1:
            event = events.get(rest[0])
            if event is None:
                return _error(404, "Not Found", "notFound")
            if method == "GET":
                return Reply(json=event)
            if method in ("PATCH", "PUT"):
                merged = {**event, **request.json(), "id": event["id"]}
                start, end = _when(merged.get("start")), _when(merged.get("end"))
                if start is None or end is None or end <= start:
                    return _error(400, "The specified time range is empty.", "timeRangeEmpty")
                events[event["id"]] = merged
                return Reply(json=merged)
        return _error(404, f"fake calendar: no {method} {request.path}", "notFound")

    def _freebusy(self, body: dict[str, Any]) -> Reply:
        low, high = _when({"dateTime": body["timeMin"]}), _when({"dateTime": body["timeMax"]})
        if low is None or high is None or high <= low:
            return _error(400, "The specified time range is empty.", "timeRangeEmpty")
        calendars: dict[str, Any] = {}
        for item in body.get("items", []):
            busy = []
            for event in self.events.get(item["id"], {}).values():
                start, end = _when(event.get("start")), _when(event.get("end"))
                if event.get("transparency") == "transparent" or not start or not end:
                    continue
                if end > low and start < high:
                    busy.append(
                        {
                            "start": event["start"].get("dateTime", ""),
                            "end": event["end"].get("dateTime", ""),
                        }
                    )
            calendars[item["id"]] = {"busy": busy}
        return Reply(json={"kind": "calendar#freeBusy", "calendars": calendars})
