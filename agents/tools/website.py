"""Website tools: read a page of the tenant's site (through the SSRF guard), list and read
WordPress posts and pages, draft a post, update one.

The writes are idempotent on the tool call's key: an ExternalAction row is committed as
`started` before the request leaves. A draft carries a slug derived from the key, so a
re-run that finds its action still started (or unknown) first asks WordPress for that
slug and only creates when nothing landed; an update sets the same fields again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.text import slugify

from agents.tools.registry import Tool, ToolContext, ToolError, tool_register
from integrations.models import ActionStatus, Connection, ConnectionKind, ConnectionStatus
from integrations.selectors import connection_get
from integrations.services.actions import action_begin, action_finish
from integrations.services.connections import (
    connection_record_error,
    connection_record_success,
    connection_secret,
)
from integrations.website.text import html_text
from integrations.website.wordpress import (
    KINDS,
    WordPressAuthError,
    WordPressClient,
    WordPressError,
    WordPressUnreachable,
)
from orion.core.ssrf import DEADLINE_S, FetchError, UnsafeURL, guarded_request

PAGE_CHARS = 6000
CONTENT_CHARS = 8000
# A started (or unknown) action younger than this may still have its request in flight.
SETTLE = timedelta(seconds=2 * DEADLINE_S)
_IN_DOUBT = (ActionStatus.STARTED, ActionStatus.UNKNOWN)
NOT_CONNECTED = (
    "The website is not connected: an owner or admin can connect it on the Integrations page."
)
NO_WORDPRESS = (
    "WordPress is not connected: an owner or admin can add a WordPress user and application "
    "password on the Integrations page."
)


def _site(ctx: ToolContext) -> Connection:
    connection = connection_get(tenant_id=ctx.agent.tenant_id, kind=ConnectionKind.WEBSITE)
    if connection is None or connection.status == ConnectionStatus.DISABLED:
        raise ToolError(NOT_CONNECTED)
    return connection


def _wordpress(ctx: ToolContext) -> tuple[Connection, str]:
    """The website connection and its WordPress application password (decrypted once),
    when it has WordPress credentials."""
    connection = _site(ctx)
    user = connection.config.get("wp_user")
    password = connection_secret(connection).get("wp_app_password", "") if user else ""
    if not password:
        raise ToolError(NO_WORDPRESS)
    return connection, password


def _client(connection: Connection, password: str) -> WordPressClient:
    return WordPressClient(
        base_url=connection.config["url"],
        user=connection.config["wp_user"],
        app_password=password,
    )


def _refused(connection: Connection, exc: Exception) -> ToolError:
    """The ToolError for a failed WordPress call, recording wrong credentials (on their own
    connection: the agent loop rolls the refused tool's writes back)."""
    if isinstance(exc, WordPressAuthError):
        connection_record_error(
            durable=True,
            connection_id=connection.pk,
            error=str(exc),
            status=ConnectionStatus.NEEDS_RECONNECT,
        )
        return ToolError(
            f"{exc} An owner or admin must enter a new application password on the "
            "Integrations page."
        )
    if isinstance(exc, UnsafeURL):
        return ToolError(f"The website's address was refused: {exc}")
    return ToolError(str(exc))


def _text(value: Any) -> str:
    """A WordPress text field: {"raw", "rendered"} from the API, a plain string from some
    plugins."""
    if isinstance(value, dict):
        return str(value.get("raw") or value.get("rendered") or "")
    return str(value or "")


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item.get("id"),
        "title": _text(item.get("title")),
        "status": item.get("status"),
        "slug": item.get("slug"),
        "link": item.get("link"),
        "modified": item.get("modified"),
    }


def _kind(args: dict[str, Any]) -> str:
    kind = args.get("kind", "posts")
    if kind not in KINDS:
        raise ToolError("kind must be posts or pages")
    return kind


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # e.g. an unclosed [ipv6 literal
        return None


