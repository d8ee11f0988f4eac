"""What a walk runs over: model candidates, a provider's auth profiles, and step keys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """One model of the fallback chain. `context_window` 0 means unknown."""

    provider: str
    model: str
    context_window: int = 0


@dataclass(frozen=True)
class Profile:
    """One set of credentials for a provider (an API key or OAuth token), by id only."""

    id: str
    provider: str
    priority: int = 0


@dataclass(frozen=True)
class StepKey:
    """Identifies one attempt: which candidate, which profile, which try on that profile."""

    candidate_index: int
    profile_id: str
    try_no: int
