"""FailoverWalker live scenarios: fake clock, recorded sleeps, scripted `send`."""

from __future__ import annotations

import httpx
import pytest

from orion.reliability import (
    ACTION,
    Action,
    Candidate,
    CooldownState,
    ErrorClass,
    FailoverWalker,
    FallbackSummaryError,
    InMemoryCooldownStore,
    InMemoryLedger,
    is_usable,
)

from .fakes import GEMINI, GLM, OLLAMA, T0, Profiles, Rig, fail

E = ErrorClass


def rig(*chain: Candidate, **profiles: list[str]) -> Rig:
    table = {"zhipu": ["z1", "z2"], "gemini": ["g1"], "ollama": ["o1"]}
    table.update(profiles)
    return Rig(list(chain), Profiles(table))


def steps(r: Rig, call_id: str = "call") -> list[tuple[str, str, int, str]]:
    return [(a.model, a.profile_id, a.try_no, a.status) for a in r.ledger.load(call_id)]


def test_first_try_succeeds() -> None:
    r = rig(GLM, GEMINI)
    send = r.script(default="answer")
    result = r.walker().walk("call", send)
    assert result.value == "answer"
    assert (result.candidate, result.profile.id, result.replayed) == (GLM, "z1", False)
    assert steps(r) == [("glm-4.7", "z1", 1, "succeeded")]
    assert result.attempts == r.ledger.load("call")
    assert r.clock.sleeps == []
    assert result.attempts[0].duration_ms == pytest.approx(250.0)


def test_record_is_durable_before_the_request_is_sent() -> None:
    r = rig(GLM)
    seen = []

    def send(candidate, profile):
        seen.append([(a.seq, a.status) for a in r.ledger.load("call")])
        return "ok"

    r.walker().walk("call", send)
    assert seen == [[(1, "started")]]


@pytest.mark.parametrize("error_class", list(ErrorClass))
def test_each_class_takes_its_action(error_class: ErrorClass) -> None:
    r = rig(GLM, GEMINI)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(error_class)]})
    action = ACTION[error_class]
    if action is Action.SURFACE:
        with pytest.raises(FallbackSummaryError) as info:
            r.walker().walk("call", send)
        assert info.value.surfaced and send.calls == [("glm-4.7", "z1")]
        assert r.store.states == {}  # not the profile's fault: nothing cooled
        return
    r.walker().walk("call", send)
    expected_next = {
        Action.RETRY_SAME: ("glm-4.7", "z1"),
        Action.ROTATE_PROFILE: ("glm-4.7", "z2"),
        Action.NEXT_MODEL: ("gemini-flash-lite", "g1"),
        Action.LARGER_MODEL: ("gemini-flash-lite", "g1"),
    }[action]
    assert send.calls == [("glm-4.7", "z1"), expected_next]
    assert len(r.clock.sleeps) == (1 if action is Action.RETRY_SAME else 0)


def test_429_with_retry_after_2_sleeps_2s_then_retries() -> None:
    r = rig(GLM)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.RATE_LIMIT, status=429, retry_after=2)]})
    result = r.walker().walk("call", send)
    assert r.clock.sleeps == [2.0]
    assert steps(r) == [("glm-4.7", "z1", 1, "failed"), ("glm-4.7", "z1", 2, "succeeded")]
    assert result.attempts[0].retry_after == 2.0 and result.attempts[0].http_status == 429


def test_retry_after_beyond_60s_fails_over_at_once() -> None:
    r = rig(GLM)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.RATE_LIMIT, retry_after=600)]})
    result = r.walker().walk("call", send)
    assert r.clock.sleeps == []
    assert result.profile.id == "z2"
    cooled = r.store.get("z1", "glm-4.7")
    assert cooled.cooldown_until == pytest.approx(T0 + 0.25 + 30)  # only that model
    assert r.store.get("z1", "") == CooldownState()


def test_rate_limit_exhausted_cools_profile_model_and_rotates() -> None:
    r = rig(GLM)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.RATE_LIMIT)] * 3})
    result = r.walker().walk("call", send)
    assert r.clock.sleeps == pytest.approx([0.3, 0.6])
    assert [c[1] for c in send.calls] == ["z1", "z1", "z1", "z2"]
    assert result.profile.id == "z2"
    assert not is_usable(r.store.get("z1", "glm-4.7"), now=r.clock.now)
    assert r.store.get("z2", "glm-4.7") == CooldownState()


