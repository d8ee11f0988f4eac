"""An agent sends mail through its heartbeat: the real loop gives the tool its call key,
the mail goes out once, its ExternalAction names the call; a worker killed after Gmail
accepted the mail leaves a run whose resumption asks Gmail and does not send again."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import (
    AuthProfile,
    ChainCandidate,
    ModelChain,
    Provider,
    Run,
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
from tests.integration.control_plane.processes import spawn

pytestmark = pytest.mark.django_db(transaction=True)
MAIL = {"to": "bob@example.test", "subject": "Your quote", "body": "It is 120 EUR."}


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        provider = Provider.objects.create(name="fakeai", kind="openai", base_url=server.base_url)
        AuthProfile.objects.create(provider=provider, label="k1", secret="key-one-1111")
        chain = ModelChain.objects.create(name="default", is_default=True)
        ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
        server.script_chat([server.ok(tool_calls=[("gmail_send", MAIL)]), server.ok("Sent it.")])
        yield server


@pytest.fixture
def queued_run(cast, llm) -> Run:
    with tenant_scope(cast.tenant):
        agent = agent_create(
            tenant=cast.tenant,
            name="Ada",
            role="admin",
            interval_s=3600,
            allowed_tools=["gmail_send"],
        )
        task_create(title="Send Bob the quote", assignee=agent)
    enqueued: list[Run] = []
    dispatch_due(enqueue=enqueued.append)
    (run,) = enqueued
    return run


def _finish(cast, run: Run, owner: str) -> tuple[Run, ToolCallRecord]:
    with tenant_scope(cast.tenant):
        heartbeat_execute(run_id=run.pk, owner=owner)
        run.refresh_from_db()
        return run, ToolCallRecord.objects.get(run=run, name="gmail_send")


def _sends(google) -> list:
    return [r for r in google.requests if r.path == "/gmail/v1/users/me/messages/send"]


def test_an_agent_sends_mail_once_through_its_heartbeat(cast, google, gmail_connected, queued_run):
    run, record = _finish(cast, queued_run, "test-worker")
    assert run.status == RunStatus.SUCCEEDED
    (sent,) = google.sent
    assert google.header(sent["id"], "Subject") == "Your quote"
    action = ExternalAction.objects.unscoped().get(tenant=cast.tenant, kind="gmail.send")
    assert re.fullmatch(rf"gmail\.send:run:{run.pk}:s\d+:t0", action.key)
    assert action.status == ActionStatus.DONE
    assert sent["id"] in record.result
    assert google.header(sent["id"], "Message-ID") == action.result["message_id"]


def test_a_worker_killed_after_gmail_accepted_never_sends_twice(
    durable_rows, cast, google, gmail_connected, queued_run, monkeypatch
):
    for name, value in google.settings().items():
        monkeypatch.setenv(name, value)
    google.after_accept["gmail.send"] = "hang"  # Gmail keeps the mail and never answers
    worker = spawn(
        "from agents.services.heartbeat import heartbeat_execute\n"
        "from tenants.scope import tenant_scope\n"
        f"with tenant_scope({cast.tenant.pk}):\n"
        f"    heartbeat_execute(run_id={queued_run.pk}, owner='worker-1')\n"
    )
    try:
        deadline = time.monotonic() + 60
        while not google.sent and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(google.sent) == 1, worker.communicate(timeout=5) if worker.poll() else ""
    finally:
        worker.kill()  # the worker dies while waiting for Gmail's answer
        worker.communicate(timeout=10)
    action = ExternalAction.objects.unscoped().get(tenant=cast.tenant, kind="gmail.send")
    assert action.status == ActionStatus.STARTED
    Run.objects.unscoped().filter(pk=queued_run.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)  # its lease runs out
    )

    run, record = _finish(cast, queued_run, "worker-2")  # the re-delivered heartbeat

    assert run.status == RunStatus.SUCCEEDED
    assert len(google.sent) == 1
    assert len(_sends(google)) == 1
    checks = [r for r in google.requests if r.query.get("q", "").startswith("rfc822msgid:")]
    assert len(checks) == 1
    assert '"already_sent": true' in record.result
    action = ExternalAction.objects.unscoped().get(pk=action.pk)
    assert action.status == ActionStatus.DONE
    assert action.result["id"] == google.sent[0]["id"]
