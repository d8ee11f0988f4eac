"""Each messaging kind's page with the fixed cast: everyone in the tenant sees it, owners
and admins connect, change and disconnect; secrets never come back; bad input is said
under its field and nothing is stored."""

from __future__ import annotations

import pytest

from integrations.models import ConnectionStatus
from integrations.services.connections import connection_record_error, connection_secret
from tenants.models import AuditEvent

from .conftest import SECRETS, TG_TOKEN, connect, discord_url, stored, text

pytestmark = pytest.mark.django_db
KINDS = ["telegram", "discord", "slack", "email"]


def page(kind: str) -> str:
    return f"/integrations/{kind}/"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_managers_connect_every_kind_and_never_see_the_secret_again(
    client_as, cast, valid, kind, role
):
    client = client_as(role)
    assert "<form" in text(client.get(page(kind)))
    response = client.post(page(kind), valid[kind])
    assert response.status_code == 302 and response["Location"] == page(kind)
    connection = stored(cast.tenant, kind)
    assert connection.status == ConnectionStatus.CONNECTED
    event = AuditEvent.objects.unscoped().get(tenant=cast.tenant, verb="integration.connected")
    assert event.actor_user == cast.user(role)
    shown = text(client.get(page(kind), follow=True)) + text(client.get("/integrations/"))
    secret = SECRETS[kind]
    if secret:
        assert secret not in shown and secret not in str(event.after)
        assert "stored (not shown)" in shown
    assert "connected." in shown


def test_what_is_stored_of_each_kind(client_as, cast, valid):
    client = client_as("owner")
    for kind in KINDS:
        client.post(page(kind), valid[kind])
    tg, dc, sl, em = (stored(cast.tenant, k) for k in KINDS)
    assert (tg.config, connection_secret(tg)) == (
        {"chat_id": "-1001234567890"},
        {"token": TG_TOKEN},
    )
    assert dc.config == {"webhook_id": "112233445566778899"}
    assert connection_secret(dc) == {"webhook_url": valid["discord"]["webhook_url"]}
    assert sl.config == {"channel": "C0123456789"}
    assert connection_secret(sl)["token"].startswith("xoxb-")
    assert em.config == {"address": "alerts@acme.test"}
    assert em.secret.token == "" and connection_secret(em) == {}  # nothing secret is stored


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_see_the_page_but_cannot_change_it(client_as, cast, valid, role, kind):
    client = client_as(role)
    response = client.get(page(kind))
    assert response.status_code == 200
    assert "<form" not in text(response).split("<main", 1)[1]
    assert "Only owners and admins can connect, change or test integrations." in text(response)
    refused = client.post(page(kind), valid[kind])
    assert refused.status_code == 403
    assert "Only owners and admins" in text(refused)
    assert stored(cast.tenant, kind) is None


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_disconnect(client_as, cast, telegram, role):
    response = client_as(role).post(page("telegram") + "disconnect/")
    assert response.status_code == 403
    assert stored(cast.tenant, "telegram") is not None


def test_outsider_sees_and_changes_only_its_own_tenant(client_as, cast, telegram, valid):
    client = client_as("outsider")
    shown = text(client.get(page("telegram")))
    assert "-100777" not in shown and "Not connected." in shown
    client.post(page("telegram") + "disconnect/")
    assert stored(cast.tenant, "telegram") is not None
    client.post(page("telegram"), valid["telegram"])
    assert stored(cast.other_tenant, "telegram").config["chat_id"] == "-1001234567890"
    assert stored(cast.tenant, "telegram").config == {"chat_id": "-100777"}