def test_401_rotates_cools_30s_and_a_later_walk_avoids_then_reuses_the_profile() -> None:
    r = rig(GLM)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.AUTH, status=401)]})
    walker = r.walker()
    assert walker.walk("c1", send).profile.id == "z2"
    failed_at = T0 + 0.25
    assert r.store.get("z1", "").cooldown_until == pytest.approx(failed_at + 30)

    r.clock.now = failed_at + 29
    send.calls.clear()
    walker.walk("c2", send)
    assert send.calls == [("glm-4.7", "z2")]  # z1 untouched while cooling

    r.clock.now = failed_at + 30
    send.calls.clear()
    result = walker.walk("c3", send)
    assert send.calls == [("glm-4.7", "z1")]  # back in use, exactly once
    assert r.store.get("z1", "") == CooldownState()  # success cleared it
    assert result.attempts[0].probe is False


def test_a_long_cooldown_gets_one_single_try_probe_every_30s() -> None:
    r = rig(GLM)
    store = r.store
    # z1 has failed three times: cooling for 300 s from T0, last probe at T0.
    store.put(
        "z1",
        "",
        CooldownState(
            error_count=3,
            cooldown_until=T0 + 300,
            last_failure_at=T0,
            last_probe_at=T0,
            reason="auth",
        ),
    )
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.RATE_LIMIT, status=429)]})
    walker = r.walker()

    r.clock.now = T0 + 10
    walker.walk("c1", send)
    assert send.calls == [("glm-4.7", "z2")]  # no probe yet

    r.clock.now = T0 + 30
    send.calls.clear()
    walker.walk("c2", send)
    # The probe fails with a retryable 429, but a probe gets no retries: straight on.
    assert send.calls == [("glm-4.7", "z1"), ("glm-4.7", "z2")]
    assert [a.probe for a in r.ledger.load("c2")] == [True, False]
    assert r.clock.sleeps == []
    assert store.get("z1", "").cooldown_until == T0 + 300  # a probe never extends it

    r.clock.now = T0 + 45
    send.calls.clear()
    walker.walk("c3", send)
    assert send.calls == [("glm-4.7", "z2")]  # next probe slot not reached

    r.clock.now = T0 + 61
    send.calls.clear()
    result = walker.walk("c4", send)
    assert send.calls == [("glm-4.7", "z1")]  # recovered: the probe succeeds
    assert result.attempts[0].probe is True and result.profile.id == "z1"
    assert store.get("z1", "") == CooldownState() == store.get("z1", "glm-4.7")


def test_provider_level_failure_of_a_probe_cools_the_provider_without_retries() -> None:
    r = rig(GLM, GEMINI)
    for profile_id in ("z1", "z2"):
        r.store.put(
            profile_id,
            "glm-4.7",
            CooldownState(error_count=3, cooldown_until=T0 + 300, last_probe_at=T0 - 30),
        )
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.SERVER, status=500)]})
    result = r.walker().walk("call", send)
    assert send.calls == [("glm-4.7", "z1"), ("gemini-flash-lite", "g1")]
    assert result.candidate == GEMINI and r.clock.sleeps == []
    # z2 was not probed in the same walk: the provider-wide failure counted as its probe.
    assert r.store.get("z2", "glm-4.7").last_probe_at == pytest.approx(T0 + 0.25)


def test_provider_wide_503_goes_to_next_candidate_and_later_walks_skip_the_primary() -> None:
    r = rig(GLM, GEMINI)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.OVERLOADED, status=503)] * 3})
    walker = r.walker()
    result = walker.walk("c1", send)
    assert result.candidate == GEMINI
    assert [c for c in send.calls if c[0] == "glm-4.7"] == [("glm-4.7", "z1")] * 3
    assert r.clock.sleeps == pytest.approx([0.3, 0.6])
    for profile_id in ("z1", "z2"):  # every profile of the provider, that model only
        assert not is_usable(r.store.get(profile_id, "glm-4.7"), now=r.clock.now)
        assert r.store.get(profile_id, "") == CooldownState()

    r.clock.advance(5)
    send.calls.clear()
    r.clock.sleeps.clear()
    walker.walk("c2", send)
    assert send.calls == [("gemini-flash-lite", "g1")]
    assert r.clock.sleeps == []


