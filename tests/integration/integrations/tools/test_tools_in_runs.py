"""The messaging tools inside real heartbeats (PostgreSQL: model calls are written on their
own connection): the delivery commits with the tool call's record, and a run resumed after
its worker was killed replays the call instead of sending again."""

from __future__ import annotations

import json
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Run, RunStatus, ToolCallRecord
from agents.services.heartbeat import heartbeat_execute
from agents.services.work import task_create
from integrations.delivery.services import delivery_send_now
from integrations.models import Delivery
from integrations.services.connections import connection_connect
from tenants.scope import tenant_scope
from tests.integration.control_plane.processes import require_postgresql, spawn

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Hs"


@pytest.fixture
def channels(cast):
    require_postgresql()
    for kind, config, secret in (
        ("telegram", {"chat_id": "-100"}, {"token": TOKEN}),
        ("slack", {"channel": "C0123456789"}, {"token": "xoxb-" + "1" * 30}),
    ):
        connection_connect(tenant_id=cast.tenant.pk, kind=kind, config=config, secret=secret)


def keys(tenant) -> set[str]:
    return set(Delivery.objects.unscoped().filter(tenant=tenant).values_list("key", flat=True))


def assigned_run(agent, cast) -> Run:
    with tenant_scope(cast.tenant):
        task_create(title="Announce the spring menu", assignee=agent)
        return Run.objects.create(agent=agent, trigger="assignment")


def test_a_heartbeat_sends_through_the_tool_keyed_by_its_call(agent, cast, channels, llm, tg, sl):
    run = assigned_run(agent, cast)
    llm.script_chat(
        [
            llm.ok(tool_calls=[("send_team_message", {"text": "Spring menu is live!"})]),
            llm.ok("Announced."),
        ]
    )
    with tenant_scope(cast.tenant):
        heartbeat_execute(run_id=run.pk, owner="worker-1")
        run.refresh_from_db()
        record = ToolCallRecord.objects.get(run=run)
    assert run.status == RunStatus.SUCCEEDED
    assert record.status == "succeeded" and json.loads(record.result)["queued"] == 2
    assert keys(cast.tenant) == {f"run:{run.pk}:s1:t0:slack", f"run:{run.pk}:s1:t0:telegram"}
    told = [m for m in llm.chat_requests[1].json()["messages"] if m["role"] == "tool"]
    assert '"queued": 2' in told[0]["content"]
    for delivery_id in json.loads(record.result)["deliveries"]:  # the worker's part
        assert delivery_send_now(delivery_id=delivery_id).status == "sent"
    assert [m["text"] for m in tg.accepted] == ["Spring menu is live!"]
    assert [m["text"] for m in sl.accepted] == ["Spring menu is live!"]


def test_a_refused_send_is_told_to_the_model_and_writes_nothing(agent, cast, llm):
    require_postgresql()
    run = assigned_run(agent, cast)
    llm.script_chat(
        [llm.ok(tool_calls=[("send_team_message", {"text": "Hi"})]), llm.ok("No channel.")]
    )
    with tenant_scope(cast.tenant):
        heartbeat_execute(run_id=run.pk, owner="worker-1")
        record = ToolCallRecord.objects.get(run=run)
    assert record.status == "failed" and "no team channel is connected" in record.result
    assert keys(cast.tenant) == set()


def test_a_run_resumed_after_its_worker_is_killed_does_not_send_again(agent, cast, channels, llm):
    run = assigned_run(agent, cast)
    llm.script_chat(
        [
            llm.ok(tool_calls=[("send_team_message", {"text": "Spring menu is live!"})]),
            llm.slow(60, llm.ok("too late")),  # the worker dies while waiting for this
            llm.ok("Announced."),
        ]
    )
    worker = spawn(
        "from agents.services.heartbeat import heartbeat_execute\n"
        "from tenants.scope import tenant_scope\n"
        f"with tenant_scope({cast.tenant.pk}):\n"
        f"    heartbeat_execute(run_id={run.pk}, owner='doomed-worker')\n"
    )
    llm.wait_for(2, timeout=30)  # step 1's tool call is committed; step 2 is in flight
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    sent_by_the_dead = keys(cast.tenant)
    assert sent_by_the_dead == {f"run:{run.pk}:s1:t0:slack", f"run:{run.pk}:s1:t0:telegram"}
    with tenant_scope(cast.tenant):
        Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        claim = heartbeat_execute(run_id=run.pk, owner="second-worker")
        assert claim.resumed
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED
        assert ToolCallRecord.objects.filter(run=run).count() == 1  # replayed, not re-run
    assert keys(cast.tenant) == sent_by_the_dead
    assert Delivery.objects.unscoped().filter(tenant=cast.tenant).count() == 2
