"""The website pages with the fixed cast: owners and admins connect, check and disconnect;
members and viewers get 403; an outsider never reaches this tenant's connection (404)."""

from __future__ import annotations

import pytest

from integrations.models import Connection
from integrations.website.services import website_connect
from orion.core.fakes.website import APP_PASSWORD, FakeWebsite

pytestmark = pytest.mark.django_db
PAGE = "/integrations/website/"
CHECK = "/integrations/website/check/"
DISCONNECT = "/integrations/website/disconnect/"
EDITORS = ["owner", "admin"]
READERS = ["member", "viewer"]


@pytest.fixture
def site():
    with FakeWebsite(keyword="Acme Plumbing") as server:
        yield server


@pytest.fixture
def connected(cast, site):
    return website_connect(
        tenant_id=cast.tenant.pk,
        url=site.url,
        keyword="Acme",
        wp_user="editor",
        wp_app_password=APP_PASSWORD,
    )


def _form(site, **extra) -> dict:
    return {
        "url": site.url,
        "health_path": "/",
        "expected_status": "200",
        "keyword": "Acme",
        "wp_user": "",
        "wp_app_password": "",
        **extra,
    }


def _website(tenant) -> Connection | None:
    return Connection.objects.unscoped().filter(tenant=tenant, kind="website").first()


@pytest.mark.parametrize("role", EDITORS)
def test_editors_see_the_form_never_the_password(client_as, connected, role):
    response = client_as(role).get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert connected.config["url"] in text
    assert APP_PASSWORD not in text
    assert "An application password for editor is stored." in text


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_open_the_settings(client_as, connected, role):
    response = client_as(role).get(PAGE)
    assert response.status_code == 403
    assert "Only owners and admins" in response.content.decode()


def test_outsider_sees_its_own_empty_form_not_this_tenant(client_as, connected):
    response = client_as("outsider").get(PAGE)
    assert response.status_code == 200
    assert connected.config["url"] not in response.content.decode()


@pytest.mark.parametrize("role", EDITORS)
def test_editors_connect(client_as, cast, site, role):
    response = client_as(role).post(
        PAGE, _form(site, wp_user="editor", wp_app_password=APP_PASSWORD)
    )
    assert response.status_code == 302
    stored = _website(cast.tenant)
    assert stored.config["url"] == site.url
    assert stored.config["wp_user"] == "editor"


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_connect(client_as, cast, site, role):
    response = client_as(role).post(PAGE, _form(site))
    assert response.status_code == 403
    assert _website(cast.tenant) is None
    assert site.requests == []


def test_outsider_connects_only_its_own_tenant(client_as, cast, site, connected):
    response = client_as("outsider").post(PAGE, _form(site, keyword="Globex"))
    assert response.status_code == 302
    assert _website(cast.tenant).config["keyword"] == "Acme"
    assert _website(cast.other_tenant).config["keyword"] == "Globex"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://10.0.0.1/", "private or reserved network address"),
        ("http://169.254.169.254/", "cloud metadata address"),
        ("http://[::1]/", "this server itself"),
    ],
)
def test_a_private_address_is_a_form_error_and_nothing_is_stored(client_as, cast, site, url, words):
    response = client_as("owner").post(PAGE, _form(site, url=url))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was saved" in text
    assert words in text
    assert _website(cast.tenant) is None


def test_wrong_wordpress_credentials_are_a_form_error_and_nothing_is_stored(client_as, cast, site):
    response = client_as("owner").post(
        PAGE, _form(site, wp_user="editor", wp_app_password="nope nope nope")
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "did not accept the user name and application password" in text
    assert "nope nope nope" not in text
    assert _website(cast.tenant) is None


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"url": ""}, "This field is required"),
        ({"url": "ftp://example.com"}, "Only http:// and https://"),
        ({"url": "not a url"}, "Enter a valid URL"),
        ({"url": "https://user:pw@example.com"}, "Leave the user name and password out"),
        ({"health_path": "health"}, "starts with /"),
        ({"expected_status": "99"}, "greater than or equal to 100"),
        ({"wp_app_password": "secret"}, "Enter the WordPress user name"),
    ],
)
def test_bad_input_is_a_form_error(client_as, cast, site, extra, words):
    response = client_as("admin").post(PAGE, _form(site, **extra))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert _website(cast.tenant) is None


@pytest.mark.parametrize("role", EDITORS)
def test_editors_check_now(client_as, cast, site, connected, role):
    site.down()
    response = client_as(role).post(CHECK, follow=True)
    assert response.status_code == 200
    assert "The website answered 503; 200 was expected." in response.content.decode()
    assert _website(cast.tenant).config["last_check"]["status"] == 503


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_check(client_as, cast, site, connected, role):
    site.clear()
    response = client_as(role).post(CHECK)
    assert response.status_code == 403
    assert site.requests == []
    assert "last_check" not in _website(cast.tenant).config


def test_outsider_check_is_404_and_does_not_touch_this_tenant(client_as, cast, site, connected):
    site.clear()
    response = client_as("outsider").post(CHECK)
    assert response.status_code == 404
    assert site.requests == []


@pytest.mark.parametrize("role", EDITORS)
def test_editors_disconnect(client_as, cast, connected, role):
    response = client_as(role).post(DISCONNECT)
    assert response.status_code == 302
    assert _website(cast.tenant) is None


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_disconnect(client_as, cast, connected, role):
    assert client_as(role).post(DISCONNECT).status_code == 403
    assert _website(cast.tenant) is not None


def test_outsider_disconnect_is_404_and_this_tenant_keeps_its_site(client_as, cast, connected):
    assert client_as("outsider").post(DISCONNECT).status_code == 404
    assert _website(cast.tenant) is not None


def test_disconnect_twice_is_404(client_as, connected):
    assert client_as("owner").post(DISCONNECT).status_code == 302
    assert client_as("owner").post(DISCONNECT).status_code == 404


def test_check_is_post_only(client_as, connected):
    assert client_as("owner").get(CHECK).status_code == 405


@pytest.mark.parametrize(
    ("role", "status"),
    [*((r, 200) for r in EDITORS), ("member", 403), ("viewer", 403), ("outsider", 404)],
)
def test_disconnect_asks_to_confirm_first(client_as, cast, connected, role, status):
    response = client_as(role).get(DISCONNECT)
    assert response.status_code == status
    assert (f"Disconnect {connected.config['url']}?" in response.content.decode()) is (
        status == 200
    )
    assert _website(cast.tenant) is not None


@pytest.mark.parametrize("path", [PAGE, CHECK, DISCONNECT])
def test_signed_out_goes_to_login(client, path):
    response = client.post(path)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("role", "buttons"), [("owner", True), ("admin", True), ("viewer", False)])
def test_the_card_shows_the_site_and_buttons_only_to_editors(client_as, connected, role, buttons):
    text = client_as(role).get("/integrations/").content.decode()
    assert connected.config["url"] in text
    assert APP_PASSWORD not in text
    assert (CHECK in text) is buttons