def test_same_provider_other_model_is_not_cooled_by_a_provider_wide_failure() -> None:
    glm_air = Candidate("zhipu", "glm-4.5-air", 128_000)
    r = rig(GLM, glm_air)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.TIMEOUT)] * 3})
    result = r.walker().walk("call", send)
    assert (result.candidate, result.profile.id) == (glm_air, "z1")


def test_auth_failure_cools_the_whole_profile_for_every_model() -> None:
    glm_air = Candidate("zhipu", "glm-4.5-air", 128_000)
    r = rig(GLM, glm_air, zhipu=["z1"])
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.AUTH)]})
    with pytest.raises(FallbackSummaryError) as info:
        r.walker().walk("call", send)
    assert send.calls == [("glm-4.7", "z1")]  # not retried for glm-4.5-air
    assert any("glm-4.5-air profile z1: cooling down or disabled" in n for n in info.value.notes)


@pytest.mark.parametrize(
    ("error_class", "disabled_for"), [(E.BILLING, 5 * 3600.0), (E.AUTH_PERMANENT, 600.0)]
)
def test_disables(error_class: ErrorClass, disabled_for: float) -> None:
    r = rig(GLM)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(error_class)]})
    assert r.walker().walk("call", send).profile.id == "z2"
    state = r.store.get("z1", "")
    assert state.disabled_until == pytest.approx(T0 + 0.25 + disabled_for)
    r.clock.advance(disabled_for - 60)  # long past any probe slot: still no probe
    send.calls.clear()
    r.walker().walk("again", send)
    assert send.calls == [("glm-4.7", "z2")]


def test_model_not_found_cools_that_model_on_that_profile_and_moves_on() -> None:
    r = rig(GLM, GEMINI)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.MODEL_NOT_FOUND, status=404)]})
    assert r.walker().walk("call", send).candidate == GEMINI
    assert not is_usable(r.store.get("z1", "glm-4.7"), now=r.clock.now)
    assert is_usable(r.store.get("z1", ""), now=r.clock.now)


def test_context_overflow_picks_a_larger_context_candidate() -> None:
    r = rig(GLM, OLLAMA, GEMINI)  # 128k, 8k, 1M
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.CONTEXT_OVERFLOW, status=400)]})
    result = r.walker().walk("call", send)
    assert result.candidate == GEMINI
    assert send.calls == [("glm-4.7", "z1"), ("gemini-flash-lite", "g1")]
    assert r.store.states == {}


def test_context_overflow_on_the_largest_model_surfaces() -> None:
    r = rig(GEMINI, GLM, OLLAMA)
    send = r.script(outcomes={("gemini-flash-lite", "g1"): [fail(E.CONTEXT_OVERFLOW)]})
    with pytest.raises(FallbackSummaryError) as info:
        r.walker().walk("call", send)
    assert info.value.surfaced
    assert info.value.last_class is E.CONTEXT_OVERFLOW
    assert send.calls == [("gemini-flash-lite", "g1")]


def test_after_a_context_overflow_smaller_models_stay_skipped() -> None:
    r = rig(OLLAMA, GLM, Candidate("local", "tiny", 4096), GEMINI)
    send = r.script(
        outcomes={
            ("llama3.1:8b", "o1"): [fail(E.CONTEXT_OVERFLOW)],
            ("glm-4.7", "z1"): [fail(E.MODEL_NOT_FOUND)],
            ("glm-4.7", "z2"): [fail(E.MODEL_NOT_FOUND)],
        }
    )
    result = r.walker().walk("call", send)
    assert result.candidate == GEMINI
    assert ("tiny", "l1") not in send.calls


def test_all_fail_raises_summary_with_every_attempt_and_soonest_expiry() -> None:
    r = rig(GLM, OLLAMA, zhipu=["z1"])
    send = r.script(
        outcomes={
            ("glm-4.7", "z1"): [fail(E.AUTH, status=401)],
            ("llama3.1:8b", "o1"): [fail(E.SERVER, status=500)] * 3,
        }
    )
    with pytest.raises(FallbackSummaryError) as info:
        r.walker().walk("call", send)
    err = info.value
    assert [(a.model, a.profile_id, a.try_no, a.error_class) for a in err.attempts] == [
        ("glm-4.7", "z1", 1, E.AUTH),
        ("llama3.1:8b", "o1", 1, E.SERVER),
        ("llama3.1:8b", "o1", 2, E.SERVER),
        ("llama3.1:8b", "o1", 3, E.SERVER),
    ]
    assert err.attempts == r.ledger.load("call")
    assert not err.surfaced and err.last_class is E.SERVER
    z1_failed_at = T0 + 0.25
    assert err.soonest_expiry == pytest.approx(z1_failed_at + 30)  # earlier than ollama's
    assert r.store.get("o1", "llama3.1:8b").cooldown_until > err.soonest_expiry


