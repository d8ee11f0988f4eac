"""A small WordPress REST client (`/wp-json/wp/v2/`) over the SSRF-guarded httpx client.

Authentication is an application password (Users → Profile → Application Passwords) sent
as HTTP Basic auth. Every failure is a `WordPressError` whose text a customer or a model
can act on; wrong credentials are the subclass `WordPressAuthError`. An unsafe address
raises the guard's `UnsafeURL` as is.
"""

from __future__ import annotations

from typing import Any

import httpx

from orion.core.ssrf import Fetched, FetchError, Resolver, guarded_client, guarded_request

KINDS = ("posts", "pages")
MAX_BYTES = 1024 * 1024
_ODD = "WordPress's answer was not what WordPress sends (is this a WordPress site?)."


class WordPressError(Exception):
    """WordPress refused or could not be reached; `str()` says so in plain words."""


class WordPressAuthError(WordPressError):
    """WordPress did not accept the user name and application password."""


class WordPressUnreachable(WordPressError):
    """No answer (network error, timeout, dropped connection): a write may have landed."""


class WordPressClient:
    def __init__(
        self, *, base_url: str, user: str, app_password: str, resolver: Resolver | None = None
    ) -> None:
        self.api = base_url.rstrip("/") + "/wp-json/wp/v2/"
        self._client: httpx.Client = guarded_client(
            resolver=resolver, auth=(user, app_password) if user else None
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WordPressClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        route: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        try:
            fetched = guarded_request(
                method,
                self.api + route,
                client=self._client,
                params=params,
                json=body,
                max_bytes=MAX_BYTES,
            )
        except FetchError as exc:
            raise WordPressUnreachable(f"WordPress could not be reached: {exc}") from exc
        return _answer(fetched)

    def me(self) -> dict[str, Any]:
        """The signed-in user: the credentials check."""
        return _one(self._call("GET", "users/me", params={"context": "edit"}))

    def items(
        self,
        kind: str,
        *,
        search: str = "",
        status: str = "publish",
        slug: str = "",
        per_page: int = 10,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"status": status, "per_page": per_page}
        if search:
            params["search"] = search
        if slug:
            params["slug"] = slug
        found = self._call("GET", _kind(kind), params=params)
        if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
            raise WordPressError(_ODD)
        return found

    def item(self, kind: str, item_id: int) -> dict[str, Any]:
        return _one(self._call("GET", f"{_kind(kind)}/{int(item_id)}", params={"context": "edit"}))

    def create(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        return _one(self._call("POST", _kind(kind), body=fields))

    def update(self, kind: str, item_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        return _one(self._call("POST", f"{_kind(kind)}/{int(item_id)}", body=fields))


def _one(data: Any) -> dict[str, Any]:
    """One object, as WordPress answers for a user, a post or a page."""
    if not isinstance(data, dict):
        raise WordPressError(_ODD)
    return data


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise WordPressError(f"Unknown content type {kind!r}: use posts or pages.")
    return kind


def _answer(fetched: Fetched) -> Any:
    try:
        data = fetched.json()
    except ValueError:
        data = None
    if fetched.status in (401, 403):
        raise WordPressAuthError(
            "WordPress did not accept the user name and application password "
            f"({_message(data) or fetched.status})."
        )
    if fetched.status == 404 and isinstance(data, dict) and data.get("code") == "rest_no_route":
        raise WordPressError("No WordPress REST API was found at this address.")
    if fetched.status >= 400:
        raise WordPressError(f"WordPress answered {fetched.status}: {_message(data) or 'error'}.")
    if data is None or fetched.truncated:
        raise WordPressError(
            "WordPress's answer was not readable JSON (is this a WordPress site?)."
        )
    return data


def _message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"].rstrip(".")
    return ""
