"""The consent flow end to end through the portal against the fake Google: state and PKCE,
offline access, incremental scopes, tokens stored encrypted for the tenant; a forged or
replayed state and a declined consent store nothing."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.db import connection as db

from integrations.google.scopes import CALENDAR_EVENTS, CALENDAR_FREEBUSY, GMAIL_MODIFY
from integrations.models import Connection, ConnectionStatus
from integrations.services.connections import connection_secret
from tenants.models import AuditEvent

from .conftest import CALLBACK, connect, query, start

pytestmark = pytest.mark.django_db


def _google_row(tenant):
    return Connection.objects.unscoped().filter(tenant=tenant, kind="google").first()


def _token_calls(google):
    return [r for r in google.requests if r.path == "/token"]


def test_connect_gmail_stores_the_tenants_tokens_encrypted(client_as, cast, google):
    client = client_as("admin")
    response = start(client)
    assert response.status_code == 302
    assert response["Location"].startswith(google.auth_uri)
    asked = query(response["Location"])
    assert asked["client_id"] == google.client_id
    assert asked["redirect_uri"] == "http://testserver" + CALLBACK
    assert asked["access_type"] == "offline"
    assert asked["prompt"] == "consent"
    assert asked["include_granted_scopes"] == "true"
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["state"]) >= 20
    assert GMAIL_MODIFY in asked["scope"].split()
    assert CALENDAR_EVENTS not in asked["scope"]

    back = client.get(CALLBACK, google.consent(response["Location"]))
    assert back.status_code == 302
    assert back["Location"] == "/integrations/google/"

    row = _google_row(cast.tenant)
    assert row.status == ConnectionStatus.CONNECTED
    assert row.config["email"] == google.email
    assert row.config["products"] == ["gmail"]
    assert GMAIL_MODIFY in row.config["scopes"]
    secret = connection_secret(row)
    assert secret["refresh_token"] in google.refresh_tokens
    assert secret["access_token"] in google.access_tokens
    with db.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_connection WHERE id = %s", [row.pk])
        stored = cursor.fetchone()[0]
    assert secret["refresh_token"] not in stored
    assert secret["access_token"] not in stored
    # The token request proved the PKCE verifier behind the challenge.
    (exchange,) = _token_calls(google)
    verifier = exchange.form()["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge.decode() == asked["code_challenge"]
    assert _google_row(cast.other_tenant) is None
    audit = AuditEvent.objects.unscoped().get(tenant=cast.tenant, verb="integration.connected")
    assert audit.actor_user == cast.admin
    assert secret["refresh_token"] not in json.dumps(audit.after)


def test_calendar_is_asked_for_later_and_adds_to_what_was_granted(client_as, cast, google):
    client = client_as("owner")
    connect(client, google, "gmail")
    response = start(client, "calendar")
    scopes = query(response["Location"])["scope"].split()
    assert CALENDAR_EVENTS in scopes and CALENDAR_FREEBUSY in scopes
    assert GMAIL_MODIFY not in scopes  # incremental: only what is new
    assert query(response["Location"])["login_hint"] == google.email
    client.get(CALLBACK, google.consent(response["Location"]))
    row = _google_row(cast.tenant)
    assert row.config["products"] == ["gmail", "calendar"]
    assert {GMAIL_MODIFY, CALENDAR_EVENTS, CALENDAR_FREEBUSY} <= set(row.config["scopes"])
    page = client.get("/integrations/google/").content.decode()
    assert "Calendar: see, create and change events" in page
    assert "Gmail: read, search, draft, send and label mail" in page
    assert connection_secret(row)["refresh_token"] not in page


def test_a_forged_state_stores_nothing(client_as, cast, google):
    client = client_as("owner")
    response = start(client)
    params = google.consent(response["Location"])
    back = client.get(CALLBACK, {**params, "state": "forged-state"})
    assert back.status_code == 400
    assert "not valid any more" in back.content.decode()
    assert _google_row(cast.tenant) is None
    assert _token_calls(google) == []
    # The real state was dropped with the attempt: it cannot be used afterwards either.
    assert client.get(CALLBACK, params).status_code == 400
    assert _google_row(cast.tenant) is None


def test_a_replayed_callback_is_refused(client_as, cast, google):
    client = client_as("owner")
    response = start(client)
    params = google.consent(response["Location"])
    assert client.get(CALLBACK, params).status_code == 302
    before = connection_secret(_google_row(cast.tenant))
    again = client.get(CALLBACK, params)
    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert connection_secret(_google_row(cast.tenant)) == before
    assert len(_token_calls(google)) == 1


def test_a_callback_from_another_session_is_refused(client_as, cast, google):
    response = start(client_as("owner"))
    params = google.consent(response["Location"])
    back = client_as("admin").get(CALLBACK, params)
    assert back.status_code == 400
    assert _google_row(cast.tenant) is None
    assert _token_calls(google) == []


def test_declined_consent_says_so_and_stores_nothing(client_as, cast, google):
    back = connect(client_as("owner"), google, allow=False)
    assert back.status_code == 400
    assert "Access to Gmail was declined at Google. Nothing was connected." in back.content.decode()
    assert _google_row(cast.tenant) is None
    assert _token_calls(google) == []


def test_unticking_the_product_at_google_stores_nothing(client_as, cast, google):
    back = connect(client_as("owner"), google, "calendar", scopes=["openid"])
    assert back.status_code == 400
    assert "did not grant access to Google Calendar" in back.content.decode()
    assert _google_row(cast.tenant) is None


def test_a_code_google_refuses_stores_nothing(client_as, cast, google):
    client = client_as("owner")
    response = start(client)
    params = google.consent(response["Location"])
    google.codes.clear()  # the code expired at Google
    back = client.get(CALLBACK, params)
    assert back.status_code == 400
    assert "Google refused the sign-in (invalid_grant)" in back.content.decode()
    assert _google_row(cast.tenant) is None


def test_without_an_oauth_client_connect_explains(client_as, cast, google, settings):
    settings.ORION_GOOGLE_CLIENT_ID = ""
    response = start(client_as("owner"))
    assert response.status_code == 503
    assert "not set up on this server" in response.content.decode()