def test_soonest_expiry_counts_both_scopes() -> None:
    r = rig(GLM, zhipu=["z1"])
    # The profile scope is free soon, but the model scope is disabled for longer.
    r.store.put("z1", "", CooldownState(cooldown_until=T0 + 10, last_probe_at=T0 - 100))
    r.store.put("z1", "glm-4.7", CooldownState(disabled_until=T0 + 600))
    with pytest.raises(FallbackSummaryError) as info:
        r.walker().walk("call", r.script())
    assert info.value.attempts == []
    assert info.value.soonest_expiry == T0 + 600


def test_empty_chain_is_an_error() -> None:
    walker = FailoverWalker([], Profiles({}), InMemoryLedger(), InMemoryCooldownStore())
    with pytest.raises(ValueError, match="model chain is empty"):
        walker.walk("call", lambda c, p: "x")


def test_provider_without_profiles_is_skipped_and_noted() -> None:
    r = rig(Candidate("anthropic", "claude-sonnet", 200_000), GLM)
    assert r.walker().walk("call", r.script()).candidate == GLM
    r2 = rig(Candidate("anthropic", "claude-sonnet", 200_000))
    with pytest.raises(FallbackSummaryError) as info:
        r2.walker().walk("call", r2.script())
    assert info.value.soonest_expiry is None
    assert "skipped anthropic/claude-sonnet: no auth profiles for anthropic" in str(info.value)


def test_transport_exceptions_from_send_are_classified() -> None:
    r = rig(GLM)
    send = r.script(outcomes={("glm-4.7", "z1"): [httpx.ConnectError("refused")]})
    r.walker().walk("call", send)
    first = r.ledger.load("call")[0]
    assert (first.status, first.error_class) == ("failed", E.NETWORK)
    assert [c[1] for c in send.calls] == ["z1", "z1"]


def test_a_bug_in_send_is_recorded_and_re_raised() -> None:
    r = rig(GLM, GEMINI)
    send = r.script(outcomes={("glm-4.7", "z1"): [KeyError("choices")]})
    with pytest.raises(KeyError):
        r.walker().walk("call", send)
    (record,) = r.ledger.load("call")
    assert (record.status, record.error_class) == ("failed", E.UNKNOWN)
    assert "KeyError" in record.message


def test_no_step_is_ever_repeated_within_a_call() -> None:
    r = rig(GLM, GEMINI, OLLAMA)
    send = r.script(default=fail(E.SERVER))
    with pytest.raises(FallbackSummaryError) as info:
        r.walker().walk("call", send)
    keys = [(a.candidate_index, a.profile_id, a.try_no) for a in info.value.attempts]
    assert len(keys) == len(set(keys)) == 9
    assert [a.seq for a in info.value.attempts] == list(range(1, 10))


def test_a_backoff_that_would_cross_the_deadline_ends_the_walk_with_the_attempts() -> None:
    from orion.reliability import FallbackSummaryError

    r = Rig([GLM, GEMINI], Profiles({"zhipu": ["z1"], "gemini": ["g1"]}))
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.RATE_LIMIT, retry_after=20.0)]})
    with pytest.raises(FallbackSummaryError) as caught:
        r.walker().walk("call", send, deadline=r.clock() + 10)
    assert caught.value.deadline
    assert [a.error_class for a in caught.value.attempts] == [E.RATE_LIMIT]
    assert r.clock.sleeps == []


def test_two_walkers_cannot_both_probe_in_one_window() -> None:
    from orion.reliability import CooldownState, Profile

    r = Rig([GLM], Profiles({"zhipu": ["z1"]}))
    now = r.clock()
    r.store.put("z1", "", CooldownState(cooldown_until=now + 300, last_probe_at=now - 31))
    first, second = r.walker(), r.walker()
    assert first._claim(Profile("z1", "zhipu"), "glm-4.7") == "probe"
    assert second._claim(Profile("z1", "zhipu"), "glm-4.7") is None
