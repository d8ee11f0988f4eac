"""RetryPolicy: backoff bounds, Retry-After handling, named defaults, config validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orion.reliability import POLICIES, RetryPolicy, policy_for

SETTINGS = settings(database=None, max_examples=300)

policies = st.builds(
    lambda floor, extra, jitter, attempts: RetryPolicy(
        attempts=attempts, floor_s=floor, cap_s=floor + extra, jitter=jitter
    ),
    floor=st.floats(min_value=0.001, max_value=10.0),
    extra=st.floats(min_value=0.0, max_value=100.0),
    jitter=st.floats(min_value=0.0, max_value=0.99),
    attempts=st.integers(min_value=1, max_value=10),
)
unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@SETTINGS
@given(policy=policies, attempt=st.integers(min_value=1, max_value=10_000), r=unit)
def test_delay_always_within_jittered_floor_and_cap(
    policy: RetryPolicy, attempt: int, r: float
) -> None:
    delay = policy.delay_for(attempt, rand=lambda: r)
    assert delay is not None
    low = policy.floor_s * (1 - policy.jitter)
    high = policy.cap_s * (1 + policy.jitter)
    assert low * (1 - 1e-9) <= delay <= high * (1 + 1e-9)


@SETTINGS
@given(policy=policies, attempt=st.integers(min_value=1, max_value=200))
def test_delay_without_jitter_is_monotone_non_decreasing(policy: RetryPolicy, attempt: int) -> None:
    def middle(n: int) -> float:
        return policy.delay_for(n, rand=lambda: 0.5)  # jitter factor exactly 1

    assert middle(attempt) <= middle(attempt + 1)


@SETTINGS
@given(policy=policies, attempt=st.integers(min_value=1, max_value=50), r=unit)
def test_jitter_stays_within_ten_percent_of_the_base(
    policy: RetryPolicy, attempt: int, r: float
) -> None:
    base = policy.delay_for(attempt, rand=lambda: 0.5)
    delay = policy.delay_for(attempt, rand=lambda: r)
    assert abs(delay - base) <= policy.jitter * base + 1e-12 * base  # float rounding


@SETTINGS
@given(
    attempt=st.integers(min_value=1, max_value=10),
    retry_after=st.floats(min_value=0.0, max_value=60.0),
    r=unit,
)
def test_retry_after_is_honoured_up_to_the_cap(attempt: int, retry_after: float, r: float) -> None:
    policy = POLICIES["model"]
    assert policy.delay_for(attempt, retry_after=retry_after, rand=lambda: r) == max(
        retry_after, policy.floor_s
    )


@SETTINGS
@given(
    attempt=st.integers(min_value=1, max_value=10),
    retry_after=st.floats(min_value=60.0, max_value=1e9, exclude_min=True),
)
def test_retry_after_beyond_the_cap_means_fail_over_now(attempt: int, retry_after: float) -> None:
    assert POLICIES["model"].delay_for(attempt, retry_after=retry_after) is None


def test_exact_default_schedule() -> None:
    policy = POLICIES["model"]
    assert [policy.delay_for(n, rand=lambda: 0.5) for n in (1, 2, 3, 8, 9)] == pytest.approx(
        [0.3, 0.6, 1.2, 30.0, 30.0]
    )
    assert policy.delay_for(1, rand=lambda: 0.0) == pytest.approx(0.27)
    assert policy.delay_for(9, rand=lambda: 0.999999) == pytest.approx(33.0, rel=1e-5)


def test_retry_after_is_read_per_attempt_not_cached() -> None:
    policy = POLICIES["model"]
    assert policy.delay_for(1, retry_after=2.0) == 2.0
    assert policy.delay_for(2, retry_after=5.0) == 5.0
    assert policy.delay_for(3, rand=lambda: 0.5) == pytest.approx(1.2)  # none given: backoff


def test_retry_after_below_floor_is_raised_to_floor_and_ignored_when_not_honoured() -> None:
    assert POLICIES["discord"].delay_for(1, retry_after=0.1) == 0.5
    policy = RetryPolicy(honour_retry_after=False, retry_after_cap_s=60.0)
    assert policy.delay_for(1, retry_after=600.0, rand=lambda: 0.5) == pytest.approx(0.3)


@pytest.mark.parametrize("channel", ["telegram", "discord", "slack", "email", "webhook"])
def test_channel_retry_after_is_capped_at_the_policy_cap(channel: str) -> None:
    policy = POLICIES[channel]
    assert policy.cap_s == 30.0
    assert policy.delay_for(1, retry_after=600.0) == 30.0
    assert policy.delay_for(2, retry_after=12.0) == 12.0
    custom = RetryPolicy.from_mapping({"cap_s": 5}, base=policy)
    assert custom.delay_for(1, retry_after=35.0) == 5.0


def test_should_retry_counts_total_tries() -> None:
    policy = RetryPolicy(attempts=3)
    assert [policy.should_retry(n) for n in (1, 2, 3, 4)] == [True, True, False, False]
    assert RetryPolicy(attempts=1).should_retry(1) is False


def test_attempt_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        RetryPolicy().delay_for(0)


def test_named_policies() -> None:
    assert policy_for("telegram").floor_s == 0.4
    assert policy_for("discord").floor_s == 0.5
    for name in ("slack", "email", "webhook", "model"):
        assert policy_for(name).floor_s == 0.3
    for policy in POLICIES.values():
        assert (policy.attempts, policy.cap_s, policy.jitter) == (3, 30.0, 0.1)
    assert policy_for("model").retry_after_cap_s == 60.0
    assert policy_for("telegram").retry_after_cap_s is None


def test_unknown_policy_name_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match=r"no retry policy named 'sms'.*known: discord"):
        policy_for("sms")


def test_from_mapping_overrides_a_base() -> None:
    policy = RetryPolicy.from_mapping({"attempts": "5", "cap_s": 10}, base=POLICIES["telegram"])
    assert policy == RetryPolicy(attempts=5, floor_s=0.4, cap_s=10.0)
    assert RetryPolicy.from_mapping({}) == RetryPolicy()
    assert RetryPolicy.from_mapping({"retry_after_cap_s": None}).retry_after_cap_s is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"attempts": 0}, "attempts must be >= 1"),
        ({"attempts": 2.5}, "attempts must be an integer"),
        ({"attempts": "three"}, "attempts must be an integer"),
        ({"attempts": True}, "attempts must be an integer"),
        ({"jitter": 1.0}, r"jitter must be in \[0, 1\)"),
        ({"jitter": -0.1}, r"jitter must be in \[0, 1\)"),
        ({"floor_s": 0}, "need 0 < floor_s <= cap_s"),
        ({"floor_s": 40}, "need 0 < floor_s <= cap_s"),
        ({"cap_s": "inf"}, "cap_s must be finite"),
        ({"floor_s": "fast"}, "floor_s must be a number"),
        ({"honour_retry_after": "yes"}, "honour_retry_after must be true or false"),
        ({"retry_after_cap_s": -1}, "retry_after_cap_s must be >= 0"),
        ({"retries": 3}, "unknown retry policy setting"),
    ],
)
def test_from_mapping_rejects_bad_config(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy.from_mapping(data)
