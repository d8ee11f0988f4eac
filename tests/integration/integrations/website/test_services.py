"""Connecting the website (checked before anything is stored) and "check now" against the
website fake: up, down, slow, hung, keyword missing, a redirect into a private address."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db

from integrations.models import Connection, ConnectionStatus
from integrations.services.connections import connection_secret
from integrations.website.services import website_check, website_connect
from orion.core.fakes.server import FakeServer, Reply
from orion.core.fakes.website import APP_PASSWORD, FakeWebsite
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    with FakeWebsite(keyword="Acme Plumbing") as server:
        yield server


def _connect(cast, site, **extra):
    values = {"url": site.url, "health_path": "/", "expected_status": 200, "keyword": "Acme"}
    return website_connect(tenant_id=cast.tenant.pk, actor_user=cast.owner, **{**values, **extra})


def _stored(cast) -> Connection | None:
    return Connection.objects.unscoped().filter(tenant=cast.tenant, kind="website").first()


def test_connect_stores_the_settings_and_the_password_encrypted(cast, site):
    connection = _connect(cast, site, wp_user="editor", wp_app_password=APP_PASSWORD)
    assert connection.config["url"] == site.url
    assert connection.config["wp_user"] == "editor"
    assert APP_PASSWORD not in str(connection.config)
    assert connection_secret(connection) == {"wp_app_password": APP_PASSWORD}
    with db.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_connection WHERE id = %s", [connection.pk])
        assert APP_PASSWORD not in cursor.fetchone()[0]
    assert site.requests[-1].path == "/wp-json/wp/v2/users/me"
    event = AuditEvent.objects.unscoped().get(tenant=cast.tenant, verb="integration.connected")
    assert APP_PASSWORD not in str(event.after)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.10:8080", "private"),
        ("http://169.254.169.254/latest", "metadata"),
        ("http://[::1]:8000/", "this server"),
    ],
)
def test_a_private_address_is_refused_and_nothing_is_stored(cast, url, words):
    before = AuditEvent.objects.unscoped().count()
    with pytest.raises(ValidationError) as refused:
        website_connect(tenant_id=cast.tenant.pk, url=url, actor_user=cast.owner)
    assert words in refused.value.message_dict["url"][0]
    assert _stored(cast) is None
    assert AuditEvent.objects.unscoped().count() == before


def test_localhost_is_refused_when_loopback_is_not_allowed(cast, site, settings):
    settings.ORION_SSRF_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError, match="this server"):
        website_connect(tenant_id=cast.tenant.pk, url=f"http://localhost:{site.port}")
    assert _stored(cast) is None
    assert site.requests == []


def test_wrong_wordpress_credentials_are_refused_and_nothing_is_stored(cast, site):
    with pytest.raises(ValidationError) as refused:
        _connect(cast, site, wp_user="editor", wp_app_password="wrong pass word")
    message = refused.value.message_dict["wp_app_password"][0]
    assert "did not accept the user name and application password" in message
    assert _stored(cast) is None


def test_a_site_without_wordpress_is_refused_when_credentials_are_given(cast):
    with FakeServer() as plain:
        plain.script("GET", "/*", Reply(status=404, json={"code": "rest_no_route"}))
        with pytest.raises(ValidationError, match="No WordPress REST API"):
            website_connect(
                tenant_id=cast.tenant.pk, url=plain.url, wp_user="editor", wp_app_password="x"
            )
    assert _stored(cast) is None


def test_an_update_without_a_password_keeps_the_stored_one(cast, site):
    _connect(cast, site, wp_user="editor", wp_app_password=APP_PASSWORD)
    connection = _connect(cast, site, wp_user="editor", wp_app_password="", keyword="Leaks")
    assert connection.config["keyword"] == "Leaks"
    assert connection_secret(_stored(cast)) == {"wp_app_password": APP_PASSWORD}


def test_a_new_address_needs_the_password_again_and_never_gets_the_stored_one(cast, site):
    """The stored password goes only to the site it was entered for: pointing the
    connection at another address must not hand it to that address."""
    _connect(cast, site, wp_user="editor", wp_app_password=APP_PASSWORD)
    with FakeWebsite(keyword="Acme Plumbing") as other:
        with pytest.raises(ValidationError, match="application password"):
            _connect(cast, other, wp_user="editor", wp_app_password="")
        assert all("Authorization" not in r.headers for r in other.requests)
    assert _stored(cast).config["url"] == site.url


def test_a_new_user_needs_a_password(cast, site):
    _connect(cast, site, wp_user="editor", wp_app_password=APP_PASSWORD)
    with pytest.raises(ValidationError, match="application password"):
        _connect(cast, site, wp_user="someone-else", wp_app_password="")
    assert _stored(cast).config["wp_user"] == "editor"


def test_removing_the_user_deletes_the_password(cast, site):
    _connect(cast, site, wp_user="editor", wp_app_password=APP_PASSWORD)
    _connect(cast, site, wp_user="", wp_app_password="")
    assert connection_secret(_stored(cast)) == {}


def test_check_up(cast, site):
    connection = _connect(cast, site)
    result = website_check(connection=connection)
    assert (result.ok, result.status, result.keyword_found) == (True, 200, True)
    stored = _stored(cast)
    assert stored.last_success_at is not None
    assert stored.config["last_check"]["ok"] is True
    assert stored.config["last_check"]["latency_ms"] >= 0


def test_check_down_records_the_error_in_plain_words(cast, site):
    connection = _connect(cast, site)
    site.down()
    result = website_check(connection=connection)
    assert result.ok is False
    assert result.message == "The website answered 503; 200 was expected."
    stored = _stored(cast)
    assert stored.status == ConnectionStatus.ERROR
    assert stored.last_error == result.message
    site.up()
    assert website_check(connection=stored).ok is True
    assert _stored(cast).status == ConnectionStatus.CONNECTED


def test_check_slow_measures_the_latency(cast, site):
    connection = _connect(cast, site)
    site.slow(0.3)
    result = website_check(connection=connection)
    assert result.ok is True
    assert result.latency_ms >= 300


def test_check_hung_site_times_out(cast, site):
    connection = _connect(cast, site)
    site.hang()
    result = website_check(connection=connection, timeout_s=0.3)
    assert result.ok is False
    assert "did not answer in time" in result.message
    assert _stored(cast).status == ConnectionStatus.ERROR


def test_check_keyword_missing(cast, site):
    connection = _connect(cast, site)
    site.keyword_missing()
    result = website_check(connection=connection)
    assert result.ok is False
    assert result.keyword_found is False
    assert "did not contain “Acme”" in result.message


def test_check_redirect_into_a_private_address_is_refused(cast, site):
    connection = _connect(cast, site)
    site.redirect("http://169.254.169.254/latest/meta-data/")
    result = website_check(connection=connection)
    assert result.ok is False
    assert result.message.startswith("The check was refused:")
    assert "metadata" in _stored(cast).last_error


def test_a_person_check_is_audited(cast, site):
    connection = _connect(cast, site)
    website_check(connection=connection, actor_user=cast.admin)
    event = AuditEvent.objects.unscoped().get(tenant=cast.tenant, verb="integration.checked")
    assert event.after["ok"] is True
