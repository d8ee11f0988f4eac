"""Walk promises under real conditions: durable "started" rows seen from another
connection before the provider hears anything, Retry-After feeding cooldowns, a walk
killed with SIGKILL mid-wait resuming no earlier than asked, and deadlines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from agents.models import FailoverAttempt, ModelCall, ProfileCooldown, Provider
from agents.services.model_calls import model_call_run
from orion.core.fakes.server import Reply, Request
from orion.reliability import FallbackSummaryError

from .conftest import REQUEST

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): an independent, durable ledger connection")


def _rows_seen_elsewhere(key: str) -> list[tuple[int, str]]:
    """Read the ledger on this thread's own connection (the fake server's thread)."""
    from django.db import connection as own

    try:
        return list(
            FailoverAttempt.objects.unscoped()
            .filter(call__key=key)
            .order_by("seq")
            .values_list("seq", "status")
        )
    finally:
        own.close()


@pytest.mark.parametrize("caller_in_atomic", [False, True], ids=["autocommit", "in-atomic"])
def test_started_row_is_committed_before_the_provider_hears_the_request(
    setup, scoped, primary, fallback, clock, caller_in_atomic
):
    _needs_postgres()
    seen: list[list[tuple[int, str]]] = []

    def check_then(reply: Reply):
        def handler(request: Request) -> Reply:
            seen.append(_rows_seen_elsewhere("c1"))
            return reply

        return handler

    primary.script_chat([check_then(primary.server_error(503))], default=primary.server_error(503))
    fallback.script_chat([check_then(fallback.ok("from the fallback"))])

    class CallerRollsBack(Exception):
        pass

    if caller_in_atomic:
        with pytest.raises(CallerRollsBack), transaction.atomic():
            result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
            raise CallerRollsBack
    else:
        result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "from the fallback"
    # attempt 1 (zhipu/k1) was visible from the server's connection while it was received
    assert seen[0] == [(1, "started")]
    last = seen[-1]
    assert last[-1][1] == "started" and all(status == "failed" for _, status in last[:-1])
    # the caller's rollback does not take the ledger with it
    assert ModelCall.objects.get(key="c1").status == "succeeded"


def test_retry_after_120_fails_over_at_once_and_cools_that_model_for_120s(
    setup, scoped, primary, fallback
):
    primary.script_chat([], default=primary.rate_limited(retry_after=120))
    started = time.monotonic()
    result = model_call_run(request=REQUEST, key="c1")
    assert time.monotonic() - started < 1.5
    assert result.content == "ok" and fallback.models == ["gemini-flash-lite"]
    now = time.time()
    for key in (setup.k1, setup.k2):
        cooled = ProfileCooldown.objects.get(profile=key, scope="glm-4.7")
        assert cooled.reason == "rate_limit"
        assert cooled.cooldown_until.timestamp() - now >= 118  # not the 30 s first step
    assert not ProfileCooldown.objects.filter(scope="").exists()  # only that model


CHILD = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "orion.settings_test"
django.setup()
from agents.providers.base import ChatMessage, ChatRequest
from agents.services.model_calls import model_call_run
from tenants.scope import tenant_scope
request = ChatRequest(messages=[ChatMessage(role="user", content="What is on today?")])
with tenant_scope(int(sys.argv[1])):
    model_call_run(request=request, key=sys.argv[2])
print("finished", flush=True)
"""


def _child_env() -> dict[str, str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def test_a_walk_killed_during_a_retry_after_wait_resumes_no_earlier_than_asked(
    setup, scoped, primary
):
    _needs_postgres()
    primary.script_chat([primary.rate_limited(retry_after=3), primary.ok("after the wait")])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(scoped.pk), "c1"],
        env=_child_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = primary.wait_for(1, timeout=30)[0]
        deadline = time.monotonic() + 10
        while not FailoverAttempt.objects.filter(call__key="c1", status="failed").exists():
            assert time.monotonic() < deadline, "the child never recorded the 429"
            time.sleep(0.02)
        time.sleep(0.3)  # the child is in its 3 s wait now
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert len(primary.chat_requests) == 1
    killed_at = time.monotonic()

    result = model_call_run(request=REQUEST, key="c1")
    assert result.content == "after the wait"
    second = primary.chat_requests[1]
    assert second.received_at - first.received_at >= 3.0
    assert killed_at - first.received_at < 2.5  # so the resumed walk did wait
    assert list(
        FailoverAttempt.objects.filter(call__key="c1").order_by("seq").values_list("status")
    ) == [("failed",), ("succeeded",)]


def test_a_walk_over_hanging_providers_ends_before_its_deadline(setup, scoped, primary, fallback):
    primary.script_chat([], default=primary.hang())
    fallback.script_chat([], default=fallback.hang())
    Provider.objects.update(attempt_timeout_s=60)
    started = time.time()
    deadline = started + 3.0
    with pytest.raises(FallbackSummaryError) as caught:
        model_call_run(request=REQUEST, key="c1", deadline=deadline)
    ended = time.time()
    assert ended < deadline
    assert ended - started > 2.0  # the one attempt had the time that was left
    summary = caught.value
    assert summary.deadline
    assert [(a.provider, a.error_class) for a in summary.attempts] == [("zhipu", "timeout")]
    assert "ran out of time" in str(summary)
    call = ModelCall.objects.get(key="c1")
    assert call.status == "failed" and "ran out of time" in call.error


def test_a_deadline_already_too_close_sends_nothing(setup, scoped, primary):
    with pytest.raises(FallbackSummaryError) as caught:
        model_call_run(request=REQUEST, key="c1", deadline=time.time() + 0.5)
    assert caught.value.deadline and caught.value.attempts == []
    assert primary.chat_requests == []


def test_a_caller_holding_the_run_row_locked_gets_a_clear_error_not_a_hang(
    setup, scoped, cast, primary
):
    _needs_postgres()
    from django.db import OperationalError

    from agents.models import Agent, Run

    agent = Agent.objects.create(name="Ada", role="admin")
    run = Run.objects.create(agent=agent)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="release row locks"), transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        model_call_run(request=REQUEST, key="c1", agent=agent, run=locked)
    assert time.monotonic() - started < 10
    assert primary.chat_requests == []


def test_a_providers_own_retry_policy_drives_its_walk(setup, scoped, primary, fallback, clock):
    Provider.objects.filter(pk=setup.zhipu.pk).update(retry_attempts=1)
    Provider.objects.filter(pk=setup.backup.pk).update(
        retry_attempts=4, retry_floor_s=2.0, retry_cap_s=3.0
    )
    primary.script_chat([], default=primary.server_error(503))
    fallback.script_chat([fallback.server_error(500)] * 3 + [fallback.ok("fourth try")])
    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "fourth try"
    assert len(primary.chat_requests) == 1  # one try, then the next model at once
    assert len(fallback.chat_requests) == 4
    # backoff 2 s doubling, capped at 3 s, jitter 10 %
    assert [round(s) for s in clock.sleeps] == [2, 3, 3]
