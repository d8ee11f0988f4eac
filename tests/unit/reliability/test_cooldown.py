"""Cooldown math: schedule, never extending, disables, 24 h reset, probes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orion.reliability import (
    CooldownSchedule,
    CooldownState,
    ErrorClass,
    expires_at,
    is_usable,
    mark_probe,
    next_try_at,
    probe_allowed,
    record_failure,
    record_success,
)
from orion.reliability.cooldown import COOLING_CLASSES

E = ErrorClass
T = 1_700_000_000.0
SETTINGS = settings(database=None, max_examples=300)
HOUR = 3600.0

cooling = st.sampled_from(sorted(COOLING_CLASSES))
any_class = st.sampled_from(list(ErrorClass))
gaps = st.floats(min_value=0.0, max_value=2 * 24 * HOUR)


def fail_at(times: list[float], error_class: ErrorClass = E.RATE_LIMIT) -> CooldownState:
    state = CooldownState()
    for now in times:
        state = record_failure(state, error_class, now=now)
    return state


def test_schedule_is_30_60_then_300_capped() -> None:
    state, untils = CooldownState(), []
    now = T
    for _ in range(5):
        state = record_failure(state, E.AUTH, now=now)
        untils.append(state.cooldown_until - now)
        now = state.cooldown_until  # fail again right when the cooldown ends
    assert untils == [30.0, 60.0, 300.0, 300.0, 300.0]
    assert state.error_count == 5
    assert state.reason == "auth"


def test_active_cooldown_is_never_extended_but_counts() -> None:
    state = record_failure(CooldownState(), E.SERVER, now=T)
    again = record_failure(state, E.SERVER, now=T + 10)
    assert again.cooldown_until == T + 30
    assert again.error_count == 2
    assert again.last_failure_at == T + 10


def test_counters_reset_after_24h_quiet() -> None:
    state = fail_at([T, T + 31, T + 92])  # 3 failures, next cooldown would be 300 s
    later = T + 92 + 24 * HOUR
    state = record_failure(state, E.RATE_LIMIT, now=later)
    assert state.error_count == 1
    assert state.cooldown_until == later + 30


def test_billing_disables_5h_doubling_to_24h() -> None:
    state, durations, now = CooldownState(), [], T
    for _ in range(5):
        state = record_failure(state, E.BILLING, now=now)
        durations.append((state.disabled_until - now) / HOUR)
        now = state.disabled_until
        if now - state.last_failure_at >= 24 * HOUR:
            now = state.last_failure_at + 23 * HOUR  # stay inside the 24 h window
    assert durations == [5, 10, 20, 24, 24]
    assert state.cooldown_until is None  # a disable is not a cooldown


def test_revoked_key_disables_10min_doubling_to_60min() -> None:
    state, durations, now = CooldownState(), [], T
    for _ in range(5):
        state = record_failure(state, E.AUTH_PERMANENT, now=now)
        durations.append((state.disabled_until - now) / 60)
        now = state.disabled_until
    assert durations == [10, 20, 40, 60, 60]


@pytest.mark.parametrize("error_class", [E.CONTEXT_OVERFLOW, E.CONTENT_POLICY, E.FORMAT])
def test_request_level_classes_leave_the_profile_alone(error_class: ErrorClass) -> None:
    state = fail_at([T])
    assert record_failure(state, error_class, now=T + 1) == state


def test_success_clears_everything() -> None:
    state = record_failure(fail_at([T]), E.BILLING, now=T + 1)
    assert record_success(state) == CooldownState()
    assert is_usable(record_success(state), now=T + 2)


def test_usable_and_expiry() -> None:
    state = fail_at([T])
    assert not is_usable(state, now=T + 29.9)
    assert is_usable(state, now=T + 30)
    assert expires_at(state) == T + 30
    assert expires_at(CooldownState()) is None
    both = record_failure(state, E.BILLING, now=T + 1)
    assert expires_at(both) == T + 1 + 5 * HOUR
    assert not is_usable(both, now=T + 31)


def test_probe_once_per_interval_for_cooldowns_only() -> None:
    state = fail_at([T, T + 30, T + 90])  # third failure: cooling until T + 390
    assert state.cooldown_until == T + 390
    assert not probe_allowed(state, now=T + 100)
    assert probe_allowed(state, now=T + 120)
    probed = mark_probe(state, now=T + 120)
    assert not probe_allowed(probed, now=T + 149)
    assert probe_allowed(probed, now=T + 150)
    assert not probe_allowed(CooldownState(), now=T)  # usable: nothing to probe
    disabled = record_failure(CooldownState(), E.BILLING, now=T)
    assert not probe_allowed(disabled, now=T + HOUR)


def test_next_try_at_uses_the_probe_slot() -> None:
    state = fail_at([T, T + 30, T + 90])  # cooling until T + 390, last probe T + 90
    assert next_try_at(state, now=T + 100) == T + 120
    assert next_try_at(CooldownState(), now=T) == T
    disabled = record_failure(CooldownState(), E.AUTH_PERMANENT, now=T)
    assert next_try_at(disabled, now=T) == T + 600


def test_custom_schedule() -> None:
    schedule = CooldownSchedule(cooldown_steps_s=(1.0, 2.0))
    state = record_failure(CooldownState(), E.TIMEOUT, now=T, schedule=schedule)
    assert state.cooldown_until == T + 1
    with pytest.raises(ValueError, match="cooldown_steps_s"):
        CooldownSchedule(cooldown_steps_s=())


# --- properties ----------------------------------------------------------------------


@SETTINGS
@given(classes=st.lists(any_class, min_size=1, max_size=30), gaps=st.lists(gaps, min_size=30))
def test_an_active_cooldown_is_never_extended_or_shortened(classes, gaps) -> None:
    state, now = CooldownState(), T
    for error_class, gap in zip(classes, gaps, strict=False):
        now += gap
        before = state
        state = record_failure(state, error_class, now=now)
        if before.cooldown_until is not None and before.cooldown_until > now:
            assert state.cooldown_until == before.cooldown_until


@SETTINGS
@given(classes=st.lists(any_class, min_size=1, max_size=30), gaps=st.lists(gaps, min_size=30))
def test_every_window_stays_within_its_schedule(classes, gaps) -> None:
    state, now = CooldownState(), T
    for error_class, gap in zip(classes, gaps, strict=False):
        now += gap
        before = state
        state = record_failure(state, error_class, now=now)
        if state.cooldown_until != before.cooldown_until:
            assert error_class in COOLING_CLASSES
            assert state.cooldown_until - now in (30.0, 60.0, 300.0)
        if state.disabled_until != before.disabled_until:
            length = state.disabled_until - now
            if error_class is E.BILLING:
                assert 5 * HOUR <= length <= 24 * HOUR
            else:
                assert error_class is E.AUTH_PERMANENT
                assert 10 * 60 <= length <= 60 * 60


@SETTINGS
@given(count=st.integers(min_value=1, max_value=50), error_class=cooling)
def test_nth_failure_gets_the_nth_step(count: int, error_class: ErrorClass) -> None:
    state, now = CooldownState(), T
    for _ in range(count):
        if state.cooldown_until is not None:
            now = state.cooldown_until
        state = record_failure(state, error_class, now=now)
    assert state.cooldown_until - now == (30.0, 60.0, 300.0)[min(count, 3) - 1]


@SETTINGS
@given(
    failures=st.integers(min_value=1, max_value=10),
    quiet=st.floats(min_value=24 * HOUR, max_value=365 * 24 * HOUR),
    error_class=st.sampled_from([E.RATE_LIMIT, E.BILLING, E.AUTH_PERMANENT]),
)
def test_a_day_without_failure_resets_the_counters(failures, quiet, error_class) -> None:
    state, now = CooldownState(), T
    for _ in range(failures):
        state = record_failure(state, error_class, now=now)
        now += 1
    # quiet counts from the last failure, or the end of a disable when that is later
    now = max(state.last_failure_at, state.disabled_until or 0.0) + quiet
    fresh = record_failure(CooldownState(), error_class, now=now)
    assert record_failure(state, error_class, now=now) == fresh


@SETTINGS
@given(
    checks=st.lists(st.floats(min_value=0.0, max_value=400.0), min_size=1, max_size=60),
)
def test_probes_at_most_every_30s(checks: list[float]) -> None:
    state = fail_at([T, T + 30, T + 90])  # cooling until T + 390
    probes = []
    for offset in sorted(checks):
        now = T + 90 + offset
        if probe_allowed(state, now=now):
            probes.append(now)
            state = mark_probe(state, now=now)
    assert all(b - a >= 30.0 for a, b in itertools.pairwise(probes))
    assert all(p < T + 390 for p in probes)  # no probe once usable anyway


def test_billing_disable_stays_at_the_cap_while_it_keeps_failing() -> None:
    state, now, hours = CooldownState(), T, []
    for _ in range(6):
        state = record_failure(state, E.BILLING, now=now)
        hours.append((state.disabled_until - now) / HOUR)
        now = state.disabled_until  # tried again the moment the disable ends: fails again
    assert hours == [5, 10, 20, 24, 24, 24]


def test_a_day_of_quiet_after_the_disable_ends_resets_billing() -> None:
    state = fail_at([T, T + 5 * HOUR], E.BILLING)  # 5 h, then 10 h: ends at T + 15 h
    after = state.disabled_until + 24 * HOUR
    assert record_failure(state, E.BILLING, now=after).disabled_until == after + 5 * HOUR


def test_billing_and_revoked_keys_double_on_their_own_counters() -> None:
    state = fail_at([T, T + 1, T + 2], E.BILLING)
    state = record_failure(state, E.AUTH_PERMANENT, now=T + 3)
    assert (state.billing_disable_count, state.revoked_disable_count) == (3, 1)
    revoked_only = record_failure(CooldownState(), E.AUTH_PERMANENT, now=T + 3)
    assert revoked_only.disabled_until == T + 3 + 10 * 60  # 10 min, not 80
    state = record_failure(state, E.BILLING, now=T + 4)
    assert state.billing_disable_count == 4 and state.revoked_disable_count == 1


@pytest.mark.parametrize(("retry_after", "window"), [(None, 30), (10, 30), (120, 120), (600, 300)])
def test_a_retry_after_longer_than_the_step_sets_the_window_up_to_the_cap(
    retry_after, window
) -> None:
    state = record_failure(CooldownState(), E.RATE_LIMIT, now=T, retry_after=retry_after)
    assert state.cooldown_until == T + window


def test_a_retry_after_never_extends_an_active_cooldown() -> None:
    state = record_failure(CooldownState(), E.RATE_LIMIT, now=T)
    state = record_failure(state, E.RATE_LIMIT, now=T + 10, retry_after=200)
    assert state.cooldown_until == T + 30
