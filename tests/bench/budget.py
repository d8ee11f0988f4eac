"""Budgets: what a reservation and its settlement add to every model call, and whether
concurrent callers can push spend past a limit.

Latency: one caller, N calls back to back, each `budget_reserve` (company + agent budget)
then `budget_settle` (with its UsageEvent), timed separately.

Overspend: 100 concurrent callers, i.e. 25 forked processes each keeping 4 calls in flight
(PostgreSQL here allows 100 connections in all, shared with other work: one connection per
caller would not fit), reserving 1 to 5 cents, settling in random order at a random real
cost up to the reservation, until the company budget and ten agent budgets are exhausted.
Reported: the largest amount any budget's spend passed its limit (target 0), and whether
the usage rows add up to the counters.
"""

from __future__ import annotations

import json
import os
import random
import time

N_CALLS = 2000
PROCESSES, IN_FLIGHT = 25, 4
CENT = 10_000
COMPANY_CENTS, AGENT_CENTS, AGENTS = 2_000, 300, 10


def _latency(tenant) -> dict:
    from billing.services.budgets import UsageFacts, budget_reserve, budget_settle
    from tests.bench.harness import p50, pct

    reserve, settle = [], []
    facts = UsageFacts(provider="bench", model="glm-4.7", input_tokens=900, output_tokens=80)
    for i in range(N_CALLS + 20):
        t0 = time.perf_counter()
        held = budget_reserve(
            tenant=tenant, key=f"lat-{i}", amount_micros=500, agent_id=1, agent_limit_cents=10**6
        )
        t1 = time.perf_counter()
        budget_settle(reservation=held, cost_micros=300, usage=facts)
        t2 = time.perf_counter()
        if i >= 20:  # warm-up
            reserve.append((t1 - t0) * 1000)
            settle.append((t2 - t1) * 1000)
    both = [a + b for a, b in zip(reserve, settle, strict=True)]
    return {
        "reserve_p50_ms": p50(reserve),
        "reserve_p99_ms": pct(reserve, 99),
        "settle_p50_ms": p50(settle),
        "settle_p99_ms": pct(settle, 99),
        "call_p50_ms": p50(both),
        "call_p99_ms": pct(both, 99),
    }


def _caller(tenant_id: int, seed: int, go: str) -> dict:
    from billing.services.budgets import BudgetExceeded, UsageFacts, budget_reserve, budget_settle
    from tenants.models import Tenant
    from tenants.scope import tenant_scope

    rnd = random.Random(seed)
    tenant = Tenant.objects.get(pk=tenant_id)
    calls = refused = 0
    with tenant_scope(tenant_id):
        while not os.path.exists(go):
            time.sleep(0.002)
        flight: list = []
        while refused < 30:
            while len(flight) < IN_FLIGHT:
                try:
                    flight.append(
                        budget_reserve(
                            tenant=tenant,
                            key=f"c{seed}-{calls}",
                            amount_micros=rnd.randint(1, 5) * CENT,
                            agent_id=rnd.randint(1, AGENTS),
                            agent_limit_cents=AGENT_CENTS,
                        )
                    )
                    calls += 1
                except BudgetExceeded:
                    refused += 1
                    break
            if flight:
                held = flight.pop(rnd.randrange(len(flight)))
                cost = rnd.randint(0, held.amount_micros)
                budget_settle(reservation=held, cost_micros=cost, usage=UsageFacts())
            else:
                time.sleep(0.001)
        for held in flight:
            budget_settle(reservation=held, cost_micros=held.amount_micros, usage=UsageFacts())
    return {"calls": calls, "refused": refused}


def _overspend(tenant) -> dict:
    from django.db import connections
    from django.db.models import Sum

    from billing.models import BudgetPeriod, UsageEvent
    from billing.services.budgets import budget_set
    from tenants.scope import tenant_scope

    with tenant_scope(tenant):
        budget_set(tenant=tenant, limit_cents=COMPANY_CENTS)
    go = f"/tmp/orion-bench-budget-{os.getpid()}"
    connections.close_all()  # forked children open their own connections
    children = []
    read_end, write_end = os.pipe()
    for seed in range(PROCESSES):
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                line = json.dumps(_caller(tenant.pk, seed, go))
            except BaseException as exc:  # reported by the parent
                line = json.dumps({"error": repr(exc)})
            os.write(write_end, line.encode() + b"\n")
            os._exit(0)
        children.append(pid)
    os.close(write_end)
    time.sleep(3.0)  # every child set up and waiting
    started = time.perf_counter()
    open(go, "w").close()
    with os.fdopen(read_end) as results:
        lines = [json.loads(line) for line in results]
    for pid in children:
        os.waitpid(pid, 0)
    elapsed = time.perf_counter() - started
    os.unlink(go)
    errors = [r["error"] for r in lines if "error" in r]
    assert not errors, errors
    with tenant_scope(tenant):
        periods = list(BudgetPeriod.objects.all())
        usage = UsageEvent.objects.filter(key__startswith="c").aggregate(s=Sum("cost_micros"))["s"]
    over = max(max(p.spent_micros - (p.limit_micros or 0), 0) for p in periods)
    company = next(p for p in periods if p.agent_id == 0)
    return {
        "callers": PROCESSES * IN_FLIGHT,
        "calls": sum(r["calls"] for r in lines),
        "calls_per_s": sum(r["calls"] for r in lines) / elapsed,
        "overspend_cents": over / CENT,
        "spent_share_of_limit": company.spent_micros / company.limit_micros,
        "held_after": sum(p.reserved_micros for p in periods),
        "usage_matches": int((usage or 0) == company.spent_micros),
    }


def run() -> dict:
    from tests.bench.harness import django_test_db

    with django_test_db():
        from django.db import connection

        from tenants.models import Tenant
        from tenants.scope import tenant_scope

        vendor = connection.vendor
        first = Tenant.objects.create(name="Latency", slug="latency")
        with tenant_scope(first):
            result = {"db": vendor, **_latency(first)}
        if vendor == "postgresql":
            second = Tenant.objects.create(name="Race", slug="race")
            result.update(_overspend(second))
        return result