def read_page(ctx: ToolContext, args: dict[str, Any]) -> str:
    """A page of the tenant's own site, as text."""
    connection = _site(ctx)
    base = connection.config["url"].rstrip("/")
    target = args.get("path") or "/"
    if target.startswith("/") and not target.startswith("//"):
        url = base + target
    elif _hostname(target) == urlsplit(base).hostname:
        url = target
    else:
        raise ToolError(f"Only pages of {base} can be read: pass a path like /about.")
    try:
        fetched = guarded_request("GET", url, max_bytes=1024 * 1024)
    except UnsafeURL as exc:
        raise ToolError(f"The address was refused: {exc}") from exc
    except FetchError as exc:
        raise ToolError(str(exc)) from exc
    kind = fetched.headers.get("content-type", "")
    if "html" in kind or not kind:
        title, text, truncated = html_text(fetched.text, limit=PAGE_CHARS)
    else:
        title, text, truncated = "", fetched.text[:PAGE_CHARS], len(fetched.text) > PAGE_CHARS
    return json.dumps(
        {
            "url": fetched.url,
            "status": fetched.status,
            "title": title,
            "text": text,
            "truncated": truncated or fetched.truncated,
        }
    )


def list_items(ctx: ToolContext, args: dict[str, Any]) -> str:
    connection, password = _wordpress(ctx)
    per_page = min(max(int(args.get("limit", 10)), 1), 50)
    with _client(connection, password) as client:
        try:
            items = client.items(
                _kind(args),
                search=args.get("search", ""),
                status=args.get("status", "any"),
                per_page=per_page,
            )
        except (WordPressError, UnsafeURL) as exc:
            raise _refused(connection, exc) from exc
    connection_record_success(connection_id=connection.pk)
    return json.dumps([_summary(item) for item in items])


def read_item(ctx: ToolContext, args: dict[str, Any]) -> str:
    connection, password = _wordpress(ctx)
    with _client(connection, password) as client:
        try:
            item = client.item(_kind(args), args["id"])
        except (WordPressError, UnsafeURL) as exc:
            raise _refused(connection, exc) from exc
    content = _text(item.get("content"))
    return json.dumps(
        {
            **_summary(item),
            "content": content[:CONTENT_CHARS],
            "truncated": len(content) > CONTENT_CHARS,
        }
    )


