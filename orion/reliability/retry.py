"""Per-channel retry policy: how many tries, and how long to wait before each retry."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

_MAX_EXPONENT = 64  # floor * 2**64 is past any cap; avoids float overflow on huge attempts


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` is the total number of tries (3 = one try + two retries).

    Backoff before retry n+1 after failed try n: `min(floor_s * 2**(n-1), cap_s)`, then
    multiplied by a uniform factor in `[1 - jitter, 1 + jitter]`, so every delay lies in
    `[floor_s * (1 - jitter), cap_s * (1 + jitter)]`. A server's Retry-After replaces the
    backoff (never less than `floor_s`, no jitter). With `retry_after_cap_s` set (model
    calls: there is a fallback) a longer Retry-After means "don't wait, fail over now"
    (None); without it (channels: nothing to fail over to) the wait is capped at `cap_s`,
    and the caller still has the server's figure on the failure to reschedule by.
    """

    attempts: int = 3
    floor_s: float = 0.3
    cap_s: float = 30.0
    jitter: float = 0.1
    honour_retry_after: bool = True
    retry_after_cap_s: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            problems.append(f"attempts must be an integer, got {self.attempts!r}")
        elif self.attempts < 1:
            problems.append(f"attempts must be >= 1, got {self.attempts}")
        if not 0 <= self.jitter < 1:
            problems.append(f"jitter must be in [0, 1), got {self.jitter}")
        if not (0 < self.floor_s <= self.cap_s and math.isfinite(self.cap_s)):
            problems.append(f"need 0 < floor_s <= cap_s, got {self.floor_s} and {self.cap_s}")
        if self.retry_after_cap_s is not None and not self.retry_after_cap_s >= 0:
            problems.append(f"retry_after_cap_s must be >= 0, got {self.retry_after_cap_s}")
        if problems:
            raise ValueError("invalid retry policy: " + "; ".join(problems))

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, base: RetryPolicy | None = None
    ) -> RetryPolicy:
        """Build from config (e.g. a channel's JSON settings), overriding `base`'s values.

        Unknown keys and values of the wrong type raise ValueError naming the key.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValueError(f"unknown retry policy setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, raw in data.items():
            values[key] = _coerce(key, raw)
        return dataclasses.replace(base or cls(), **values)

    def should_retry(self, attempt: int) -> bool:
        """After try number `attempt` (1-based) failed, is another try allowed?"""
        return attempt < self.attempts

    def delay_for(
        self,
        attempt: int,
        *,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait after failed try `attempt` (1-based); None = fail over now.

        Call it for every attempt with that attempt's own Retry-After: nothing is cached.
        """
        if attempt < 1:
            raise ValueError(f"attempt is 1-based, got {attempt}")
        if retry_after is not None and self.honour_retry_after:
            if self.retry_after_cap_s is None:
                return min(max(retry_after, self.floor_s), self.cap_s)
            if retry_after > self.retry_after_cap_s:
                return None
            return max(retry_after, self.floor_s)
        base = min(self.floor_s * 2 ** min(attempt - 1, _MAX_EXPONENT), self.cap_s)
        return base * (1 + self.jitter * (2 * rand() - 1))


def _coerce(key: str, raw: Any) -> Any:
    if key == "attempts":
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError(f"retry policy setting attempts must be an integer, got {raw!r}")
        try:
            return int(raw)
        except ValueError:
            raise ValueError(
                f"retry policy setting attempts must be an integer, got {raw!r}"
            ) from None
    if key == "honour_retry_after":
        if not isinstance(raw, bool):
            raise ValueError(f"retry policy setting {key} must be true or false, got {raw!r}")
        return raw
    if raw is None and key == "retry_after_cap_s":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"retry policy setting {key} must be a number, got {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"retry policy setting {key} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"retry policy setting {key} must be finite, got {raw!r}")
    return value


POLICIES: Mapping[str, RetryPolicy] = MappingProxyType(
    {
        "telegram": RetryPolicy(floor_s=0.4),
        "discord": RetryPolicy(floor_s=0.5),
        "slack": RetryPolicy(floor_s=0.3),
        "email": RetryPolicy(floor_s=0.3),
        "webhook": RetryPolicy(floor_s=0.3),
        "model": RetryPolicy(floor_s=0.3, retry_after_cap_s=60.0),
    }
)


def policy_for(name: str) -> RetryPolicy:
    """The named default policy; KeyError names the known ones."""
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise KeyError(f"no retry policy named {name!r} (known: {known})") from None
