"""Reads for the agents app."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from agents.models import (
    ACTIONABLE_TASK_STATUSES,
    OPEN_TASK_STATUSES,
    Agent,
    AuthProfile,
    ModelChain,
    Provider,
    Task,
)
from orion.reliability import Candidate, Profile


class ChainConfigError(ValidationError):
    """The model chain cannot be used as configured; the message names what is wrong."""


@dataclass(frozen=True)
class LoadedChain:
    """A chain with everything a walk needs, read in one go (3 queries)."""

    chain: ModelChain
    candidates: tuple[Candidate, ...]
    providers: dict[str, Provider]
    profiles: dict[str, tuple[Profile, ...]]
    auth: dict[str, AuthProfile]

    def profiles_of(self, provider: str) -> tuple[Profile, ...]:
        return self.profiles.get(provider, ())


def chain_for_agent(*, agent: Agent | None) -> ModelChain:
    """The agent's own chain, else the platform default."""
    if agent is not None and agent.model_chain_id is not None:
        return agent.model_chain
    chain = ModelChain.objects.filter(is_default=True).first()
    if chain is None:
        raise ChainConfigError("no default model chain is configured (admin: Model chains)")
    return chain


def chain_load(*, chain: ModelChain) -> LoadedChain:
    rows = list(chain.candidates.select_related("provider").order_by("position"))
    if not rows:
        raise ChainConfigError(f"model chain {chain.name!r} has no candidates")
    providers = {row.provider.name: row.provider for row in rows if row.provider.enabled}
    if not providers:
        raise ChainConfigError(f"every provider of model chain {chain.name!r} is disabled")
    auth = {
        str(p.pk): p
        for p in AuthProfile.objects.filter(provider__in=providers.values(), enabled=True)
        .select_related("provider")
        .order_by("priority", "id")
    }
    profiles: dict[str, list[Profile]] = {}
    for pk, row in auth.items():
        profiles.setdefault(row.provider.name, []).append(
            Profile(id=pk, provider=row.provider.name, priority=row.priority)
        )
    return LoadedChain(
        chain=chain,
        candidates=tuple(
            Candidate(r.provider.name, r.model, r.context_window)
            for r in rows
            if r.provider.name in providers
        ),
        providers=providers,
        profiles={name: tuple(found) for name, found in profiles.items()},
        auth=auth,
    )


# Model configuration changes rarely and is read on every model call: keep it per process
# for a few seconds. Saving any of it in this process clears the cache at once (signals);
# other processes pick the change up within CHAIN_CACHE_TTL_S.
CHAIN_CACHE_TTL_S = 5.0
_chain_cache: dict[int | None, tuple[float, LoadedChain]] = {}
_chain_cache_lock = threading.Lock()


def chain_cache_clear() -> None:
    with _chain_cache_lock:
        _chain_cache.clear()


def chain_load_cached(
    *, agent: Agent | None = None, chain: ModelChain | None = None
) -> LoadedChain:
    """`chain_load` of the given chain, else the agent's, else the default, from the cache."""
    key = chain.pk if chain is not None else (agent.model_chain_id if agent is not None else None)
    now = time.monotonic()
    with _chain_cache_lock:
        hit = _chain_cache.get(key)
    if hit is not None and now - hit[0] < CHAIN_CACHE_TTL_S:
        return hit[1]
    loaded = chain_load(chain=chain or chain_for_agent(agent=agent))
    with _chain_cache_lock:
        _chain_cache[key] = (now, loaded)
    return loaded


def tasks_actionable(*, agent: Agent) -> QuerySet:
    """The tasks a heartbeat of `agent` may pick up (its own, to do or in progress, not
    blocked by an open task), most important first; in-house and over the API alike."""
    return (
        Task.objects.filter(assignee=agent, status__in=ACTIONABLE_TASK_STATUSES)
        .exclude(blockers__status__in=OPEN_TASK_STATUSES)
        .order_by("-priority", "due_at", "id")
    )
