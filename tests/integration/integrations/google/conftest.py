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


@pytest.fixture
def call_tool(cast):
    """`call_tool(name, args, key=...)`: the tool as the agent loop runs it (tenant scope,
    its own transaction, rolled back when it refuses); the parsed JSON it returns."""
    import json

    from django.db import transaction

    from agents.models import Run
    from agents.services.agents import agent_create
    from agents.tools import ToolContext, tool_get
    from tenants.scope import tenant_scope

    with tenant_scope(cast.tenant):
        agent = agent_create(tenant=cast.tenant, name="Ada", role="admin")
        run = Run.objects.create(agent=agent)

    def call(name: str, args: dict, *, key: str = "run:1:s1:t0"):
        tool = tool_get(name)
        with tenant_scope(cast.tenant), transaction.atomic():
            ctx = ToolContext(agent=agent, run=run, task=None, call_key=key)
            return json.loads(tool.handler(ctx, tool.check(args)))

    return call


@pytest.fixture
def gmail_connected(client_as, cast, google):
    assert connect(client_as("owner"), google, "gmail").status_code == 302
    google.clear()


@pytest.fixture
def all_connected(client_as, cast, google):
    client = client_as("owner")
    assert connect(client, google, "gmail").status_code == 302
    assert connect(client, google, "calendar").status_code == 302
    google.clear()


@pytest.fixture
def durable_rows() -> None:
    """Writes that must outlive a refused tool's rolled-back transaction go through
    orion.core.rows' independent connection, which only PostgreSQL has (on SQLite they
    commit with the caller: the documented limitation of the embedded default)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): an independent, durable connection")
