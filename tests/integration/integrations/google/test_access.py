"""The fixed cast on every Google page and endpoint: everyone in the tenant sees the
overview; owners and admins connect, reconnect and disconnect; members and viewers get
403; an outsider acts only in its own company (another tenant's connection is a 404)."""

from __future__ import annotations

import pytest

from integrations.models import Connection
from integrations.services.connections import connection_secret
from orion.core.fakes.server import Reply

from .conftest import CALLBACK, connect, start

pytestmark = pytest.mark.django_db
PAGE = "/integrations/google/"
DISCONNECT = "/integrations/google/disconnect/"
RECONNECT = "/integrations/google/reconnect/"
EDITORS = ["owner", "admin"]
READERS = ["member", "viewer"]


@pytest.fixture
def connected(client_as, cast, google):
    assert connect(client_as("owner"), google).status_code == 302
    google.clear()
    return Connection.objects.unscoped().get(tenant=cast.tenant, kind="google")


def _exists(tenant) -> bool:
    return Connection.objects.unscoped().filter(tenant=tenant, kind="google").exists()


@pytest.mark.parametrize("role", [*EDITORS, *READERS])
def test_everyone_in_the_tenant_sees_the_account_and_scopes(client_as, connected, google, role):
    response = client_as(role).get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert google.email in text
    assert "Gmail: read, search, draft, send and label mail" in text
    assert connection_secret(connected)["refresh_token"] not in text
    assert connection_secret(connected)["access_token"] not in text
    assert ("Disconnect Google" in text) is (role in EDITORS)
    index = client_as(role).get("/integrations/").content.decode()
    assert google.email in index


def test_the_outsider_sees_only_its_own_company(client_as, connected, google):
    response = client_as("outsider").get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert google.email not in text
    assert "Not connected." in text
    assert google.email not in client_as("outsider").get("/integrations/").content.decode()


def test_signed_out_goes_to_login(client, google):
    for method, url in [("get", PAGE), ("post", "/integrations/google/connect/gmail/")]:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", EDITORS)
def test_editors_connect(client_as, cast, google, role):
    assert connect(client_as(role), google).status_code == 302
    assert _exists(cast.tenant)


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_start_a_connect(client_as, cast, google, role):
    client = client_as(role)
    response = start(client)
    assert response.status_code == 403
    assert "Only owners and admins" in response.content.decode()
    assert "orion_google_oauth" not in client.session


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_complete_a_callback(client_as, cast, google, role):
    params = google.consent(start(client_as("owner")).headers["Location"])
    response = client_as(role).get(CALLBACK, params)
    assert response.status_code == 403
    assert not _exists(cast.tenant)
    assert [r for r in google.requests if r.path == "/token"] == []


def test_the_outsider_connects_its_own_company_never_this_one(client_as, cast, google):
    assert connect(client_as("outsider"), google).status_code == 302
    assert _exists(cast.other_tenant)
    assert not _exists(cast.tenant)


def test_an_outsider_cannot_finish_this_companys_consent(client_as, cast, google):
    params = google.consent(start(client_as("owner")).headers["Location"])
    response = client_as("outsider").get(CALLBACK, params)
    assert response.status_code == 400
    assert not _exists(cast.tenant) and not _exists(cast.other_tenant)


def test_an_unknown_product_is_404_and_get_is_not_allowed(client_as, google):
    assert client_as("owner").post("/integrations/google/connect/drive/").status_code == 404
    assert client_as("owner").get("/integrations/google/connect/gmail/").status_code == 405
    assert client_as("owner").get(DISCONNECT).status_code == 405


@pytest.mark.parametrize("role", EDITORS)
def test_editors_disconnect_which_revokes_at_google(client_as, cast, connected, google, role):
    refresh = connection_secret(connected)["refresh_token"]
    response = client_as(role).post(DISCONNECT, {"confirm": "on"})
    assert response.status_code == 302
    assert not _exists(cast.tenant)
    assert google.revocations == [refresh]
    assert google.refresh_tokens[refresh]["revoked"]


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_disconnect(client_as, cast, connected, google, role):
    response = client_as(role).post(DISCONNECT, {"confirm": "on"})
    assert response.status_code == 403
    assert _exists(cast.tenant)
    assert google.revocations == []


def test_the_outsider_cannot_disconnect_this_company(client_as, cast, connected, google):
    response = client_as("outsider").post(DISCONNECT, {"confirm": "on"})
    assert response.status_code == 404
    assert _exists(cast.tenant)
    assert google.revocations == []


def test_disconnect_needs_the_confirmation(client_as, cast, connected, google):
    response = client_as("owner").post(DISCONNECT, {})
    assert response.status_code == 400
    assert "Tick the box to confirm the disconnect." in response.content.decode()
    assert _exists(cast.tenant)
    assert google.revocations == []


def test_when_google_cannot_revoke_nothing_changes(client_as, cast, connected, google):
    google.script("POST", "/revoke", Reply(status=503))
    response = client_as("owner").post(DISCONNECT, {"confirm": "on"})
    assert response.status_code == 502
    assert "Nothing was changed" in response.content.decode()
    assert _exists(cast.tenant)


@pytest.mark.parametrize("role", EDITORS)
def test_editors_reconnect_for_what_was_granted(client_as, connected, google, role):
    response = client_as(role).post(RECONNECT)
    assert response.status_code == 302
    assert "gmail.modify" in response["Location"]


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_reconnect(client_as, connected, google, role):
    assert client_as(role).post(RECONNECT).status_code == 403


def test_the_outsider_cannot_reconnect_this_company(client_as, connected, google):
    assert client_as("outsider").post(RECONNECT).status_code == 404
