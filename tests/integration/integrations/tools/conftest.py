"""Messaging-tool fixtures: an agent allowed the messaging tools, over a fake model
server, in the cast's tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.models import Agent, AuthProfile, ChainCandidate, ModelChain, Provider
from agents.services.agents import agent_create
from orion.core.fakes import FakeOpenAI
from tenants.scope import tenant_scope

TOOLS = ["send_team_message", "notify_owner", "comment"]


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def chain(db, llm) -> ModelChain:
    provider = Provider.objects.create(name="fakeai", kind="openai", base_url=llm.base_url)
    AuthProfile.objects.create(provider=provider, label="k1", secret="key-one-1111")
    chain = ModelChain.objects.create(name="default", is_default=True)
    ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
    return chain


@pytest.fixture
def agent(cast, chain) -> Iterator[Agent]:
    with tenant_scope(cast.tenant):
        yield agent_create(
            tenant=cast.tenant,
            name="Cora",
            role="coordinator",
            interval_s=3600,
            allowed_tools=TOOLS,
        )
