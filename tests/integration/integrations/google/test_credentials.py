"""Access tokens refreshed before they expire; a revoked grant (invalid_grant) or a refused
token marks the connection needs_reconnect with a prompt; a product not granted asks for
that product; Google's limit on the refresh token's life shows as expiring."""

from __future__ import annotations

import json
import time

import pytest

from agents.tools import ToolError
from integrations.google.scopes import PRODUCTS
from integrations.models import Connection, ConnectionStatus
from integrations.services.connections import connection_secret
from orion.core.fakes.server import Reply

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _row(cast) -> Connection:
    return Connection.objects.unscoped().get(tenant=cast.tenant, kind="google")


def _expire_soon(cast, seconds: float = 60) -> None:
    row = _row(cast)
    secret = {**connection_secret(row), "expires_at": time.time() + seconds}
    Connection.objects.unscoped().filter(pk=row.pk).update(secret=json.dumps(secret))


def _refreshes(google):
    return [
        r
        for r in google.requests
        if r.path == "/token" and r.form()["grant_type"] == "refresh_token"
    ]


def test_a_fresh_token_is_used_as_is(cast, google, gmail_connected, call_tool):
    assert call_tool("gmail_search", {"query": "invoice"}) == []
    assert _refreshes(google) == []
    assert _row(cast).last_success_at is not None


def test_a_token_about_to_expire_is_refreshed_first_and_stored(
    cast, google, gmail_connected, call_tool
):
    old = connection_secret(_row(cast))
    _expire_soon(cast)
    google.add_message(subject="Invoice 42", body="Please pay.")
    found = call_tool("gmail_search", {"query": "invoice"})
    assert [m["subject"] for m in found] == ["Invoice 42"]
    (refresh,) = _refreshes(google)
    assert refresh.form()["refresh_token"] == old["refresh_token"]
    new = connection_secret(_row(cast))
    assert new["access_token"] != old["access_token"]
    assert new["access_token"] in google.access_tokens
    assert new["expires_at"] > time.time() + 3000
    assert new["refresh_token"] == old["refresh_token"]
    api_calls = [r for r in google.requests if r.path.startswith("/gmail/")]
    assert {r.headers["authorization"] for r in api_calls} == {f"Bearer {new['access_token']}"}
    call_tool("gmail_search", {"query": "invoice"})
    assert len(_refreshes(google)) == 1  # the stored token is reused


def test_a_revoked_grant_needs_reconnecting(
    durable_rows, cast, client_as, google, gmail_connected, call_tool
):
    google.revoke_all()
    _expire_soon(cast)
    with pytest.raises(ToolError, match=r"revoked or has expired.*reconnect Google"):
        call_tool("gmail_search", {"query": "x"})
    row = _row(cast)
    assert row.status == ConnectionStatus.NEEDS_RECONNECT
    assert "reconnect Google" in row.last_error
    assert [r for r in google.requests if r.path.startswith("/gmail/")] == []
    with pytest.raises(ToolError, match="Google needs reconnecting"):
        call_tool("gmail_search", {"query": "x"})
    assert len(_refreshes(google)) == 1  # no more hammering of the token endpoint
    page = client_as("owner").get("/integrations/google/").content.decode()
    assert "Reconnect Google" in page
    assert "revoked or has expired" in page
    viewer_page = client_as("viewer").get("/integrations/google/").content.decode()
    assert "Ask an owner or admin to reconnect Google." in viewer_page
    index = client_as("viewer").get("/integrations/").content.decode()
    assert "Google needs reconnecting: ask an owner or admin." in index
    assert 'data-status="needs_reconnect"' in index
    # Reconnecting brings it back.
    client = client_as("owner")
    response = client.post("/integrations/google/reconnect/")
    params = google.consent(response["Location"])
    assert client.get("/integrations/google/callback/", params).status_code == 302
    assert _row(cast).status == ConnectionStatus.CONNECTED
    assert call_tool("gmail_search", {"query": "x"}) == []


def test_a_token_refused_by_the_api_needs_reconnecting(
    durable_rows, cast, google, gmail_connected, call_tool
):
    google.expire_access_tokens()  # Google dropped it although we think it is valid
    with pytest.raises(ToolError, match="Google refused Orion's access to Gmail"):
        call_tool("gmail_search", {"query": "x"})
    assert _row(cast).status == ConnectionStatus.NEEDS_RECONNECT


def test_a_tool_needing_calendar_asks_for_calendar(
    cast, client_as, google, gmail_connected, call_tool
):
    with pytest.raises(
        ToolError, match=r"Google Calendar access was not granted.*connect Google Calendar"
    ):
        call_tool("calendar_list_events", {"time_min": "2030-01-01T00:00:00Z"})
    assert google.requests == []
    page = client_as("owner").get("/integrations/google/").content.decode()
    assert "Reconnect to allow Google Calendar" in page


