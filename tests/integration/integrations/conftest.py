"""The providers' fakes as real servers on 127.0.0.1, with settings pointed at them: shared
by the delivery, portal and tool tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orion.core.fakes.messaging import FakeDiscord, FakeSlack, FakeTelegram
from orion.core.fakes.smtp import FakeSMTP


@pytest.fixture
def tg(settings) -> Iterator[FakeTelegram]:
    with FakeTelegram(retry_after=0.2) as fake:
        settings.ORION_TELEGRAM_API_BASE = fake.base_url
        yield fake


@pytest.fixture
def dc(settings) -> Iterator[FakeDiscord]:
    with FakeDiscord(retry_after=0.3) as fake:
        settings.ORION_DISCORD_API_BASE = fake.base_url
        yield fake


@pytest.fixture
def sl(settings) -> Iterator[FakeSlack]:
    with FakeSlack(retry_after=0.2) as fake:
        settings.ORION_SLACK_API_BASE = fake.base_url
        yield fake


@pytest.fixture
def smtp(settings) -> Iterator[FakeSMTP]:
    with FakeSMTP() as fake:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = fake.host
        settings.EMAIL_PORT = fake.port
        yield fake
