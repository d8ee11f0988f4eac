"""Control-plane admin fixtures: a staff client and one row of every control-plane model,
the tenant-owned ones in the cast's tenant (made through the services where they exist)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from itertools import count

import pytest
from django.test import Client
from django.utils import timezone

from agents.models import (
    Agent,
    AuthProfile,
    ChainCandidate,
    Comment,
    FailoverAttempt,
    Goal,
    ModelCall,
    ModelChain,
    Provider,
    Run,
    Session,
    SessionMessage,
    Task,
    ToolCallRecord,
)
from agents.services.agents import agent_create
from agents.services.api_keys import api_key_create
from agents.services.work import comment_create, goal_create, task_create
from tenants.scope import tenant_scope
from tests.conftest import make_user

A = "/admin/agents"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def staff_user(db):
    return make_user("ops@orion.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def chain(db) -> ModelChain:
    provider = Provider.objects.create(name="zhipu", kind="openai", base_url="https://z.test/v1")
    AuthProfile.objects.create(provider=provider, label="main", secret="sk-live-ABCdef0123")
    chain = ModelChain.objects.create(name="default", is_default=True)
    ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
    return chain


_seq = count(1)


def run_with_history(tenant, agent: Agent, *, task: Task | None = None) -> Run:
    """A finished run with one step of history (see `history_add`)."""
    n = next(_seq)
    now = timezone.now()
    session = Session.objects.unscoped().get_or_create(
        tenant=tenant, agent=agent, key=f"task:{task.pk if task else 0}"
    )[0]
    run = Run.objects.unscoped().create(
        tenant=tenant,
        agent=agent,
        task=task,
        session=session,
        status="succeeded",
        trigger="assignment",
        summary=f"Answered the customer {n}",
        input_tokens=120,
        output_tokens=30,
        answered_provider="claude",
        answered_model="claude-haiku",
        fell_back=True,
        coalesced=2,
        started_at=now,
        ended_at=now,
    )
    history_add(run, step=1)
    return run


def history_add(run: Run, *, step: int) -> None:
    """One step of a run: a transcript line, a tool call and a model call that failed over
    once (a 429 on key `main`, then the backup model answered, on a probe)."""
    tenant_id = run.tenant_id
    SessionMessage.objects.unscoped().create(
        tenant_id=tenant_id,
        session_id=run.session_id,
        run=run,
        step=step,
        role="assistant",
        content=f"line {run.pk}.{step}",
    )
    ToolCallRecord.objects.unscoped().create(
        tenant_id=tenant_id,
        run=run,
        step=step,
        index=0,
        call_id=f"c{run.pk}-{step}",
        name="task_comment",
        arguments={"body": "done"},
        status="succeeded",
        result="ok",
    )
    call = ModelCall.objects.unscoped().create(
        tenant_id=tenant_id,
        key=f"run-{run.pk}-step-{step}",
        agent_id=run.agent_id,
        run=run,
        status="succeeded",
        provider="claude",
        model="claude-haiku",
    )
    attempts = [
        ("zhipu", "glm-4.7", "failed", "rate_limit", 429, False),
        ("claude", "claude-haiku", "succeeded", "", 200, True),
    ]
    for seq, (provider, model, status, error, http, probe) in enumerate(attempts, start=1):
        FailoverAttempt.objects.unscoped().create(
            tenant_id=tenant_id,
            call=call,
            seq=seq,
            candidate_index=seq - 1,
            provider=provider,
            model=model,
            profile_key="main",
            try_no=1,
            status=status,
            error_class=error,
            http_status=http,
            duration_ms=12.0 * seq,
            probe=probe,
            started_at=timezone.now(),
        )


@dataclass
class World:
    agent: Agent
    boss: Agent
    goal: Goal
    task: Task
    comment: Comment
    run: Run
    session: Session
    key: object
    foreign: Agent  # an agent of the other tenant

    def row(self, model: str):
        return {
            "agent": self.agent,
            "goal": self.goal,
            "task": self.task,
            "comment": self.comment,
            "run": self.run,
            "session": self.session,
            "agentapikey": self.key,
        }[model]


@pytest.fixture
def world(cast, chain, staff_user) -> World:
    tenant = cast.tenant
    with tenant_scope(tenant):
        boss = agent_create(tenant=tenant, name="Cora", role="coordinator")
        agent = agent_create(
            tenant=tenant, name="Max", role="marketing", reports_to=boss, model_chain=chain
        )
        goal = goal_create(title="Sell more bread")
        task = task_create(title="Write the newsletter", assignee=agent, goal=goal)
        comment = comment_create(task=task, body="Please keep it short", actor_user=cast.owner)
        run = run_with_history(tenant, agent, task=task)
        key = api_key_create(agent=agent, label="runtime").key
    with tenant_scope(cast.other_tenant):
        foreign = agent_create(tenant=cast.other_tenant, name="Gus", role="admin")
    return World(agent, boss, goal, task, comment, run, run.session, key, foreign)
