"""Test doubles for the walker: a fake clock with recorded sleeps and a scripted `send`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orion.reliability import (
    AttemptFailed,
    Candidate,
    Classified,
    ErrorClass,
    FailoverWalker,
    InMemoryCooldownStore,
    InMemoryLedger,
    Profile,
    RetryPolicy,
)

T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fail(
    error_class: ErrorClass, *, status: int | None = None, retry_after: float | None = None
) -> Classified:
    return Classified.of(
        error_class, status=status, message=f"{error_class} happened", retry_after=retry_after
    )


@dataclass
class Script:
    """Outcomes per (model, profile_id), consumed in order; `default` once a list runs out.

    An outcome is a Classified (raised as AttemptFailed), a BaseException instance (raised
    as is) or anything else (returned). Each call takes `latency` seconds of fake time.
    """

    clock: FakeClock
    outcomes: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    default: Any = "ok"
    latency: float = 0.25
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, candidate: Candidate, profile: Profile) -> Any:
        key = (candidate.model, profile.id)
        self.calls.append(key)
        self.clock.advance(self.latency)
        queue = self.outcomes.get(key)
        outcome = queue.pop(0) if queue else self.default
        if isinstance(outcome, Classified):
            raise AttemptFailed(outcome)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class Profiles:
    """`profiles` callable: provider -> its profiles in priority order."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = {
            provider: [Profile(pid, provider, i) for i, pid in enumerate(ids)]
            for provider, ids in table.items()
        }

    def __call__(self, provider: str) -> list[Profile]:
        return list(self.table.get(provider, []))


@dataclass
class Rig:
    chain: list[Candidate]
    profiles: Profiles
    clock: FakeClock = field(default_factory=FakeClock)
    ledger: InMemoryLedger = field(default_factory=InMemoryLedger)
    store: InMemoryCooldownStore = field(default_factory=InMemoryCooldownStore)
    policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(retry_after_cap_s=60.0))

    def walker(self) -> FailoverWalker:
        return FailoverWalker(
            self.chain,
            self.profiles,
            self.ledger,
            self.store,
            self.policy,
            clock=self.clock,
            sleep=self.clock.sleep,
            rand=lambda: 0.5,  # jitter factor exactly 1: delays are floor * 2**(n-1)
        )

    def script(self, **kwargs: Any) -> Script:
        return Script(self.clock, **kwargs)


GLM = Candidate("zhipu", "glm-4.7", 128_000)
GEMINI = Candidate("gemini", "gemini-flash-lite", 1_000_000)
OLLAMA = Candidate("ollama", "llama3.1:8b", 8_192)
