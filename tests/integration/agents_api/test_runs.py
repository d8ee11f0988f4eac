"""/api/v1/runs/: the list with filters and one run in full (model calls with their failover
attempts, tool calls, transcript), never a provider secret, bounded queries."""

from __future__ import annotations

import pytest
from django.utils import timezone

from agents.models import (
    AuthProfile,
    FailoverAttempt,
    ModelCall,
    Provider,
    Run,
    Session,
    SessionMessage,
    ToolCallRecord,
)
from tenants.scope import tenant_scope

from .conftest import ROLES

pytestmark = pytest.mark.django_db
SECRET = "sk-live-do-not-show-4242"


def _run_in_full(agent, *, status="succeeded", n_calls=2) -> Run:
    """A run with `n_calls` model calls (each: a 429 on the primary, then a fallback that
    answered), one tool call and a transcript."""
    provider = Provider.objects.get_or_create(
        name="fakeai", defaults={"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}
    )[0]
    profile = AuthProfile.objects.get_or_create(
        provider=provider, label="main key", defaults={"secret": SECRET}
    )[0]
    with tenant_scope(agent.tenant_id):
        run = Run.objects.create(
            tenant_id=agent.tenant_id, agent=agent, status=status, fell_back=True
        )
        session = Session.objects.get_or_create(
            tenant_id=agent.tenant_id, agent=agent, key="task:1"
        )[0]
        for n in range(n_calls):
            call = ModelCall.objects.create(
                tenant_id=agent.tenant_id,
                key=f"run{run.pk}-step{n}",
                agent=agent,
                run=run,
                status="succeeded",
                provider="fakeai",
                model="small",
            )
            for seq, (model, outcome, error, http, probe) in enumerate(
                [("big", "failed", "rate_limit", 429, False), ("small", "succeeded", "", 200, True)]
            ):
                FailoverAttempt.objects.create(
                    tenant_id=agent.tenant_id,
                    call=call,
                    seq=seq,
                    candidate_index=seq,
                    provider="fakeai",
                    model=model,
                    profile=profile,
                    profile_key=str(profile.pk),
                    try_no=1,
                    status=outcome,
                    error_class=error,
                    http_status=http,
                    duration_ms=12.5,
                    probe=probe,
                    started_at=timezone.now(),
                )
            ToolCallRecord.objects.create(
                tenant_id=agent.tenant_id,
                run=run,
                step=n + 1,
                index=0,
                call_id=f"c{n}",
                name="task_update",
                arguments={"status": "done"},
                status="succeeded",
                result="ok",
            )
            SessionMessage.objects.create(
                tenant_id=agent.tenant_id,
                session=session,
                run=run,
                step=n + 1,
                role="assistant",
                content=f"answer {n}",
            )
    return run


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_runs(api_as, world, role):
    run = _run_in_full(world.writer)
    client = api_as(role)
    rows = client.get("/api/v1/runs/").json()["results"]
    assert [r["id"] for r in rows] == [run.pk]
    detail = client.get(f"/api/v1/runs/{run.pk}/").json()
    assert detail["status"] == "succeeded" and detail["fell_back"] is True
    assert len(detail["model_calls"]) == 2
    attempts = detail["model_calls"][0]["attempts"]
    assert [
        (a["model"], a["error_class"], a["http_status"], a["profile"], a["try_no"], a["probe"])
        for a in attempts
    ] == [("big", "rate_limit", 429, "main key", 1, False), ("small", "", 200, "main key", 1, True)]
    assert attempts[0]["duration_ms"] == 12.5
    assert [t["name"] for t in detail["tool_calls"]] == ["task_update", "task_update"]
    assert [m["content"] for m in detail["transcript"]] == ["answer 0", "answer 1"]
    assert SECRET not in client.get(f"/api/v1/runs/{run.pk}/").content.decode()


def test_outsider_gets_404_for_our_runs(api_as, world):
    ours = _run_in_full(world.writer)
    theirs = _run_in_full(world.other_agent, n_calls=1)
    client = api_as("outsider")
    assert [r["id"] for r in client.get("/api/v1/runs/").json()["results"]] == [theirs.pk]
    assert client.get(f"/api/v1/runs/{ours.pk}/").status_code == 404
    assert client.get(f"/api/v1/runs/{theirs.pk}/").status_code == 200
    assert client.post("/api/v1/runs/").status_code == 405


def test_run_filters(api_as, world):
    mine = _run_in_full(world.writer, status="failed_all_models", n_calls=0)
    boss = _run_in_full(world.boss, status="skipped", n_calls=0)
    client = api_as("viewer")

    def ids(query):
        response = client.get(f"/api/v1/runs/?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids(f"agent={world.writer.pk}") == [mine.pk]
    assert ids("status=skipped") == [boss.pk]
    assert ids(f"agent={world.boss.pk}&status=failed_all_models") == []
    assert ids(f"agent={world.other_agent.pk}") == []
    assert client.get("/api/v1/runs/?status=exploded").status_code == 400


def test_run_queries_do_not_grow(api_as, world, django_assert_max_num_queries):
    client = api_as("member")
    run = _run_in_full(world.writer, n_calls=1)
    with django_assert_max_num_queries(4) as list_few:
        client.get("/api/v1/runs/")
    with django_assert_max_num_queries(8) as detail_few:
        client.get(f"/api/v1/runs/{run.pk}/")
    big = _run_in_full(world.writer, status="failed", n_calls=8)
    for _ in range(10):
        _run_in_full(world.boss, n_calls=0)
    with django_assert_max_num_queries(len(list_few.captured_queries)):
        assert len(client.get("/api/v1/runs/").json()["results"]) == 12
    with django_assert_max_num_queries(len(detail_few.captured_queries)):
        assert len(client.get(f"/api/v1/runs/{big.pk}/").json()["model_calls"]) == 8
