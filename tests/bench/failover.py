"""The reliability stack's cost and its failover speed, against LiteLLM's Router at its best.

One run, one local fault server pair (TCP_NODELAY, one write per response). Every phase
interleaves the sides call by call, so drift on this noisy VM hits them alike:
1. overhead: ours (model_call_run: chain loaded, call row, a *durable* "started" attempt
   row on the ledger's own connection, outcome) vs bare httpx vs LiteLLM's Router tuned
   (allowed_fails=0, cooldown_time=30, num_retries=0) vs LiteLLM's defaults (labelled);
2. failover: the primary answers 503; each side's first call (to the fallback's answer)
   and the following calls (a side that cools the primary skips it);
3. the ledger writes of one successful call through orion.core.rows versus the ORM, to
   decide whether the hand-built SQL still earns its place (it must save >= 0.1 ms).
Targets (issue 6): overhead p50 <= 2 ms and below LiteLLM's; following calls <= 5 ms p50
and under half of tuned LiteLLM's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

N = int(os.environ.get("BENCH_N", "300"))
N_FAILOVER = int(os.environ.get("BENCH_N_FAILOVER", "60"))
# LiteLLM's defaults retry the dead primary with backoff on every call (seconds each).
N_LITELLM_DEFAULT_FAILOVER = int(os.environ.get("BENCH_N_LITELLM_DEFAULT_FAILOVER", "4"))
N_LEDGER = int(os.environ.get("BENCH_N_LEDGER", "300"))
PAYLOAD_TEXT = "What is on the calendar today?"
MESSAGES = [{"role": "user", "content": PAYLOAD_TEXT}]


def _router(primary_base: str, fallback_base: str, *, tuned: bool):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    import litellm
    from litellm import Router

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    model_list = [
        {
            "model_name": "primary",
            "litellm_params": {
                "model": "openai/glm-4.7",
                "api_base": primary_base,
                "api_key": "key-one-1111",
            },
        },
        {
            "model_name": "fallback",
            "litellm_params": {
                "model": "openai/gemini-flash-lite",
                "api_base": fallback_base,
                "api_key": "key-bak-3333",
            },
        },
    ]
    fallbacks = [{"primary": ["fallback"]}]
    if tuned:  # the peer at its best: one failure cools the deployment for 30 s, no retry
        return Router(
            model_list=model_list,
            fallbacks=fallbacks,
            allowed_fails=0,
            cooldown_time=30,
            num_retries=0,
            retry_after=0,
        )
    return Router(model_list=model_list, fallbacks=fallbacks)  # LiteLLM's defaults


def _started_row_durable(call: Callable[[], object]) -> int:
    """1 when one real call writes its "started" attempt row with a synchronous commit
    (the promise "persisted before the request leaves"), read off the SQL the ledger's
    own connection sends: no relaxed prefix on the FailoverAttempt INSERT."""
    from django.db import connections

    from agents.models import FailoverAttempt
    from orion.core.rows import RELAXED_PREFIX, independent_alias

    table = FailoverAttempt._meta.db_table
    sent: list[str] = []

    def spy(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connections[independent_alias()].execute_wrapper(spy):
        call()
    inserts = [q for q in sent if "INSERT" in q.upper() and table in q]
    return int(bool(inserts) and not any(q.startswith(RELAXED_PREFIX) for q in inserts))


def _interleaved(sides: dict[str, Callable[[], object]], n: int, *, warmup: int = 5):
    """Run the sides call by call, rotating who goes first each round (a call right after
    LiteLLM's runs slower: its logging thread is still busy and the caches are cold, so
    every side takes that seat equally often). Samples per side (ms)."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides.items())
    for i in range(warmup + n):
        k = i % len(order)
        for name, fn in order[k:] + order[:k]:
            start = time.perf_counter()
            fn()
            if i >= warmup:
                samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def _timed_once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _ledger_writes(tenant, chain) -> dict[str, float]:
    """p50 of the ledger writes of one successful call: rows.py (call insert relaxed,
    durable attempt insert, relaxed joint completion) vs the ORM doing the same with the
    same durability (its completion in one transaction with a relaxed commit)."""
    from django.db import connections, transaction
    from django.utils import timezone

    from agents.models import FailoverAttempt, ModelCall
    from orion.core.rows import independent_alias, row_insert, rows_update
    from tests.bench.harness import p50

    using = independent_alias()
    counter = iter(range(10**9))

    def attempt(call: ModelCall) -> FailoverAttempt:
        return FailoverAttempt(
            tenant_id=tenant.pk,
            call=call,
            seq=1,
            candidate_index=0,
            provider="zhipu",
            model="glm-4.7",
            profile_key="1",
            try_no=1,
            status="started",
            started_at=timezone.now(),
        )

    done = {"status": "succeeded", "duration_ms": 1.0}

    def with_rows() -> None:
        call = ModelCall(tenant_id=tenant.pk, key=f"rows-{next(counter)}", chain=chain)
        row_insert(call, conflict=("tenant", "key"), relaxed=True, using=using)
        row_insert(attempt(call), conflict=("tenant", "call", "seq"), using=using)
        rows_update(
            (FailoverAttempt, {"call": call.pk, "seq": 1}, done),
            (ModelCall, {"id": call.pk}, {"status": "succeeded"}),
            relaxed=True,
            using=using,
        )

    def with_orm() -> None:
        call = ModelCall.objects.using(using).create(
            tenant_id=tenant.pk, key=f"orm-{next(counter)}", chain=chain
        )
        FailoverAttempt.objects.using(using).bulk_create([attempt(call)])
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
            FailoverAttempt.objects.unscoped().using(using).filter(call=call, seq=1).update(**done)
            ModelCall.objects.unscoped().using(using).filter(pk=call.pk).update(status="succeeded")

    samples = _interleaved({"rows": with_rows, "orm": with_orm}, N_LEDGER)
    return {"ledger_rows_p50_ms": p50(samples["rows"]), "ledger_orm_p50_ms": p50(samples["orm"])}