def test_not_connected_says_so(cast, google, call_tool):
    with pytest.raises(ToolError, match="Gmail is not connected for this company"):
        call_tool("gmail_send", {"to": "a@b.test", "subject": "s", "body": "b"})


def test_a_time_limited_grant_shows_expiring(cast, client_as, google, call_tool):
    google.refresh_token_expires_in = 2 * 24 * 3600
    connect(client_as("owner"), google)
    row = _row(cast)
    assert row.status == ConnectionStatus.EXPIRING
    assert "Google access ends on" in row.last_error
    call_tool("gmail_search", {"query": "x"})
    assert _row(cast).status == ConnectionStatus.EXPIRING  # a success does not hide it
    assert "Reconnect Google" in client_as("owner").get("/integrations/google/").content.decode()


def test_a_scope_google_says_is_missing_asks_to_reconnect_for_it(
    durable_rows, cast, google, gmail_connected, call_tool
):
    row = _row(cast)  # the stored list says Calendar, the token Google holds does not
    config = {**row.config, "scopes": [*row.config["scopes"], *PRODUCTS["calendar"]]}
    Connection.objects.unscoped().filter(pk=row.pk).update(config=config)
    with pytest.raises(ToolError, match=r"Google Calendar access was not granted at Google"):
        call_tool("calendar_list_events", {"time_min": "2030-01-01T00:00:00Z"})
    row = _row(cast)
    assert row.status == ConnectionStatus.NEEDS_RECONNECT
    assert "allow Google Calendar" in row.last_error


def test_an_outage_is_an_error_in_plain_words_until_the_next_success(
    durable_rows, cast, google, gmail_connected, call_tool
):
    google.fail_once(
        "GET",
        "/gmail/v1/users/me/messages",
        Reply(status=503, json={"error": {"code": 503, "message": "Backend Error"}}),
    )
    with pytest.raises(ToolError, match=r"Gmail is busy or failing \(503\); try later"):
        call_tool("gmail_search", {"query": "x"})
    row = _row(cast)
    assert row.status == ConnectionStatus.ERROR
    assert row.last_error == "Gmail answered 503 to the search."
    assert call_tool("gmail_search", {"query": "x"}) == []
    row = _row(cast)
    assert row.status == ConnectionStatus.CONNECTED
    assert row.last_error == ""


def test_two_workers_refreshing_at_once_refresh_once(durable_rows, cast, google, gmail_connected):
    """The refresh runs under the connection's row lock: the second worker waits, then
    reads the token the first one stored instead of refreshing again."""
    import threading

    from django.db import connections

    from integrations.google.credentials import google_access
    from orion.core.rows import independent_close

    _expire_soon(cast)
    google.token_delay = 0.3
    tokens, errors = [], []

    def worker() -> None:
        try:
            tokens.append(google_access(tenant_id=cast.tenant.pk, product="gmail").token)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            independent_close()
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(_refreshes(google)) == 1
    assert len(set(tokens)) == 1 and tokens[0] == connection_secret(_row(cast))["access_token"]


def test_a_refused_oauth_client_is_staffs_problem_not_a_reconnect(
    durable_rows, cast, google, gmail_connected, call_tool, settings
):
    settings.ORION_GOOGLE_CLIENT_SECRET = "rotated-but-not-updated"
    _expire_soon(cast)
    with pytest.raises(ToolError, match=r"Orion staff must fix the Google client settings"):
        call_tool("gmail_search", {"query": "x"})
    row = _row(cast)
    assert row.status == ConnectionStatus.ERROR
    assert "invalid_client" in row.last_error


def test_a_disabled_connection_is_not_used(cast, google, gmail_connected, call_tool):
    Connection.objects.unscoped().filter(pk=_row(cast).pk).update(status=ConnectionStatus.DISABLED)
    with pytest.raises(ToolError, match=r"Google is disabled for this company"):
        call_tool("gmail_send", {"to": "a@b.test", "subject": "s", "body": "b"})
    assert google.requests == []
    assert _row(cast).status == ConnectionStatus.DISABLED


def test_tokens_never_show_in_a_repr(cast, google, gmail_connected):
    """A repr lands in tracebacks, error reports and logs: the tokens must not be in it."""
    from integrations.google.credentials import google_access
    from integrations.google.oauth import Grant

    secret = connection_secret(_row(cast))
    access = google_access(tenant_id=cast.tenant.pk, product="gmail")
    assert access.token == secret["access_token"]
    assert secret["access_token"] not in repr(access)
    grant = Grant(
        access_token=secret["access_token"],
        refresh_token=secret["refresh_token"],
        expires_at=secret["expires_at"],
        refresh_expires_at=None,
        scopes=("openid",),
        email="office@acme-mail.test",
    )
    assert secret["access_token"] not in repr(grant)
    assert secret["refresh_token"] not in repr(grant)
    assert "office@acme-mail.test" in repr(grant)