def draft_slug(key: str, title: str) -> str:
    """The draft's slug: the title's, then a digest of the call key (the re-run's marker)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"{slugify(title)[:60].strip('-') or 'draft'}-o{digest}"


def _action_key(ctx: ToolContext, verb: str) -> str:
    if not ctx.call_key:
        raise ToolError(f"{verb}: this call has no idempotency key, so it was not sent.")
    return f"wordpress.{verb}:{ctx.call_key}"


def _landed(client: WordPressClient, kind: str, slug: str) -> dict[str, Any] | None:
    found = client.items(kind, slug=slug, status="any", per_page=1)
    return found[0] if found else None


def draft_post(ctx: ToolContext, args: dict[str, Any]) -> str:
    kind = _kind(args)
    title = args["title"].strip()
    if not title:
        raise ToolError("title must not be empty")
    connection, password = _wordpress(ctx)
    key = _action_key(ctx, "draft")
    slug = draft_slug(key, title)
    action, created = action_begin(tenant_id=ctx.agent.tenant_id, key=key, kind="wordpress.draft")
    if action.status == ActionStatus.DONE:
        return json.dumps({**action.result, "note": "already drafted by this call"})
    with _client(connection, password) as client:
        try:
            if not created:
                item = _landed(client, kind, slug)
                if item is not None:
                    return _drafted(action.pk, item, connection)
                last_try = action.finished_at or action.created_at
                if action.status in _IN_DOUBT and timezone.now() - last_try < SETTLE:
                    raise ToolError(
                        "An earlier attempt of this draft may still be under way; call again "
                        "in a minute (it will be checked, not drafted twice)."
                    )
            fields = {
                "title": title,
                "content": args.get("content", ""),
                "status": "draft",
                "slug": slug,
            }
            try:
                item = client.create(kind, fields)
            except WordPressUnreachable:
                item = _landed(client, kind, slug)
                if item is None:
                    raise
            return _drafted(action.pk, item, connection)
        except WordPressUnreachable as exc:
            action_finish(action_id=action.pk, status=ActionStatus.UNKNOWN, error=str(exc))
            raise ToolError(
                f"{exc} It is not known whether the draft was saved; calling again checks "
                "WordPress first and never drafts twice."
            ) from exc
        except (WordPressError, UnsafeURL) as exc:
            action_finish(action_id=action.pk, status=ActionStatus.FAILED, error=str(exc))
            raise _refused(connection, exc) from exc


def _drafted(action_id: int, item: dict[str, Any], connection: Connection) -> str:
    result = _summary(item)
    action_finish(action_id=action_id, status=ActionStatus.DONE, result=result)
    connection_record_success(connection_id=connection.pk)
    return json.dumps(result)


def update_post(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Set the given fields; setting them again is harmless, so a re-run simply repeats."""
    kind = _kind(args)
    fields = {k: args[k] for k in ("title", "content", "excerpt") if k in args}
    if not fields:
        raise ToolError("nothing to change: pass title, content or excerpt")
    connection, password = _wordpress(ctx)
    key = _action_key(ctx, "update")
    action, _ = action_begin(tenant_id=ctx.agent.tenant_id, key=key, kind="wordpress.update")
    if action.status == ActionStatus.DONE:
        return json.dumps({**action.result, "note": "already updated by this call"})
    with _client(connection, password) as client:
        try:
            item = client.update(kind, args["id"], fields)
        except WordPressUnreachable as exc:
            action_finish(action_id=action.pk, status=ActionStatus.UNKNOWN, error=str(exc))
            raise ToolError(f"{exc} Calling again repeats the same change.") from exc
        except (WordPressError, UnsafeURL) as exc:
            action_finish(action_id=action.pk, status=ActionStatus.FAILED, error=str(exc))
            raise _refused(connection, exc) from exc
    result = _summary(item)
    action_finish(action_id=action.pk, status=ActionStatus.DONE, result=result)
    connection_record_success(connection_id=connection.pk)
    return json.dumps(result)


_KIND = {"type": "string", "enum": list(KINDS), "description": "default: posts"}

for _tool in (
    Tool(
        "website_read_page",
        "Read a page of the company's website as text (pass its path, e.g. /about).",
        {"type": "object", "properties": {"path": {"type": "string"}}},
        read_page,
    ),
    Tool(
        "wordpress_list",
        "List WordPress posts or pages (newest first), optionally searching their text.",
        {
            "type": "object",
            "properties": {
                "kind": _KIND,
                "search": {"type": "string"},
                "status": {"type": "string", "enum": ["publish", "draft", "pending", "any"]},
                "limit": {"type": "integer"},
            },
        },
        list_items,
    ),
    Tool(
        "wordpress_read",
        "Read one WordPress post or page by id (its content as HTML).",
        {
            "type": "object",
            "properties": {"kind": _KIND, "id": {"type": "integer"}},
            "required": ["id"],
        },
        read_item,
    ),
    Tool(
        "wordpress_draft",
        "Save a new WordPress post (or page) as a draft for a person to review and publish.",
        {
            "type": "object",
            "properties": {
                "kind": _KIND,
                "title": {"type": "string"},
                "content": {"type": "string", "description": "HTML"},
            },
            "required": ["title"],
        },
        draft_post,
    ),
    Tool(
        "wordpress_update",
        "Change the title, content or excerpt of a WordPress post or page (its status stays).",
        {
            "type": "object",
            "properties": {
                "kind": _KIND,
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "content": {"type": "string", "description": "HTML"},
                "excerpt": {"type": "string"},
            },
            "required": ["id"],
        },
        update_post,
    ),
):
    tool_register(_tool)
