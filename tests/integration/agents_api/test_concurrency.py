"""Checkout over HTTP under real concurrency (threads, each on its own PostgreSQL
connection): one winner among agents, one run for one agent."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection

from agents.models import LIVE_RUN_STATUSES, Run, Task
from agents.services.agents import agent_create
from agents.services.api_keys import api_key_create
from agents.services.work import task_create
from tenants.scope import tenant_scope

from .conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)


def _require_postgresql() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("concurrent checkouts need PostgreSQL (DATABASE_URL not set)")


def _all_at_once(calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def work(i, call):
        try:
            barrier.wait(timeout=30)
            response = call()
            results[i] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_ten_agents_check_out_one_task_exactly_one_wins(cast):
    _require_postgresql()
    with tenant_scope(cast.tenant):
        task = task_create(title="Call the flour supplier")
        clients = []
        for n in range(10):
            agent = agent_create(tenant=cast.tenant, name=f"Helper{n}", role="admin")
            clients.append(key_client(api_key_create(agent=agent).plaintext))
    url = f"/api/v1/tasks/{task.pk}/checkout/"
    results = _all_at_once([lambda c=c: c.post(url) for c in clients])
    winners = [body for code, body in results if code == 200]
    losers = [body for code, body in results if code == 409]
    assert len(winners) == 1 and len(losers) == 9, results
    assert {body["holder_run"] for body in losers} == {winners[0]["run"]}
    assert Task.objects.unscoped().get(pk=task.pk).checkout_run_id == winners[0]["run"]
    live = Run.objects.unscoped().filter(status__in=LIVE_RUN_STATUSES)
    assert list(live.values_list("pk", flat=True)) == [winners[0]["run"]]


def test_one_agent_checking_out_at_once_gets_one_run(cast):
    _require_postgresql()
    with tenant_scope(cast.tenant):
        agent = agent_create(tenant=cast.tenant, name="Max", role="marketing")
        tasks = [task_create(title=f"Task {n}", assignee=agent) for n in range(8)]
        plaintext = api_key_create(agent=agent).plaintext
    results = _all_at_once(
        [lambda t=t: key_client(plaintext).post(f"/api/v1/tasks/{t.pk}/checkout/") for t in tasks]
    )
    assert [code for code, _ in results] == [200] * 8, results
    runs = {body["run"] for _, body in results}
    assert len(runs) == 1
    assert Run.objects.unscoped().filter(agent=agent).count() == 1
    assert (
        set(
            Task.objects.unscoped()
            .filter(pk__in=[t.pk for t in tasks])
            .values_list("checkout_run_id", flat=True)
        )
        == runs
    )
