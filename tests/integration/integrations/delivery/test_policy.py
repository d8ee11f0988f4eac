"""The per-channel policy: ARCHITECTURE.md's numbers, the providers' waits, splitting."""

from __future__ import annotations

import pytest

from integrations.delivery.policy import RETRY_AFTER_MAX_S, channel_policy, split_text


@pytest.mark.parametrize(
    ("kind", "floor", "limit"),
    [("telegram", 0.4, 4096), ("discord", 0.5, 2000), ("slack", 0.3, 4000), ("email", 0.3, None)],
)
def test_the_numbers(kind, floor, limit):
    policy = channel_policy(kind)
    assert (policy.retry.attempts, policy.retry.floor_s, policy.retry.cap_s) == (3, floor, 30.0)
    assert (policy.retry.jitter, policy.max_chars, policy.max_parts) == (0.1, limit, 10)


def test_backoff_doubles_from_the_floor_with_jitter_and_stops_at_the_cap():
    policy = channel_policy("telegram")
    assert policy.delay_s(1, retry_after=None, rand=lambda: 0.5) == pytest.approx(0.4)
    assert policy.delay_s(2, retry_after=None, rand=lambda: 0.5) == pytest.approx(0.8)
    assert policy.delay_s(1, retry_after=None, rand=lambda: 0.0) == pytest.approx(0.36)
    assert policy.delay_s(1, retry_after=None, rand=lambda: 1.0) == pytest.approx(0.44)
    assert policy.delay_s(20, retry_after=None, rand=lambda: 0.5) == pytest.approx(30.0)


def test_the_providers_wait_wins_when_longer_even_past_the_cap():
    policy = channel_policy("discord")
    assert policy.delay_s(1, retry_after=0.1, rand=lambda: 0.5) == pytest.approx(0.5)  # floor
    assert policy.delay_s(1, retry_after=2.5, rand=lambda: 0.5) == pytest.approx(2.5)
    assert policy.delay_s(1, retry_after=45, rand=lambda: 0.5) == pytest.approx(45)
    assert policy.delay_s(1, retry_after=10**9, rand=lambda: 0.5) == RETRY_AFTER_MAX_S


def test_split_prefers_line_ends_then_spaces_then_cuts():
    assert split_text("short", 10) == ["short"]
    assert split_text("aaaa bbbb\ncccc dddd", 12) == ["aaaa bbbb\n", "cccc dddd"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb ", "cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("a" * 9 + "\n" + " " * 10, 10) == ["a" * 9 + "\n"]  # blank parts dropped


def test_the_outgoing_message_keeps_its_secret_out_of_its_repr():
    from integrations.delivery.transports import Outgoing

    token = "123456:" + "S" * 35
    message = Outgoing(tenant_id=1, key="k", text="hi", secret={"token": token})
    assert token not in repr(message) and "hi" in repr(message)
