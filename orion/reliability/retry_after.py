"""Reading how long a server asked us to wait: Retry-After and its cousins."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_EPOCH_THRESHOLD = 1e9  # a bare number this large is an absolute epoch time, not a delay


def parse_retry_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds to wait from `now` (epoch seconds), or None when the server said nothing.

    Order: `retry-after-ms` (OpenAI, most precise), `Retry-After` (delta seconds or an
    HTTP-date), then the `x-ratelimit-reset[-*]` family. For the latter, a reset whose
    `x-ratelimit-remaining-*` twin is 0 is the exhausted limit and the longest such wins;
    if none is known to be exhausted the shortest reset is used (a retry that comes too
    early costs one try, one that comes too late can cost a needless failover).
    Header names are case-insensitive; a time already past gives 0.
    """
    lower = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    ms = _number(lower.get("retry-after-ms"))
    if ms is not None:
        return max(ms / 1000.0, 0.0)
    value = lower.get("retry-after")
    if value:
        seconds = _number(value)
        if seconds is not None:
            return max(seconds, 0.0)
        at = _http_date(value)
        if at is not None:
            return max(at - now, 0.0)
    return _ratelimit_reset(lower, now=now)


def parse_duration(value: str) -> float | None:
    """`"1.5"`, `"20ms"`, `"6m0s"`, `"1h2m3.5s"` -> seconds; None if not a duration."""
    value = value.strip()
    number = _number(value)
    if number is not None:
        return number
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def _ratelimit_reset(lower: Mapping[str, str], *, now: float) -> float | None:
    resets: dict[str, float] = {}
    for name, raw in lower.items():
        if name == "x-ratelimit-reset" or name.startswith("x-ratelimit-reset-"):
            seconds = _reset_seconds(raw, now=now)
            if seconds is not None:
                resets[name.removeprefix("x-ratelimit-reset")] = seconds
    if not resets:
        return None
    exhausted = [
        seconds
        for suffix, seconds in resets.items()
        if _number(lower.get(f"x-ratelimit-remaining{suffix}")) == 0
    ]
    return max(exhausted) if exhausted else min(resets.values())


def _reset_seconds(raw: str, *, now: float) -> float | None:
    number = _number(raw)
    if number is not None:
        return max(number - now if number >= _EPOCH_THRESHOLD else number, 0.0)
    seconds = parse_duration(raw)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return max(at.timestamp() - now, 0.0)


def _http_date(value: str) -> float | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
