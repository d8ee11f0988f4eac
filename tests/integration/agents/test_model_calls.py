"""Every model call through the whole stack: real httpx against fault servers on
127.0.0.1, attempts persisted as rows, cooldowns persisted per profile and model."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from agents.models import FailoverAttempt, ModelCall, ProfileCooldown
from agents.services.model_calls import model_call_run
from orion.reliability import FallbackSummaryError
from tenants.scope import tenant_scope

from .conftest import REQUEST

pytestmark = pytest.mark.django_db(transaction=True)


def _attempts(key: str) -> list[tuple]:
    return list(
        FailoverAttempt.objects.filter(call__key=key)
        .order_by("seq")
        .values_list("seq", "provider", "profile_key", "status", "error_class")
    )


def test_success_records_the_call_and_one_attempt(setup, scoped, primary, clock):
    primary.script_chat([primary.ok("Two meetings.", usage=(120, 8, 100))])
    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "Two meetings."
    call = ModelCall.objects.get(key="c1")
    assert (call.status, call.provider, call.model) == ("succeeded", "zhipu", "glm-4.7")
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (120, 8, 100)
    assert _attempts("c1") == [(1, "zhipu", str(setup.k1.pk), "succeeded", "")]
    assert primary.api_keys == ["key-one-1111"]


def test_a_finished_call_is_not_sent_again(setup, scoped, primary, clock):
    model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    again = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert again.content == "ok"
    assert len(primary.chat_requests) == 1


def test_retry_after_2s_is_waited_for_on_the_same_key(setup, scoped, primary):
    primary.script_chat([primary.rate_limited(retry_after=2), primary.ok("after the wait")])
    started = time.monotonic()
    result = model_call_run(request=REQUEST, key="c1")
    waited = time.monotonic() - started
    assert result.content == "after the wait"
    assert 1.9 <= waited < 4.0
    assert primary.api_keys == ["key-one-1111", "key-one-1111"]


def test_retry_after_600s_fails_over_at_once(setup, scoped, primary, fallback, clock):
    primary.script_chat([], default=primary.rate_limited(retry_after=600))
    started = time.monotonic()
    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert time.monotonic() - started < 1.5
    assert clock.sleeps == []
    assert result.content == "ok"
    assert fallback.models == ["gemini-flash-lite"]
    # a rate limit cools only that model on that key; the next key was tried first
    assert primary.api_keys == ["key-one-1111", "key-two-2222"]
    cooled = ProfileCooldown.objects.get(profile=setup.k1, scope="glm-4.7")
    assert cooled.reason == "rate_limit"
    assert not ProfileCooldown.objects.filter(profile=setup.k1, scope="").exists()


def test_401_rotates_keys_and_cools_the_first_for_30s(setup, scoped, primary, clock):
    primary.script_for_key("key-one-1111", primary.unauthorized())
    first = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert first.content == "ok"
    assert primary.api_keys == ["key-one-1111", "key-two-2222"]
    cooldown = ProfileCooldown.objects.get(profile=setup.k1, scope="")
    window = (cooldown.cooldown_until - timezone.now()).total_seconds()
    assert cooldown.reason == "auth" and 28 <= window <= 31

    clock.offset += 20  # still cooling: later calls do not touch k1
    model_call_run(request=REQUEST, key="c2", clock=clock, sleep=clock.sleep)
    model_call_run(request=REQUEST, key="c3", clock=clock, sleep=clock.sleep)
    assert primary.api_keys[2:] == ["key-two-2222", "key-two-2222"]

    clock.offset += 15  # the 30 s window is over and the key was fixed: k1 is first again
    primary.script_for_key("key-one-1111", [primary.ok("k1 is back")])
    assert (
        model_call_run(request=REQUEST, key="c4", clock=clock, sleep=clock.sleep).content
        == "k1 is back"
    )
    assert primary.api_keys[4:] == ["key-one-1111"]


def test_provider_outage_walks_to_the_next_model_and_later_calls_skip_it(
    setup, scoped, primary, fallback, clock
):
    primary.script_chat([], default=primary.server_error(503))
    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "ok"
    assert fallback.models == ["gemini-flash-lite"]
    first_walk = len(primary.chat_requests)
    assert first_walk == 3  # three tries on k1; the outage then cools glm-4.7 on k1 and k2
    assert set(
        ProfileCooldown.objects.filter(scope="glm-4.7").values_list("profile__label", flat=True)
    ) == {"k1", "k2"}

    sleeps_before = list(clock.sleeps)
    started = time.monotonic()
    model_call_run(request=REQUEST, key="c2", clock=clock, sleep=clock.sleep)
    assert time.monotonic() - started < 0.5
    assert len(primary.chat_requests) == first_walk  # the cooled primary is skipped
    assert clock.sleeps == sleeps_before  # without waiting
    assert fallback.models == ["gemini-flash-lite", "gemini-flash-lite"]


class WorkerDied(BaseException):
    """Stands in for the process being killed between two attempts."""


def test_an_interrupted_walk_resumes_at_attempt_3_without_repeating(setup, scoped, primary, clock):
    primary.script_chat(
        [primary.server_error(500), primary.server_error(502), primary.ok("third time")]
    )

    def die_on_second_wait(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 2:
            raise WorkerDied

    with pytest.raises(WorkerDied):
        model_call_run(request=REQUEST, key="c1", clock=clock, sleep=die_on_second_wait)
    assert [row[0] for row in _attempts("c1")] == [1, 2]
    assert ModelCall.objects.get(key="c1").status == "running"

    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "third time"
    assert len(primary.chat_requests) == 3
    assert _attempts("c1") == [
        (1, "zhipu", str(setup.k1.pk), "failed", "server"),
        (2, "zhipu", str(setup.k1.pk), "failed", "server"),
        (3, "zhipu", str(setup.k1.pk), "succeeded", ""),
    ]


def test_everything_failing_raises_the_summary_with_every_attempt(
    setup, scoped, primary, fallback, clock
):
    primary.script_chat([], default=primary.unauthorized())
    fallback.script_chat([], default=fallback.server_error(503))
    with pytest.raises(FallbackSummaryError) as caught:
        model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    summary = caught.value
    keys = {"k1": str(setup.k1.pk), "k2": str(setup.k2.pk), "b1": str(setup.b1.pk)}
    assert [(a.provider, a.profile_id, a.error_class) for a in summary.attempts] == [
        ("zhipu", keys["k1"], "auth"),
        ("zhipu", keys["k2"], "auth"),
        ("gemini", keys["b1"], "server"),
        ("gemini", keys["b1"], "server"),
        ("gemini", keys["b1"], "server"),
    ]
    # soonest expiry: the first profile to come back, here all three ~30 s from now
    # (k1/k2: 30 s auth cooldown; b1: the first 30 s cooldown of gemini-flash-lite)
    assert 25 <= summary.soonest_expiry - clock() <= 31
    call = ModelCall.objects.get(key="c1")
    assert call.status == "failed"
    assert call.soonest_expiry is not None
    assert "zhipu" in call.error and "gemini" in call.error
    assert len(_attempts("c1")) == len(summary.attempts)


def test_a_non_json_answer_fails_over_with_a_clear_message(setup, scoped, primary, fallback, clock):
    primary.script_chat([], default=primary.malformed())
    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "ok"
    first = FailoverAttempt.objects.filter(call__key="c1").order_by("seq").first()
    assert first.error_class == "server"
    assert "JSON" in first.message


def test_attempt_rows_belong_to_the_calling_tenant(setup, cast, primary, clock):
    with tenant_scope(cast.tenant):
        model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    with tenant_scope(cast.other_tenant):
        assert not ModelCall.objects.exists()
        assert not FailoverAttempt.objects.exists()
    with tenant_scope(cast.tenant):
        assert FailoverAttempt.objects.count() == 1


def test_an_anthropic_fallback_answers_with_normalised_tool_calls(setup, scoped, primary, clock):
    from agents.models import AuthProfile, ChainCandidate, Provider
    from orion.core.fakes import FakeAnthropic

    with FakeAnthropic() as claude:
        provider = Provider.objects.create(
            name="anthropic", kind="anthropic", base_url=claude.base_url
        )
        AuthProfile.objects.create(provider=provider, label="a1", secret="sk-ant-test-4444")
        setup.chain.candidates.filter(position=2).delete()
        ChainCandidate.objects.create(
            chain=setup.chain, position=2, provider=provider, model="claude-sonnet"
        )
        primary.script_chat([], default=primary.server_error(502))
        claude.script_chat(
            [claude.ok(tool_calls=[("send_email", {"to": "a@b.test"})], usage=(50, 7, 20))]
        )
        result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("send_email", {"to": "a@b.test"})
    ]
    assert result.finish_reason == "tool_calls"
    assert claude.api_keys == ["sk-ant-test-4444"]
    call = ModelCall.objects.get(key="c1")
    assert (call.provider, call.model, call.output_tokens) == ("anthropic", "claude-sonnet", 7)


def test_a_failed_key_is_closed_and_says_so_without_sending(
    setup, scoped, primary, fallback, clock
):
    from agents.services.model_calls import ModelCallClosed

    primary.script_chat([], default=primary.unauthorized())
    fallback.script_chat([], default=fallback.unauthorized())
    with pytest.raises(FallbackSummaryError):
        model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    sent = len(primary.chat_requests) + len(fallback.chat_requests)
    with pytest.raises(ModelCallClosed, match="'c1' failed"):
        model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert len(primary.chat_requests) + len(fallback.chat_requests) == sent


def test_a_second_worker_on_the_same_attempt_stops_before_sending(setup, scoped):
    from agents.services.failover_store import ConcurrentWalk, RowLedger
    from orion.core.rows import row_insert
    from orion.reliability import AttemptRecord

    call = ModelCall(tenant_id=scoped.pk, key="c1", chain=setup.chain)
    row_insert(call)
    record = AttemptRecord(
        seq=1,
        candidate_index=0,
        provider="zhipu",
        model="glm-4.7",
        profile_id=str(setup.k1.pk),
        try_no=1,
        status="started",
        started_at=time.time(),
    )
    RowLedger(call, fresh=True).begin("c1", record)  # the first worker
    with pytest.raises(ConcurrentWalk, match="begun by another worker"):
        RowLedger(call, fresh=True).begin("c1", record)  # the redelivered one
    assert FailoverAttempt.objects.filter(call=call).count() == 1
