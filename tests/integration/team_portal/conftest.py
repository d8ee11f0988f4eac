"""The team pages' fixtures: the suite's fixed cast, a starter team in cast.tenant and one
agent in the outsider's own company, and a finished run with its model call and attempts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from agents.models import (
    Agent,
    AuthProfile,
    FailoverAttempt,
    ModelCall,
    Provider,
    Run,
    SessionMessage,
    Task,
    ToolCallRecord,
)
from agents.services.agents import agent_create
from agents.services.starter import starter_team_create
from agents.services.work import session_for, task_create
from tenants.scope import tenant_scope
from tests.integration.control_plane.conftest import chain, llm  # noqa: F401 (fixtures)

ROLES = ["owner", "admin", "member", "viewer"]
STEERS = ["owner", "admin"]
WORKS = ["owner", "admin", "member"]


@dataclass
class Team:
    agents: list[Agent]
    coordinator: Agent
    task: Task
    run: Run
    other_agent: Agent
    other_task: Task
    other_run: Run

    def agent(self, name: str) -> Agent:
        return next(a for a in self.agents if a.name == name)


def run_with_calls(tenant, agent: Agent, *, task: Task | None = None, calls: int = 1) -> Run:
    """A finished run: a transcript, a tool call, and `calls` model calls each with a 429 on
    the first key then an answer from the fallback model on the second."""
    provider, _ = Provider.objects.get_or_create(
        name="sandbox", defaults={"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}
    )
    keys = [
        AuthProfile.objects.get_or_create(
            provider=provider, label=label, defaults={"secret": "sk-test"}
        )[0]
        for label in ("primary key", "backup key")
    ]
    now = timezone.now()
    with tenant_scope(tenant):
        run = Run.objects.create(
            tenant=tenant,
            agent=agent,
            task=task,
            status="succeeded",
            trigger="manual",
            summary="The inbox is clear: 3 replies drafted.",
            steps=2,
            input_tokens=120,
            output_tokens=40,
            answered_provider="sandbox",
            answered_model="sandbox-small",
            fell_back=True,
            ended_at=now,
        )
        session = session_for(agent_id=agent.pk, key=f"run:{run.pk}")
        for step, (role, text) in enumerate([("user", "Work your inbox."), ("assistant", "Done.")]):
            SessionMessage.objects.create(
                tenant=tenant, session=session, run=run, step=step, role=role, content=text
            )
        ToolCallRecord.objects.create(
            tenant=tenant,
            run=run,
            step=1,
            index=0,
            call_id="c1",
            name="list_tasks",
            arguments={"status": "todo"},
            status="succeeded",
            result="[]",
            duration_ms=3.2,
        )
        for n in range(calls):
            call = ModelCall.objects.create(
                tenant=tenant,
                key=f"run{run.pk}-step{n}",
                agent=agent,
                run=run,
                status="succeeded",
                provider="sandbox",
                model="sandbox-small",
                input_tokens=60,
                output_tokens=20,
            )
            FailoverAttempt.objects.create(
                tenant=tenant,
                call=call,
                seq=1,
                candidate_index=0,
                provider="sandbox",
                model="sandbox-large",
                profile=keys[0],
                profile_key=str(keys[0].pk),
                try_no=1,
                status="failed",
                error_class="rate_limit",
                http_status=429,
                duration_ms=41.0,
                started_at=now,
            )
            FailoverAttempt.objects.create(
                tenant=tenant,
                call=call,
                seq=2,
                candidate_index=1,
                provider="sandbox",
                model="sandbox-small",
                profile=keys[1],
                profile_key=str(keys[1].pk),
                try_no=1,
                status="succeeded",
                duration_ms=12.0,
                started_at=now,
            )
    return run


@pytest.fixture(autouse=True)
def _fresh_last_visits(cast):
    """The dashboard remembers each member's last visit in the cache, which outlives a
    test's rolled-back rows (and SQLite reuses ids): start every test as a first visit."""
    from django.core.cache import cache

    from tenants.models import Membership

    keys = [f"portal:last-visit:{pk}" for pk in Membership.objects.values_list("pk", flat=True)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def team(cast) -> Team:
    agents = starter_team_create(tenant=cast.tenant, mission="Fix every leak in town.")
    with tenant_scope(cast.tenant):
        iris = next(a for a in agents if a.template == "admin")
        task = task_create(title="Answer Mrs Smith", assignee=iris)
    run = run_with_calls(cast.tenant, iris, task=task)
    with tenant_scope(cast.other_tenant):
        gus = agent_create(tenant=cast.other_tenant, name="Gus", role="admin")
        other_task = task_create(title="Globex secret task", assignee=gus)
    other_run = run_with_calls(cast.other_tenant, gus)
    return Team(
        agents=agents,
        coordinator=agents[0],
        task=task,
        run=run,
        other_agent=gus,
        other_task=other_task,
        other_run=other_run,
    )


def form_token(client, url: str) -> str:
    """The one-time submit token of the form on `url`."""
    body = client.get(url).content.decode()
    marker = 'name="submit_token" value="'
    start = body.index(marker) + len(marker)
    return body[start : body.index('"', start)]
