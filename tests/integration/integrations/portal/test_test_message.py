""" "Send test message": owners and admins queue one delivery (once per form, however
often it is sent) and land on its page; everyone else is refused; bad text is said under
the field and nothing is stored."""

from __future__ import annotations

import re
import uuid

import pytest

from integrations.models import ConnectionStatus, Delivery
from integrations.services.connections import connection_record_error
from tenants.models import AuditEvent

from .conftest import TG_TOKEN, text

pytestmark = pytest.mark.django_db
URL = "/integrations/telegram/test/"


def nonce_of(page: str) -> str:
    return re.search(r'name="nonce" value="([0-9a-f]{32})"', page).group(1)


def deliveries(tenant) -> list[Delivery]:
    return list(Delivery.objects.unscoped().filter(tenant=tenant))


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_test_message_is_queued_once_and_its_page_shown(client_as, cast, telegram, role):
    client = client_as(role)
    nonce = nonce_of(text(client.get("/integrations/telegram/")))
    response = client.post(URL, {"text": "Hello team", "nonce": nonce})
    assert response.status_code == 302
    (made,) = deliveries(cast.tenant)
    assert response["Location"] == f"/integrations/deliveries/{made.pk}/"
    assert (made.kind, made.purpose, made.body) == ("telegram", "test", "Hello team")
    assert made.key == f"test:telegram:{nonce}"
    again = client.post(URL, {"text": "Hello team", "nonce": nonce})  # a double click
    assert again["Location"] == response["Location"]
    assert len(deliveries(cast.tenant)) == 1
    event = AuditEvent.objects.unscoped().get(verb="integration.test_sent")
    assert event.actor_user == cast.user(role) and event.tenant_id == cast.tenant.pk
    shown = text(client.get(response["Location"]))
    assert "Test message queued" in shown and "Hello team" in shown
    assert TG_TOKEN not in shown


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_send_a_test(client_as, cast, telegram, role):
    response = client_as(role).post(URL, {"text": "Hi", "nonce": uuid.uuid4().hex})
    assert response.status_code == 403
    assert "Only owners and admins" in text(response)
    assert deliveries(cast.tenant) == []


def test_outsider_cannot_send_through_the_tenants_channel(client_as, cast, telegram):
    response = client_as("outsider").post(URL, {"text": "Hi", "nonce": uuid.uuid4().hex})
    assert response.status_code == 400
    assert "Telegram is not connected: connect it first." in text(response)
    assert deliveries(cast.tenant) == [] and deliveries(cast.other_tenant) == []


def test_not_connected_is_said(client_as, cast):
    response = client_as("owner").post(URL, {"text": "Hi", "nonce": uuid.uuid4().hex})
    assert response.status_code == 400
    assert "Telegram is not connected: connect it first." in text(response)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"text": "   "}, "Write the message to send."),
        (
            {"text": "x" * 4097},
            "The message is 4,097 characters long; Telegram takes at most 4,096",
        ),
        ({"text": "Hi", "nonce": "../../etc"}, "This form is out of date"),
    ],
)
def test_bad_text_is_said_under_the_field_and_nothing_is_queued(
    client_as, cast, telegram, data, says
):
    data = {"nonce": uuid.uuid4().hex, **data}
    response = client_as("owner").post(URL, data)
    assert response.status_code == 400
    shown = text(response)
    assert says in shown and "Nothing was sent: check the message." in shown
    assert deliveries(cast.tenant) == []
    assert not AuditEvent.objects.unscoped().filter(verb="integration.test_sent").exists()


def test_the_discord_limit_is_discords(client_as, cast, settings):
    from .conftest import connect, discord_url

    connect(cast.tenant, "discord", config={}, secret={"webhook_url": discord_url(settings)})
    response = client_as("owner").post(
        "/integrations/discord/test/", {"text": "x" * 2001, "nonce": uuid.uuid4().hex}
    )
    assert response.status_code == 400
    assert "Discord takes at most 2,000" in text(response)


def test_a_disabled_channel_refuses_the_test_with_the_reason(client_as, cast, telegram):
    connection_record_error(
        connection_id=telegram.pk,
        error="Forbidden: bot was kicked from the group chat",
        status=ConnectionStatus.DISABLED,
    )
    response = client_as("owner").post(URL, {"text": "Hi", "nonce": uuid.uuid4().hex})
    assert response.status_code == 400
    assert 'id="id_text_errors"' in text(response)
    assert deliveries(cast.tenant) == []


def test_test_is_post_only(client_as, telegram):
    assert client_as("owner").get(URL).status_code == 405


def test_the_index_card_sends_a_test_in_one_click_for_managers_only(client_as, cast, telegram):
    index = text(client_as("owner").get("/integrations/"))
    form = index.split('action="/integrations/telegram/test/"', 1)[1].split("</form>", 1)[0]
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', form).group(1)
    body = re.search(r'name="text" value="([^"]+)"', form).group(1)
    response = client_as("owner").post(URL, {"text": body, "nonce": nonce})
    assert response.status_code == 302
    (made,) = deliveries(cast.tenant)
    assert made.body == "Hello from Orion: this is a test message."
    for role in ("member", "viewer"):
        assert 'action="/integrations/telegram/test/"' not in text(
            client_as(role).get("/integrations/")
        )
