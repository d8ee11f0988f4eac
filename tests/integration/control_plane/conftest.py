"""Control-plane fixtures: a tenant with a small team, a chain over a fake model server,
and a way to run the dispatcher and heartbeats in-process (the real services; only the
Celery hop is replaced by calling the task body)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider, Run
from agents.services.agents import agent_create
from agents.services.dispatch import dispatch_due
from agents.services.heartbeat import heartbeat_execute
from orion.core.fakes import FakeOpenAI
from tenants.scope import tenant_scope


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


@dataclass
class Team:
    tenant: object
    boss: object
    writer: object


@pytest.fixture
def team(cast, chain) -> Iterator[Team]:
    tenant = cast.tenant
    tenant.mission = "Bake the best sourdough in Leiden"
    tenant.save()
    with tenant_scope(tenant):
        boss = agent_create(tenant=tenant, name="Cora", role="coordinator", interval_s=3600)
        writer = agent_create(
            tenant=tenant, name="Max", role="marketing", reports_to=boss, interval_s=3600
        )
        yield Team(tenant, boss, writer)


class Runner:
    """Dispatch due agents and run their heartbeats in this process, like a worker would."""

    def __init__(self) -> None:
        self.enqueued: list[Run] = []

    def dispatch(self, **kwargs) -> list[Run]:
        result = dispatch_due(enqueue=self.enqueued.append, **kwargs)
        return result.runs

    def run_all(self) -> list[Run]:
        done = []
        while self.enqueued:
            run = self.enqueued.pop(0)
            with tenant_scope(run.tenant_id):
                heartbeat_execute(run_id=run.pk, owner="test-worker")
                done.append(Run.objects.get(pk=run.pk))
        return done

    def tick(self, **kwargs) -> list[Run]:
        self.dispatch(**kwargs)
        return self.run_all()


@pytest.fixture
def runner() -> Runner:
    return Runner()
