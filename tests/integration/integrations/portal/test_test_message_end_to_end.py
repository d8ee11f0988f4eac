"""The test-message journey against the fakes of the providers (real HTTP and SMTP servers
on 127.0.0.1): an owner connects a channel in the portal, sends a test message, and the
delivery's page follows it through every attempt until it is final. The worker's part is
`delivery_send_now`, as the Celery task runs it."""

from __future__ import annotations

import re
import time

import pytest

from integrations.delivery.services import delivery_send_now
from integrations.models import ConnectionStatus

from .conftest import DISCORD_TOKEN, SLACK_TOKEN, TG_TOKEN, stored, text

pytestmark = pytest.mark.django_db(transaction=True)
REFRESH = '<meta http-equiv="refresh"'


def connect_and_test(client, kind: str, settings: dict, message: str) -> tuple[str, int]:
    """Connect `kind` through its page, send a test message; the delivery page's URL and id."""
    assert client.post(f"/integrations/{kind}/", settings).status_code == 302
    page = text(client.get(f"/integrations/{kind}/"))
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', page).group(1)
    response = client.post(f"/integrations/{kind}/test/", {"text": message, "nonce": nonce})
    assert response.status_code == 302
    url = response["Location"]
    return url, int(url.rstrip("/").rsplit("/", 1)[1])


def attempt_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-outcome="(\w+)">', page)


def test_telegram_test_message_retried_after_a_429_and_shown_attempt_by_attempt(
    client_as, cast, tg
):
    client = client_as("owner")
    tg.fail_next("429")
    url, delivery_id = connect_and_test(
        client, "telegram", {"token": TG_TOKEN, "chat_id": "-1001"}, "Hello from the test"
    )
    queued = text(client.get(url))
    assert 'data-status="queued"' in queued and REFRESH in queued
    assert "No attempt yet" in queued

    first = delivery_send_now(delivery_id=delivery_id)
    assert first.retry_in is not None
    waiting = text(client.get(url))
    assert 'data-status="retrying"' in waiting and REFRESH in waiting
    assert attempt_rows(waiting) == ["transient"]
    assert "429" in waiting and "Too Many Requests" in waiting

    time.sleep(first.retry_in)
    assert delivery_send_now(delivery_id=delivery_id).retry_in is None
    done = text(client.get(url))
    assert 'data-status="sent"' in done and REFRESH not in done
    assert attempt_rows(done) == ["transient", "sent"]
    assert [(m["chat_id"], m["text"]) for m in tg.accepted] == [("-1001", "Hello from the test")]
    channel = text(client.get("/integrations/telegram/"))
    assert "Last success</dt><dd>never" not in channel
    for page in (queued, waiting, done, channel):
        assert TG_TOKEN not in page


def test_a_revoked_bot_fails_the_test_once_and_the_page_says_why(client_as, cast, tg):
    client = client_as("admin")
    tg.revoke()
    url, delivery_id = connect_and_test(
        client, "telegram", {"token": TG_TOKEN, "chat_id": "-1001"}, "Are you there?"
    )
    assert delivery_send_now(delivery_id=delivery_id).retry_in is None
    done = text(client.get(url))
    assert 'data-status="failed"' in done and REFRESH not in done
    assert attempt_rows(done) == ["permanent"] and "401" in done
    assert stored(cast.tenant, "telegram").status == ConnectionStatus.DISABLED
    channel = text(client.get("/integrations/telegram/"))
    assert 'data-status="disabled"' in channel and "Last error" in channel
    again = client.post(
        "/integrations/telegram/test/", {"text": "Again?", "nonce": "f" * 32}
    )  # refused before anything is written: the channel is disabled
    assert again.status_code == 400 and "disabled" in text(again)
    assert tg.accepted == []


def test_discord_test_message_end_to_end(client_as, cast, dc, settings):
    webhook = f"{settings.ORION_DISCORD_API_BASE}/api/webhooks/112233445566/{DISCORD_TOKEN}"
    client = client_as("owner")
    url, delivery_id = connect_and_test(client, "discord", {"webhook_url": webhook}, "Hi Discord")
    assert delivery_send_now(delivery_id=delivery_id).retry_in is None
    done = text(client.get(url))
    assert 'data-status="sent"' in done and attempt_rows(done) == ["sent"]
    assert [(m["webhook"], m["text"]) for m in dc.accepted] == [("112233445566", "Hi Discord")]
    assert DISCORD_TOKEN not in done + text(client.get("/integrations/discord/"))


def test_slack_test_message_end_to_end(client_as, cast, sl):
    client = client_as("owner")
    url, delivery_id = connect_and_test(
        client, "slack", {"token": SLACK_TOKEN, "channel": "C0123456789"}, "Hi Slack"
    )
    assert delivery_send_now(delivery_id=delivery_id).retry_in is None
    done = text(client.get(url))
    assert 'data-status="sent"' in done and attempt_rows(done) == ["sent"]
    assert [m["text"] for m in sl.accepted] == ["Hi Slack"]
    assert SLACK_TOKEN not in done


def test_email_test_message_end_to_end(client_as, cast, smtp):
    client = client_as("owner")
    url, delivery_id = connect_and_test(
        client, "email", {"address": "alerts@acme.test"}, "Hi by mail"
    )
    assert delivery_send_now(delivery_id=delivery_id).retry_in is None
    done = text(client.get(url))
    assert 'data-status="sent"' in done and attempt_rows(done) == ["sent"]
    (mail,) = smtp.messages
    assert mail["To"] == "alerts@acme.test" and mail["Subject"] == "Test message from Orion"
    assert "Hi by mail" in mail.get_payload(decode=True).decode()
