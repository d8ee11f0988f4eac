"""An agent sends mail through its heartbeat: the real loop gives the tool its call key,
the mail goes out once, its ExternalAction names the call."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from agents.models import (
    AuthProfile,
    ChainCandidate,
    ModelChain,
    Provider,
    RunStatus,
    ToolCallRecord,
)
from agents.services.agents import agent_create
from agents.services.dispatch import dispatch_due
from agents.services.heartbeat import heartbeat_execute
from agents.services.work import task_create
from integrations.models import ActionStatus, ExternalAction
from orion.core.fakes import FakeOpenAI
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        provider = Provider.objects.create(name="fakeai", kind="openai", base_url=server.base_url)
        AuthProfile.objects.create(provider=provider, label="k1", secret="key-one-1111")
        chain = ModelChain.objects.create(name="default", is_default=True)
        ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
        yield server


def test_an_agent_sends_mail_once_through_its_heartbeat(cast, google, gmail_connected, llm):
    with tenant_scope(cast.tenant):
        agent = agent_create(
            tenant=cast.tenant,
            name="Ada",
            role="admin",
            interval_s=3600,
            allowed_tools=["gmail_send"],
        )
        task_create(title="Send Bob the quote", assignee=agent)
    mail = {"to": "bob@example.test", "subject": "Your quote", "body": "It is 120 EUR."}
    llm.script_chat([llm.ok(tool_calls=[("gmail_send", mail)]), llm.ok("Sent Bob the quote.")])
    enqueued = []
    dispatch_due(enqueue=enqueued.append)
    (run,) = enqueued
    with tenant_scope(cast.tenant):
        heartbeat_execute(run_id=run.pk, owner="test-worker")
        run.refresh_from_db()
        record = ToolCallRecord.objects.get(run=run, name="gmail_send")
    assert run.status == RunStatus.SUCCEEDED
    (sent,) = google.sent
    assert google.header(sent["id"], "Subject") == "Your quote"
    action = ExternalAction.objects.unscoped().get(tenant=cast.tenant, kind="gmail.send")
    assert re.fullmatch(rf"gmail\.send:run:{run.pk}:s\d+:t0", action.key)
    assert action.status == ActionStatus.DONE
    assert sent["id"] in record.result
    assert google.header(sent["id"], "Message-ID") == action.result["message_id"]
