"""A tenant's website as a real HTTP server on 127.0.0.1, with a WordPress REST subset.

    with FakeWebsite(keyword="Acme Plumbing") as site:
        site.down()                          # every page answers 503 (site.up() undoes it)
        site.slow(2.0) / site.hang() / site.keyword_missing()
        site.redirect("http://10.0.0.1/")   # every page redirects there
        site.wp_seed("posts", title="Hello", content="<p>Hi</p>")
        site.crash_after_next_create()       # the next create lands, then the socket closes
        ... client calls site.url ...
        assert site.wp_items("posts")[0]["status"] == "draft"

Pages: any GET outside /wp-json/ answers the home page (title, a script, the keyword in
the body) unless a mode says otherwise. WordPress (`/wp-json/wp/v2/`): `posts` and
`pages` list (search, status, slug, per_page, page), read, create (POST, draft unless a
status is given) and update (POST /<id>); `users/me` for a credentials check. Basic auth
with an application password (spaces ignored, like WordPress); wrong credentials answer
401 with WordPress's error body; without credentials only published items are listed.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from typing import Any

from orion.core.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeWebsite"]

APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"  # the shape WordPress gives out
_API = "/wp-json/wp/v2/"
_KINDS = ("posts", "pages")
_ITEM = re.compile(r"^(posts|pages)/(\d+)$")


def _wp_error(status: int, code: str, message: str) -> Reply:
    return Reply(status=status, json={"code": code, "message": message, "data": {"status": status}})


class FakeWebsite(FakeServer):
    def __init__(
        self,
        *,
        keyword: str = "Acme Plumbing",
        user: str = "editor",
        app_password: str = APP_PASSWORD,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.keyword = keyword
        self.user = user
        self.app_password = app_password
        self._mode: Reply | None = None
        self._show_keyword = True
        self._items: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in _KINDS}
        self._ids = itertools.count(101)
        self._lock = threading.Lock()
        self._crash_next_create = False
        self._drop_after_crash = 0
        self._dropping = 0
        self.script("*", "/wp-json/*", self._wordpress)
        self.script("*", "/*", self._page)

    # -- the site's modes ----------------------------------------------------------------------

    def up(self) -> None:
        self._mode, self._show_keyword = None, True

    def down(self, status: int = 503) -> None:
        self._mode = Reply(status=status, body=b"<h1>Service Unavailable</h1>")

    def slow(self, seconds: float) -> None:
        self._mode = Reply(body=self._home().encode(), delay=seconds)

    def hang(self) -> None:
        self._mode = Reply(action="hang")

    def keyword_missing(self) -> None:
        self._mode, self._show_keyword = None, False

    def redirect(self, location: str, status: int = 302) -> None:
        self._mode = Reply(status=status, headers={"Location": location})

    def _home(self) -> str:
        words = f"Welcome to {self.keyword}." if self._show_keyword else "Welcome."
        return (
            "<!doctype html><html><head><title>Home</title>"
            "<style>body{color:#333}</style><script>var tracking = 'ignore me';</script>"
            f"</head><body><nav>Home | Services | Contact</nav><h1>{words}</h1>"
            "<p>We fix leaks &amp; boilers, 24/7.</p></body></html>"
        )

    def _page(self, request: Request) -> Reply:
        if request.method not in ("GET", "HEAD"):
            return Reply(status=405, body=b"Method Not Allowed")
        if self._mode is not None:
            return self._mode
        return Reply(body=self._home().encode(), headers={"Content-Type": "text/html"})

    # -- WordPress -----------------------------------------------------------------------------

    def wp_seed(
        self, kind: str, *, title: str, content: str = "", status: str = "publish", slug: str = ""
    ) -> dict[str, Any]:
        return self._store(
            kind, {"title": title, "content": content, "status": status, "slug": slug}
        )

    def wp_items(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(item) for item in self._items[kind].values()]

    def crash_after_next_create(self, *, then_drop: int = 0) -> None:
        """The next create is stored, then the connection closes with no answer: the
        client cannot know whether it landed. The `then_drop` WordPress requests after it
        are dropped unanswered too (the site stays unreachable for a while)."""
        self._crash_next_create = True
        self._drop_after_crash = then_drop

    def _store(self, kind: str, data: dict[str, Any], item_id: int | None = None) -> dict[str, Any]:
        with self._lock:
            if item_id is None:
                item_id = next(self._ids)
                item = {"id": item_id, "type": kind[:-1], "status": "draft", "slug": ""}
                self._items[kind][item_id] = item
            item = self._items[kind][item_id]
            for key in ("title", "content", "excerpt"):
                if key in data:
                    item[key] = {"raw": data[key], "rendered": data[key]}
            for key in ("status", "slug"):
                if data.get(key):
                    item[key] = data[key]
            item["link"] = f"{self.url}/?p={item_id}"
            item["modified"] = "2026-01-01T00:00:00"
            return dict(item)

    def _authorized(self, request: Request) -> bool | None:
        """True with the right credentials, False with wrong ones, None without any."""
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        wanted = self.app_password.replace(" ", "")
        return (
            scheme.lower() == "basic" and user == self.user and password.replace(" ", "") == wanted
        )

    def _wordpress(self, request: Request) -> Reply:
        with self._lock:
            if self._dropping:
                self._dropping -= 1
                return Reply(action="close")
        route = request.path[len(_API) :] if request.path.startswith(_API) else None
        if route is None:
            return _wp_error(404, "rest_no_route", "No route was found matching the URL.")
        auth = self._authorized(request)
        if auth is False:
            return _wp_error(
                401,
                "incorrect_password",
                "The provided password is an invalid application password.",
            )
        if route == "users/me":
            if not auth:
                return _wp_error(401, "rest_not_logged_in", "You are not currently logged in.")
            return Reply(json={"id": 1, "name": self.user, "slug": self.user})
        if route in _KINDS:
            if request.method == "GET":
                return self._list(route, request, authed=bool(auth))
            if request.method == "POST":
                return self._write(route, request, None, authed=bool(auth))
        match = _ITEM.match(route)
        if match:
            kind, item_id = match.group(1), int(match.group(2))
            with self._lock:
                item = self._items[kind].get(item_id)
            if item is None or (item["status"] != "publish" and not auth):
                return _wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
            if request.method == "GET":
                return Reply(json=item)
            if request.method in ("POST", "PUT", "PATCH"):
                return self._write(kind, request, item_id, authed=bool(auth))
        return _wp_error(404, "rest_no_route", "No route was found matching the URL and method.")

    def _list(self, kind: str, request: Request, *, authed: bool) -> Reply:
        statuses = set(request.query.get("status", "publish").split(","))
        if statuses - {"publish"} and not authed:
            return _wp_error(400, "rest_invalid_param", "Invalid parameter(s): status")
        search = request.query.get("search", "").lower()
        slug = request.query.get("slug", "")
        items = [
            item
            for item in self.wp_items(kind)
            if (item["status"] in statuses or "any" in statuses)
            and (not slug or item["slug"] == slug)
            and (
                not search
                or search in item["title"]["raw"].lower()
                or search in item["content"]["raw"].lower()
            )
        ]
        items.sort(key=lambda item: -item["id"])
        per_page = max(1, min(int(request.query.get("per_page", "10")), 100))
        page = max(1, int(request.query.get("page", "1")))
        shown = items[(page - 1) * per_page : page * per_page]
        return Reply(json=shown, headers={"X-WP-Total": str(len(items))})

    def _write(self, kind: str, request: Request, item_id: int | None, *, authed: bool) -> Reply:
        if not authed:
            return _wp_error(401, "rest_cannot_create", "Sorry, you are not allowed to do that.")
        try:
            data = request.json()
        except (ValueError, json.JSONDecodeError):
            return _wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if item_id is None and not data.get("title"):
            return _wp_error(400, "empty_content", "Content, title, and excerpt are empty.")
        item = self._store(kind, data, item_id)
        if item_id is None and self._crash_next_create:
            with self._lock:
                self._crash_next_create = False
                self._dropping = self._drop_after_crash
            return Reply(action="close")
        return Reply(status=201 if item_id is None else 200, json=item)
