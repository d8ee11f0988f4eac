"""The fake Google every test here talks to, and the consent flow through the portal."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from orion.core.fakes.google import FakeGoogle

CALLBACK = "/integrations/google/callback/"


@pytest.fixture
def google(settings, monkeypatch) -> Iterator[FakeGoogle]:
    # oauthlib refuses plain-HTTP token endpoints unless told; the fake listens on http.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with FakeGoogle() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        settings.SITE_URL = "http://testserver"
        yield fake


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start(client, product: str = "gmail"):
    return client.post(f"/integrations/google/connect/{product}/")


def connect(client, google: FakeGoogle, product: str = "gmail", **consent):
    """Start, consent at the fake, come back: the callback's response."""
    response = start(client, product)
    assert response.status_code == 302, response.content
    return client.get(CALLBACK, google.consent(response["Location"], **consent))
