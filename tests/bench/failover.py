"""The reliability stack's cost and its failover speed, against LiteLLM's Router.

One run, one local fault server pair (TCP_NODELAY, one write per response):
1. overhead: N sequential successful calls through model_call_run (chain loaded,
   ModelCall + FailoverAttempt rows written) versus the same request with bare httpx;
2. failover: the primary answers 503; the first call's time to the fallback's answer,
   then the following calls' (the primary is cooled, so they skip it);
3. the same two scenarios through LiteLLM's Router with the same chain.
Targets (issue 3): added p50 <= 2 ms and below LiteLLM's; following calls <= 5 ms p50.
"""

from __future__ import annotations

import logging
import os
import time

N = int(os.environ.get("BENCH_N", "300"))
N_FAILOVER = int(os.environ.get("BENCH_N_FAILOVER", "100"))
# LiteLLM's Router retries the dead primary with backoff on every call (~4.6 s each here).
N_LITELLM_FAILOVER = int(os.environ.get("BENCH_N_LITELLM_FAILOVER", "8"))
PAYLOAD_TEXT = "What is on the calendar today?"


def _bare_httpx(url: str, n: int) -> list[float]:
    import httpx

    from tests.bench.harness import timed_ms

    body = {"model": "glm-4.7", "messages": [{"role": "user", "content": PAYLOAD_TEXT}]}
    headers = {"Authorization": "Bearer key-one-1111"}
    with httpx.Client(timeout=10) as client:
        return timed_ms(lambda: client.post(url, json=body, headers=headers).json(), n)


def _router(primary_base: str, fallback_base: str):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    import litellm
    from litellm import Router

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return Router(
        model_list=[
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
        ],
        fallbacks=[{"primary": ["fallback"]}],
        num_retries=2,
        retry_after=0,
    )


def _router_call(router) -> object:
    return router.completion(model="primary", messages=[{"role": "user", "content": PAYLOAD_TEXT}])


def run() -> dict:
    from orion.core import loopback_guard
    from orion.core.fakes import FakeOpenAI
    from tests.bench.harness import django_test_db, p50, pct, timed_ms

    loopback_guard.install()
    with django_test_db(), FakeOpenAI() as primary, FakeOpenAI() as fallback:
        from django.db import connection

        from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider
        from agents.providers.base import ChatMessage, ChatRequest
        from agents.services.model_calls import model_call_run
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

        def stack_call() -> None:
            with tenant_scope(tenant):
                model_call_run(request=request, key=f"bench-{next(counter)}")

        # 1. overhead, interleaved in blocks so drift hits both sides alike
        bare, stack = [], []
        for _ in range(5):
            bare += _bare_httpx(f"{primary.base_url}/chat/completions", N // 5)
            stack += timed_ms(stack_call, N // 5)
        router = _router(primary.base_url, fallback.base_url)
        litellm_ok = timed_ms(lambda: _router_call(router), N)

        # 2. failover through our stack: primary down with 503
        primary.script_chat([], default=primary.server_error(503))
        start = time.perf_counter()
        stack_call()
        first_ms = (time.perf_counter() - start) * 1000
        following = timed_ms(stack_call, N_FAILOVER, warmup=0)

        # 3. the same through LiteLLM's Router (a fresh one: no cooldown state carried over)
        router = _router(primary.base_url, fallback.base_url)
        start = time.perf_counter()
        _router_call(router)
        litellm_first_ms = (time.perf_counter() - start) * 1000
        litellm_following = timed_ms(lambda: _router_call(router), N_LITELLM_FAILOVER, warmup=0)

        overhead = p50(stack) - p50(bare)
        litellm_overhead = p50(litellm_ok) - p50(bare)
        return {
            "db": connection.vendor,
            "calls": N,
            "bare_p50_ms": p50(bare),
            "stack_p50_ms": p50(stack),
            "stack_p99_ms": pct(stack, 99),
            "overhead_p50_ms": overhead,
            "overhead_p99_ms": pct(stack, 99) - pct(bare, 99),
            "litellm_p50_ms": p50(litellm_ok),
            "litellm_overhead_p50_ms": litellm_overhead,
            "overhead_ratio_vs_litellm": overhead / litellm_overhead if litellm_overhead else 0.0,
            "failover_first_ms": first_ms,
            "failover_next_ms": p50(following),
            "failover_next_p99_ms": pct(following, 99),
            "litellm_failover_first_ms": litellm_first_ms,
            "litellm_failover_next_ms": p50(litellm_following),
            "litellm_next_over_ours": p50(litellm_following) / p50(following),
        }
