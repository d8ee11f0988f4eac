"""Fixtures of the integrations pages: valid settings of every kind, and a connected
channel in the cast's tenant."""

from __future__ import annotations

import html

import pytest

from integrations.models import Connection
from integrations.services.connections import connection_connect

TG_TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Hs"
SLACK_TOKEN = "xoxb-1111111111-2222222222222-AbCdEfGhIjKlMnOpQrStUvWx"
DISCORD_TOKEN = "Xy1_Zk-9aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTu"


def text(response) -> str:
    return html.unescape(response.content.decode())


def discord_url(settings, webhook_id: str = "112233445566778899") -> str:
    return f"{settings.ORION_DISCORD_API_BASE}/api/webhooks/{webhook_id}/{DISCORD_TOKEN}"


@pytest.fixture
def valid(settings) -> dict[str, dict[str, str]]:
    """A valid connect form of every kind, and the secret it must never show back."""
    return {
        "telegram": {"token": TG_TOKEN, "chat_id": "-1001234567890"},
        "discord": {"webhook_url": discord_url(settings)},
        "slack": {"token": SLACK_TOKEN, "channel": "C0123456789"},
        "email": {"address": "Alerts@Acme.test"},
    }


SECRETS = {
    "telegram": TG_TOKEN,
    "discord": DISCORD_TOKEN,
    "slack": SLACK_TOKEN,
    "email": None,
}


def stored(tenant, kind: str) -> Connection | None:
    return Connection.objects.unscoped().filter(tenant=tenant, kind=kind).first()


def connect(tenant, kind: str, *, config: dict, secret: dict | None) -> Connection:
    return connection_connect(tenant_id=tenant.pk, kind=kind, config=config, secret=secret)


@pytest.fixture
def telegram(cast) -> Connection:
    return connect(
        cast.tenant, "telegram", config={"chat_id": "-100777"}, secret={"token": TG_TOKEN}
    )