def run() -> dict:
    from orion.core import loopback_guard
    from orion.core.fakes import FakeOpenAI
    from tests.bench.harness import django_test_db, p50, pct

    loopback_guard.install()
    with django_test_db(), FakeOpenAI() as primary, FakeOpenAI() as fallback:
        import httpx
        from django.db import connection

        from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider
        from agents.providers.base import ChatMessage, ChatRequest
        from agents.services.model_calls import model_call_run
        from orion.core.rows import independent_close
        from tenants.scope import tenant_scope
        from tenants.services.tenants import tenant_create_for_owner
        from tests.conftest import make_user

        tenant = tenant_create_for_owner(name="Bench Bakery", owner=make_user("o@bench.test"))
        zhipu = Provider.objects.create(name="zhipu", kind="openai", base_url=primary.base_url)
        gemini = Provider.objects.create(name="gemini", kind="openai", base_url=fallback.base_url)
        AuthProfile.objects.create(provider=zhipu, label="k1", secret="key-one-1111")
        AuthProfile.objects.create(provider=gemini, label="b1", secret="key-bak-3333")
        chain = ModelChain.objects.create(name="default", is_default=True)
        ChainCandidate.objects.create(chain=chain, position=1, provider=zhipu, model="glm-4.7")
        ChainCandidate.objects.create(
            chain=chain, position=2, provider=gemini, model="gemini-flash-lite"
        )
        request = ChatRequest(messages=[ChatMessage(role="user", content=PAYLOAD_TEXT)])
        counter = iter(range(10**9))

        def ours() -> None:
            with tenant_scope(tenant):
                model_call_run(request=request, key=f"bench-{next(counter)}")

        url = f"{primary.base_url}/chat/completions"
        body = {"model": "glm-4.7", "messages": MESSAGES}
        headers = {"Authorization": "Bearer key-one-1111"}
        bare_client = httpx.Client(timeout=10)

        def bare() -> None:
            bare_client.post(url, json=body, headers=headers).json()

        tuned = _router(primary.base_url, fallback.base_url, tuned=True)
        default = _router(primary.base_url, fallback.base_url, tuned=False)

        durable = _started_row_durable(ours) if connection.vendor == "postgresql" else 0

        # 1. overhead, call by call
        ok = _interleaved(
            {
                "ours": ours,
                "bare": bare,
                "litellm": lambda: tuned.completion(model="primary", messages=MESSAGES),
                "litellm_default": lambda: default.completion(model="primary", messages=MESSAGES),
            },
            N,
        )

        # 2. failover: primary down with 503; fresh routers (no state carried over)
        primary.script_chat([], default=primary.server_error(503))
        tuned = _router(primary.base_url, fallback.base_url, tuned=True)
        default = _router(primary.base_url, fallback.base_url, tuned=False)
        first = {
            "ours": _timed_once(ours),
            "litellm_tuned": _timed_once(
                lambda: tuned.completion(model="primary", messages=MESSAGES)
            ),
            "litellm_default": _timed_once(
                lambda: default.completion(model="primary", messages=MESSAGES)
            ),
        }
        primary_before = len(primary.requests)
        following = _interleaved(
            {
                "ours": ours,
                "litellm_tuned": lambda: tuned.completion(model="primary", messages=MESSAGES),
            },
            N_FAILOVER,
            warmup=0,
        )
        # Both sides cooled the dead primary: the calls after the first went to the fallback
        # (at most a recovery probe each reaches the primary).
        primary_hit = len(primary.requests) - primary_before
        assert primary_hit <= 4, f"the dead primary got {primary_hit} of the following calls"
        default_following = _interleaved(
            {"litellm_default": lambda: default.completion(model="primary", messages=MESSAGES)},
            N_LITELLM_DEFAULT_FAILOVER,
            warmup=0,
        )["litellm_default"]

        # 3. is orion.core.rows still worth it?
        ledger = _ledger_writes(tenant, chain)
        bare_client.close()
        independent_close()  # before the test database is dropped

        bare_p50 = p50(ok["bare"])
        overhead = p50(ok["ours"]) - bare_p50
        litellm_overhead = p50(ok["litellm"]) - bare_p50
        next_ours = p50(following["ours"])
        next_tuned = p50(following["litellm_tuned"])
        return {
            "db": connection.vendor,
            "durable": durable,
            "primary_requests_after_failover": primary_hit,
            "calls": N,
            "bare_p50_ms": bare_p50,
            "stack_p50_ms": p50(ok["ours"]),
            "stack_p99_ms": pct(ok["ours"], 99),
            "overhead_p50_ms": overhead,
            "overhead_p99_ms": pct(ok["ours"], 99) - pct(ok["bare"], 99),
            "litellm_p50_ms": p50(ok["litellm"]),
            "litellm_overhead_p50_ms": litellm_overhead,
            "litellm_default_overhead_p50_ms": p50(ok["litellm_default"]) - bare_p50,
            "overhead_ratio_vs_litellm": overhead / litellm_overhead if litellm_overhead else 0.0,
            "failover_first_ms": first["ours"],
            "failover_next_ms": next_ours,
            "failover_next_p99_ms": pct(following["ours"], 99),
            "litellm_tuned_failover_first_ms": first["litellm_tuned"],
            "litellm_tuned_failover_next_ms": next_tuned,
            "litellm_default_failover_first_ms": first["litellm_default"],
            "litellm_default_failover_next_ms": p50(default_following),
            "next_ratio_vs_litellm_tuned": next_ours / next_tuned if next_tuned else 0.0,
            **ledger,
            "ledger_rows_saving_ms": ledger["ledger_orm_p50_ms"] - ledger["ledger_rows_p50_ms"],
        }
