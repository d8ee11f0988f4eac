"""parse_retry_after / parse_duration: seconds, HTTP-dates, milliseconds, reset headers."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orion.reliability import parse_duration, parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"RETRY-AFTER": "120"}, 120.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),  # ms wins: more precise
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({}, None),
        ({"Content-Type": "application/json"}, None),
        ({"x-ratelimit-reset-requests": "1s"}, 1.0),
        ({"x-ratelimit-reset-tokens": "6m0s"}, 360.0),
        ({"x-ratelimit-reset": str(int(NOW) + 42)}, 42.0),  # epoch seconds
        ({"x-ratelimit-reset": "7"}, 7.0),
        ({"x-ratelimit-reset-requests": "2023-01-01T00:00:00Z"}, 0.0),  # in the past
        ({"x-ratelimit-reset-requests": "2023-11-14T22:14:20Z"}, 60.0),  # NOW + 60
        ({"Retry-After": "3", "x-ratelimit-reset-tokens": "6m0s"}, 3.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


def test_exhausted_limit_decides_among_reset_headers() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "10",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "45s",
    }
    assert parse_retry_after(headers, now=NOW) == 45.0
    del headers["x-ratelimit-remaining-tokens"]
    assert parse_retry_after(headers, now=NOW) == 1.0  # unknown which: the shortest


def test_works_with_httpx_headers() -> None:
    import httpx

    assert parse_retry_after(httpx.Headers({"Retry-After": "4"}), now=NOW) == 4.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1.5", 1.5), ("20ms", 0.02), ("6m0s", 360.0), ("1h2m3.5s", 3723.5), ("2m59.56s", 179.56)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "5 minutes", "1x", "s"])
def test_parse_duration_rejects_junk(text: str) -> None:
    assert parse_duration(text) is None


@settings(database=None)
@given(delta=st.integers(min_value=-(10**6), max_value=10**6))
def test_http_date_is_relative_to_now_and_never_negative(delta: int) -> None:
    headers = {"Retry-After": formatdate(NOW + delta, usegmt=True)}
    assert parse_retry_after(headers, now=NOW) == max(float(delta), 0.0)
