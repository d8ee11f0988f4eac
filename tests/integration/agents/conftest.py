"""Model-call fixtures: two OpenAI-compatible fault servers and a chain over them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider
from agents.providers.base import ChatMessage, ChatRequest
from orion.core.fakes import FakeOpenAI
from tenants.scope import tenant_scope

REQUEST = ChatRequest(messages=[ChatMessage(role="user", content="What is on today?")])


@dataclass
class Clock:
    """Wall clock plus an offset the test moves; sleeps are recorded, not slept."""

    offset: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def primary() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fallback() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@dataclass
class Setup:
    chain: ModelChain
    zhipu: Provider
    backup: Provider
    k1: AuthProfile
    k2: AuthProfile
    b1: AuthProfile


@pytest.fixture
def setup(db, primary, fallback) -> Setup:
    zhipu = Provider.objects.create(name="zhipu", kind="openai", base_url=primary.base_url)
    backup = Provider.objects.create(name="gemini", kind="openai", base_url=fallback.base_url)
    k1 = AuthProfile.objects.create(provider=zhipu, label="k1", secret="key-one-1111", priority=0)
    k2 = AuthProfile.objects.create(provider=zhipu, label="k2", secret="key-two-2222", priority=1)
    b1 = AuthProfile.objects.create(provider=backup, label="b1", secret="key-bak-3333")
    chain = ModelChain.objects.create(name="default", is_default=True)
    ChainCandidate.objects.create(chain=chain, position=1, provider=zhipu, model="glm-4.7")
    ChainCandidate.objects.create(
        chain=chain, position=2, provider=backup, model="gemini-flash-lite"
    )
    return Setup(chain, zhipu, backup, k1, k2, b1)


@pytest.fixture
def scoped(cast) -> Iterator[object]:
    with tenant_scope(cast.tenant):
        yield cast.tenant
