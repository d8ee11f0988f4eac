"""The messaging tools: "send_team_message" to the connected team channels and
"notify_owner" by email (and the team channels), each call keyed by its call key, so a
call run again or replayed by a resumed run is one message."""

from __future__ import annotations

import json

import pytest

from agents.models import Run
from agents.tools import ToolContext, ToolError, tool_get
from integrations.models import ConnectionStatus, Delivery
from integrations.services.connections import connection_connect, connection_record_error
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Hs"


def connect(tenant, kind: str, config: dict, secret: dict):
    return connection_connect(tenant_id=tenant.pk, kind=kind, config=config, secret=secret)


@pytest.fixture
def channels(cast):
    tg = connect(cast.tenant, "telegram", {"chat_id": "-100"}, {"token": TOKEN})
    slack = connect(cast.tenant, "slack", {"channel": "C0123456789"}, {"token": "xoxb-" + "1" * 30})
    return tg, slack


def call(agent, name: str, args: dict, key: str = "run:1:s1:t0") -> dict:
    with tenant_scope(agent.tenant_id):
        run = Run.objects.filter(agent=agent).first() or Run.objects.create(agent=agent)
        ctx = ToolContext(agent=agent, run=run, task=None, call_key=key)
        tool = tool_get(name)
        return json.loads(tool.handler(ctx, tool.check(args)))


def rows(tenant) -> list[Delivery]:
    return list(Delivery.objects.unscoped().filter(tenant=tenant).order_by("key"))


def test_a_team_message_goes_to_every_connected_channel_once(agent, cast, channels):
    first = call(agent, "send_team_message", {"text": "Spring menu is live"})
    again = call(agent, "send_team_message", {"text": "Spring menu is live"})  # the same call
    assert first == again and first["queued"] == 2
    made = rows(cast.tenant)
    assert [(d.kind, d.key, d.purpose) for d in made] == [
        ("slack", "run:1:s1:t0:slack", "agent"),
        ("telegram", "run:1:s1:t0:telegram", "agent"),
    ]
    assert {d.body for d in made} == {"Spring menu is live"}
    assert rows(cast.other_tenant) == []


def test_nothing_connected_or_all_disabled_is_a_clear_refusal(agent, cast):
    with pytest.raises(ToolError, match="no team channel is connected"):
        call(agent, "send_team_message", {"text": "Hello"})
    tg = connect(cast.tenant, "telegram", {"chat_id": "-100"}, {"token": TOKEN})
    connection_record_error(connection_id=tg.pk, error="kicked", status=ConnectionStatus.DISABLED)
    with pytest.raises(ToolError, match="or all are disabled"):
        call(agent, "send_team_message", {"text": "Hello"})
    assert rows(cast.tenant) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "the message is empty"), ("  \n ", "the message is empty"), ("x" * 4001, "4,001")],
)
@pytest.mark.parametrize("name", ["send_team_message", "notify_owner"])
def test_empty_or_oversized_text_is_refused(agent, cast, channels, name, text, says):
    with pytest.raises(ToolError, match=says):
        call(agent, name, {"text": text})
    assert rows(cast.tenant) == []


def test_a_missing_or_mistyped_text_is_refused_by_the_schema(agent, channels):
    with pytest.raises(ToolError, match="missing text"):
        call(agent, "send_team_message", {})
    with pytest.raises(ToolError, match="text must be a string"):
        call(agent, "notify_owner", {"text": 42})


def test_notify_owner_emails_the_owners_and_posts_to_the_team(agent, cast, channels):
    result = call(agent, "notify_owner", {"text": "Budget 80% used\nDetails follow."})
    made = rows(cast.tenant)
    assert result["queued"] == 3
    email = next(d for d in made if d.kind == "email")
    assert (email.recipient, email.subject) == ("owner@acme.test", "Cora: Budget 80% used")
    assert {d.kind for d in made} == {"email", "slack", "telegram"}
    call(agent, "notify_owner", {"text": "Budget 80% used\nDetails follow."})
    assert len(rows(cast.tenant)) == 3


def test_notify_owner_without_channels_still_emails_with_the_given_subject(agent, cast):
    call(agent, "notify_owner", {"text": "Please approve", "subject": "Approval needed"})
    (email,) = rows(cast.tenant)
    assert (email.kind, email.recipient, email.subject) == (
        "email",
        "owner@acme.test",
        "Approval needed",
    )


def test_a_tool_called_outside_a_run_has_no_key_and_sends_nothing(agent, cast, channels):
    with pytest.raises(ToolError, match="call's key"):
        call(agent, "send_team_message", {"text": "Hi"}, key="")
    assert rows(cast.tenant) == []
