"""The customer's team pages on a large platform: 1,000 tenants, 10 agents each, 100,000
runs (and 20 tasks per tenant, model calls with attempts on the measured run), seeded with
bulk_create. Server time (Django test client, the whole middleware stack) of the dashboard,
an agent page, the task board and a run page for one tenant, p50/p95, and each page's SQL
query count, also measured on a tenant with 10 times fewer rows: queries must not grow with
the data. Target p95 <= 150 ms.

`PORTAL_BENCH_TENANTS` / `PORTAL_BENCH_RUNS` shrink the dataset for a quick run."""

from __future__ import annotations

import os
from datetime import timedelta

N = 200
TENANTS = int(os.environ.get("PORTAL_BENCH_TENANTS", "1000"))
AGENTS_PER_TENANT = 10
RUNS = int(os.environ.get("PORTAL_BENCH_RUNS", "100000"))
TASKS_PER_TENANT = 20
BATCH = 5000
STATUSES = ["succeeded", "succeeded", "succeeded", "skipped", "failed", "failed_all_models"]
TASK_STATUSES = ["backlog", "todo", "in_progress", "blocked", "in_review", "done"]


def _seed():
    """Every tenant's rows; returns (the measured tenant, a small tenant)."""
    from django.utils import timezone

    from agents.models import Agent, Run, Task
    from tenants.models import Tenant

    now = timezone.now()
    tenants = Tenant.objects.bulk_create(
        [Tenant(name=f"Bench {i}", slug=f"bench-{i}") for i in range(TENANTS)], batch_size=BATCH
    )
    agents = Agent.objects.unscoped().bulk_create(
        [
            Agent(
                tenant=t,
                name=f"Agent {a}",
                role="admin",
                schedule_kind="interval",
                interval_s=3600,
                next_heartbeat_at=now + timedelta(hours=1),
            )
            for t in tenants
            for a in range(AGENTS_PER_TENANT)
        ],
        batch_size=BATCH,
    )
    # The measured tenant (the first) holds 10x an average tenant's runs, the rest share
    # what is left; counts add up to RUNS exactly.
    weights = [10 if i < AGENTS_PER_TENANT else 1 for i in range(len(agents))]
    total = sum(weights)
    counts = [RUNS * w // total for w in weights]
    for i in range(RUNS - sum(counts)):
        counts[-1 - i % len(counts)] += 1
    runs = []
    for agent, count in zip(agents, counts, strict=True):
        runs.extend(
            Run(
                tenant_id=agent.tenant_id,
                agent=agent,
                status=STATUSES[i % len(STATUSES)],
                trigger="schedule",
                summary="Worked the inbox.",
                input_tokens=900,
                output_tokens=120,
                ended_at=now,
            )
            for i in range(max(1, count))
        )
        if len(runs) >= BATCH:
            Run.objects.unscoped().bulk_create(runs, batch_size=BATCH)
            runs = []
    Run.objects.unscoped().bulk_create(runs, batch_size=BATCH)
    Task.objects.unscoped().bulk_create(
        [
            Task(
                tenant=t,
                title=f"Task {k}",
                status=TASK_STATUSES[k % len(TASK_STATUSES)],
                assignee_id=agents[n * AGENTS_PER_TENANT + k % AGENTS_PER_TENANT].pk,
            )
            for n, t in enumerate(tenants)
            for k in range(TASKS_PER_TENANT * (10 if n == 0 else 1))
        ],
        batch_size=BATCH,
    )
    return tenants[0], tenants[1]


def _calls(tenant, run) -> None:
    """Five model calls with a rate-limited attempt and a fallback each, a transcript."""
    from django.utils import timezone

    from agents.models import AuthProfile, FailoverAttempt, ModelCall, Provider

    provider, _ = Provider.objects.get_or_create(
        name="bench", defaults={"kind": "openai", "base_url": "http://127.0.0.1:9"}
    )
    key, _ = AuthProfile.objects.get_or_create(
        provider=provider, label="k1", defaults={"secret": "sk-bench"}
    )
    now = timezone.now()
    for n in range(5):
        call = ModelCall.objects.unscoped().create(
            tenant=tenant, key=f"bench-{run.pk}-{n}", run=run, status="succeeded", model="m2"
        )
        FailoverAttempt.objects.unscoped().bulk_create(
            [
                FailoverAttempt(
                    tenant=tenant,
                    call=call,
                    seq=s,
                    candidate_index=s - 1,
                    provider="bench",
                    model=f"m{s}",
                    profile=key,
                    profile_key=str(key.pk),
                    try_no=1,
                    status="failed" if s == 1 else "succeeded",
                    error_class="rate_limit" if s == 1 else "",
                    duration_ms=10.0,
                    started_at=now,
                )
                for s in (1, 2)
            ]
        )


def _client_for(tenant):
    from django.test import Client

    from tenants.models import Membership, Role
    from tests.conftest import make_user

    user = make_user(f"owner@{tenant.slug}.test")
    Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    client = Client()
    client.force_login(user)
    return client


def _pages(tenant) -> dict[str, str]:
    from agents.models import Agent, Run

    agent = Agent.objects.unscoped().filter(tenant=tenant).order_by("pk").first()
    run = Run.objects.unscoped().filter(agent=agent).order_by("-pk").first()
    return {
        "dashboard": "/",
        "agent": f"/agents/{agent.pk}/",
        "board": "/tasks/",
        "run": f"/runs/{run.pk}/",
    }


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx.captured_queries)


def run() -> dict:
    from tests.bench.harness import django_test_db, p50, pct, timed_ms

    with django_test_db():
        from django.db import connection

        from agents.models import Run

        big, small = _seed()
        pages, small_pages = _pages(big), _pages(small)
        _calls(big, Run.objects.unscoped().get(pk=pages["run"].split("/")[2]))
        _calls(small, Run.objects.unscoped().get(pk=small_pages["run"].split("/")[2]))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client, small_client = _client_for(big), _client_for(small)
        result: dict = {
            "db": connection.vendor,
            "tenants": TENANTS,
            "runs": Run.objects.unscoped().count(),
            "tenant_runs": Run.objects.unscoped().filter(tenant=big).count(),
        }
        queries = {}
        for name, url in pages.items():
            client.get(url)  # the first dashboard visit also stores the visit
            queries[name] = _queries(client, url)
            small_client.get(small_pages[name])
            if _queries(small_client, small_pages[name]) != queries[name]:
                result[f"{name}_queries_differ"] = 1
            samples = timed_ms(lambda url=url: client.get(url), N)
            result[f"{name}_p50_ms"] = p50(samples)
            result[f"{name}_p95_ms"] = pct(samples, 95)
            result[f"{name}_queries"] = queries[name]
        result["queries"] = max(queries.values())
        result["target_met"] = int(all(result[f"{n}_p95_ms"] <= 150 for n in pages))
        return result