def test_signed_out_goes_to_login(client):
    response = client.post(page("telegram"), {})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("kind", "data", "field", "says"),
    [
        (
            "telegram",
            {"token": "123456:short", "chat_id": "-100"},
            "token",
            "not a Telegram bot token",
        ),
        (
            "telegram",
            {"token": "bot" + TG_TOKEN, "chat_id": "-100"},
            "token",
            "not a Telegram bot token",
        ),
        ("telegram", {"token": TG_TOKEN, "chat_id": "my group"}, "chat_id", "numeric id"),
        ("telegram", {"token": "", "chat_id": "-100"}, "token", "This field is required"),
        (
            "slack",
            {"token": "xoxp-1234567890-abcdefghijklmnopqrstuv", "channel": "C0123456789"},
            "token",
            "starts with xoxb-",
        ),
        (
            "slack",
            {"token": "xoxb-1111111111-2222222222222-AbCdEf", "channel": "#general"},
            "channel",
            "not its #name",
        ),
        ("email", {"address": "not-an-address"}, "address", "valid email"),
        ("discord", {"webhook_url": ""}, "webhook_url", "This field is required"),
    ],
)
def test_bad_input_is_said_under_its_field_and_nothing_is_stored(
    client_as, cast, kind, data, field, says
):
    response = client_as("owner").post(page(kind), data)
    assert response.status_code == 400
    shown = text(response)
    assert f'id="id_{field}_errors"' in shown
    errors = shown.split(f'id="id_{field}_errors"', 1)[1].split("</ul>", 1)[0]
    assert says in errors
    assert "Nothing was saved" in shown
    assert stored(cast.tenant, kind) is None
    assert not AuditEvent.objects.unscoped().filter(verb__startswith="integration.").exists()
    for name in ("token", "webhook_url"):
        if data.get(name):
            assert data[name] not in shown  # a typed secret is not echoed, even when wrong


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/api/webhooks/112233445566778899/" + "a" * 68,
        "https://discord.com.evil.example/api/webhooks/112233445566778899/" + "a" * 68,
        "https://discord.com/api/webhooks/112233445566778899/" + "a" * 68,  # not the configured
        "{base}/api/v10/channels/112233445566778899/messages",
        "{base}/api/webhooks/notanumber/" + "a" * 68,
        "{base}/api/webhooks/112233445566778899/" + "a" * 68 + "?wait=true",
    ],
)
def test_a_webhook_url_that_is_not_the_providers_is_refused(client_as, cast, settings, url):
    settings.ORION_DISCORD_API_BASE = "http://127.0.0.1:9"
    url = url.format(base=settings.ORION_DISCORD_API_BASE)
    response = client_as("admin").post(page("discord"), {"webhook_url": url})
    assert response.status_code == 400
    assert "This is not a Discord webhook URL" in text(response)
    assert stored(cast.tenant, "discord") is None


def test_the_real_discord_also_takes_its_old_domain_stored_as_the_new(client_as, cast, settings):
    settings.ORION_DISCORD_API_BASE = "https://discord.com"
    old = discord_url(settings).replace("https://discord.com", "https://discordapp.com")
    assert client_as("owner").post(page("discord"), {"webhook_url": old}).status_code == 302
    connection = stored(cast.tenant, "discord")
    assert connection_secret(connection)["webhook_url"] == discord_url(settings)


def test_an_edit_with_the_secret_left_blank_keeps_it(client_as, cast, telegram):
    connection_record_error(
        connection_id=telegram.pk, error="Bot was kicked", status=ConnectionStatus.DISABLED
    )
    client = client_as("owner")
    form = text(client.get(page("telegram")))
    assert "Leave blank to keep it." in form and TG_TOKEN not in form
    assert "Orion stopped sending here: Bot was kicked." in form
    response = client.post(page("telegram"), {"token": "", "chat_id": "@acme_news"})
    assert response.status_code == 302
    connection = stored(cast.tenant, "telegram")
    assert connection.config == {"chat_id": "@acme_news"}
    assert connection_secret(connection) == {"token": TG_TOKEN}
    assert connection.status == ConnectionStatus.CONNECTED
    event = AuditEvent.objects.unscoped().get(verb="integration.updated")
    assert event.after["secret_changed"] is False
    assert "settings saved" in text(client.get(page("telegram")))


def test_a_discord_edit_with_the_url_left_blank_keeps_it(client_as, cast, settings):
    connect(
        cast.tenant,
        "discord",
        config={"webhook_id": "5555555"},
        secret={"webhook_url": discord_url(settings, "5555555")},
    )
    assert client_as("admin").post(page("discord"), {"webhook_url": ""}).status_code == 302
    connection = stored(cast.tenant, "discord")
    assert connection.config == {"webhook_id": "5555555"}
    assert connection_secret(connection)["webhook_url"].endswith("/5555555/" + SECRETS["discord"])


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_managers_disconnect_and_the_secret_is_gone(client_as, cast, telegram, role):
    client = client_as(role)
    response = client.post(page("telegram") + "disconnect/")
    assert response.status_code == 302 and response["Location"] == "/integrations/"
    assert stored(cast.tenant, "telegram") is None
    assert "Telegram disconnected" in text(client.get("/integrations/"))
    again = client.post(page("telegram") + "disconnect/")
    assert again.status_code == 302
    assert "was not connected" in text(client.get("/integrations/"))


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_disconnect_asks_to_confirm_first(client_as, cast, telegram, role):
    client = client_as(role)
    assert 'href="/integrations/telegram/disconnect/"' in text(client.get(page("telegram")))
    confirm = client.get(page("telegram") + "disconnect/")
    assert confirm.status_code == 200
    assert "Disconnect Telegram?" in text(confirm) and 'method="post"' in text(confirm)
    assert stored(cast.tenant, "telegram") is not None


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_are_not_asked_to_confirm(client_as, telegram, role):
    response = client_as(role).get(page("telegram") + "disconnect/")
    assert response.status_code == 403 and "Only owners and admins" in text(response)


def test_confirming_a_channel_that_is_not_connected_goes_back_to_its_page(client_as):
    response = client_as("owner").get(page("slack") + "disconnect/", follow=True)
    assert response.redirect_chain == [(page("slack"), 302)]
    assert "Slack is not connected." in text(response)
