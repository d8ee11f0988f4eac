"""The agent loop metered end to end against a fake model server: a heartbeat over budget
makes no model call beyond the cap and pauses its agent, usage is recorded per call, a
replayed call is charged once, paused agents resume on a raise or in a new month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from agents.models import Agent, AgentStatus, PauseReason, Run, RunStatus, Task
from agents.providers.base import ChatMessage, ChatRequest
from agents.services.agents import agent_pause, agent_update
from agents.services.metering import metered_call
from agents.services.work import task_create
from billing.models import BudgetPeriod, ModelPrice, UsageEvent
from billing.models.budgets import TENANT_WIDE
from billing.services.budgets import budget_set
from billing.tasks import budgets_sweep
from orion.reliability import FallbackSummaryError
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def glm_price() -> ModelPrice:
    # Transactional tests may start from empty tables (the seeded prices flushed).
    price, _ = ModelPrice.objects.update_or_create(
        provider="",
        model="glm-4.7",
        defaults={
            "input_usd_per_mtok": Decimal(1),
            "output_usd_per_mtok": Decimal(5),
            "cached_input_usd_per_mtok": Decimal("0.1"),
        },
    )
    return price


def _work_for(team, runner):
    with tenant_scope(team.tenant):
        task = task_create(title="Write the lunch menu post", assignee=team.writer)
    return task, runner.tick()


def test_an_agent_over_its_budget_is_paused_before_any_model_call(team, llm, runner):
    with tenant_scope(team.tenant):
        agent_update(agent=team.writer, monthly_budget_cents=0)
    task, runs = _work_for(team, runner)
    assert llm.chat_requests == []
    assert [r.status for r in runs] == [RunStatus.SKIPPED]
    assert runs[0].reason.startswith("budget: the agent budget of 0.00 USD")
    with tenant_scope(team.tenant):
        writer = Agent.objects.get(pk=team.writer.pk)
        assert (writer.status, writer.pause_reason) == (AgentStatus.PAUSED, PauseReason.BUDGET)
        assert Task.objects.get(pk=task.pk).checkout_run_id is None  # handed back
        assert UsageEvent.objects.count() == 0
    assert runner.tick() == []  # paused: no heartbeat, no call


def test_the_company_cap_stops_a_run_between_steps_and_is_never_passed(team, llm, runner):
    with tenant_scope(team.tenant):
        budget_set(tenant=team.tenant, limit_cents=6)  # 60,000 micro-USD
    # Step 1 costs 50,000 x 1 + 2,000 x 5 = 60,000 µ$: the whole budget. Step 2's
    # maximum no longer fits, so it is never sent.
    llm.script_chat(
        [
            llm.ok(tool_calls=[("comment", {"body": "Drafting."})], usage=(50_000, 2_000, 0)),
            llm.ok("Posted.", usage=(10, 5, 0)),
        ]
    )
    _, runs = _work_for(team, runner)
    assert len(llm.chat_requests) == 1
    assert runs[0].status == RunStatus.SKIPPED and runs[0].reason.startswith("budget: the company")
    with tenant_scope(team.tenant):
        company = BudgetPeriod.objects.get(agent_id=TENANT_WIDE)
        assert company.spent_micros == 60_000 <= company.limit_micros
        assert company.reserved_micros == 0 and company.soft_reached_at is not None
        event = UsageEvent.objects.get()
        assert event.run_id == runs[0].pk and event.agent_id == team.writer.pk
        assert (event.provider, event.model, event.auth_profile) == ("fakeai", "glm-4.7", "k1")
        assert (event.input_tokens, event.output_tokens, event.cost_micros) == (
            50_000,
            2_000,
            60_000,
        )
        assert event.fell_back is False and event.attempts == 1 and event.latency_ms > 0
        assert event.session_id == runs[0].session_id and event.unpriced is False
        assert Agent.objects.get(pk=team.writer.pk).pause_reason == PauseReason.BUDGET
    with tenant_scope(team.tenant):
        budget_set(tenant=team.tenant, limit_cents=500)  # a raise resumes it at commit
        assert Agent.objects.get(pk=team.writer.pk).status == AgentStatus.ACTIVE


def test_a_replayed_call_returns_its_stored_answer_and_is_charged_once(team, llm):
    llm.script_chat([llm.ok("Hello.", usage=(1_000, 100, 0))])
    request = ChatRequest(messages=[ChatMessage(role="user", content="Hi")], max_tokens=200)
    with tenant_scope(team.tenant):
        run = Run.objects.create(agent=team.writer, status=RunStatus.RUNNING)
        for _ in range(2):
            answer = metered_call(
                request=request,
                key=f"run-{run.pk}-step-1",
                agent=team.writer,
                run=run,
                chain=None,
                deadline=None,
            )
            assert answer.content == "Hello."
        assert len(llm.chat_requests) == 1
        assert UsageEvent.objects.get().cost_micros == 1_000 + 500
        periods = BudgetPeriod.objects.all()
        assert {(p.spent_micros, p.reserved_micros) for p in periods} == {(1_500, 0)}


def test_an_unpriced_model_is_charged_conservatively_and_flagged(team, llm, glm_price):
    glm_price.delete()
    llm.script_chat([llm.ok("Hello.", usage=(1_000, 100, 0))])
    request = ChatRequest(messages=[ChatMessage(role="user", content="Hi")], max_tokens=200)
    with tenant_scope(team.tenant):
        run = Run.objects.create(agent=team.writer, status=RunStatus.RUNNING)
        metered_call(
            request=request, key="unpriced-1", agent=team.writer, run=run, chain=None, deadline=None
        )
        event = UsageEvent.objects.get()
        assert event.unpriced and event.cost_micros == 1_000 * 15 + 100 * 75


def test_a_failed_call_holds_nothing(team, llm):
    llm.script_chat([llm.unauthorized()] * 3)
    request = ChatRequest(messages=[ChatMessage(role="user", content="Hi")], max_tokens=200)
    with tenant_scope(team.tenant):
        run = Run.objects.create(agent=team.writer, status=RunStatus.RUNNING)
        with pytest.raises(FallbackSummaryError):
            metered_call(
                request=request, key="fails", agent=team.writer, run=run, chain=None, deadline=None
            )
        assert {p.reserved_micros for p in BudgetPeriod.objects.all()} == {0}
        assert not UsageEvent.objects.exists()


def test_a_new_month_resumes_agents_paused_for_budget(team):
    with tenant_scope(team.tenant):
        agent_update(agent=team.writer, monthly_budget_cents=5)
        BudgetPeriod.objects.create(
            agent_id=team.writer.pk, month=date(2020, 1, 1), spent_micros=50_000
        )
        agent_pause(agent=team.writer, reason=PauseReason.BUDGET)
        agent_pause(agent=team.boss, reason=PauseReason.MANUAL)
    budgets_sweep()  # this month's counters start at zero: room again
    with tenant_scope(team.tenant):
        assert Agent.objects.get(pk=team.writer.pk).status == AgentStatus.ACTIVE
        assert Agent.objects.get(pk=team.boss.pk).status == AgentStatus.PAUSED  # not ours


def test_a_paused_agent_stays_paused_while_its_month_is_still_full(team):
    now = datetime.now(UTC)
    with tenant_scope(team.tenant):
        agent_update(agent=team.writer, monthly_budget_cents=5)
        BudgetPeriod.objects.create(
            agent_id=team.writer.pk, month=now.date().replace(day=1), spent_micros=50_000
        )
        agent_pause(agent=team.writer, reason=PauseReason.BUDGET)
    budgets_sweep()
    with tenant_scope(team.tenant):
        assert Agent.objects.get(pk=team.writer.pk).status == AgentStatus.PAUSED
        agent_update(agent=team.writer, monthly_budget_cents=10)  # the owner raised it
    budgets_sweep()
    with tenant_scope(team.tenant):
        assert Agent.objects.get(pk=team.writer.pk).status == AgentStatus.ACTIVE


def test_an_answer_stored_before_a_crash_is_settled_from_its_rows(team, llm):
    """The worker died between the answer and its settlement: the resumed step gets the
    stored answer without a request, and its usage is read back from the call's rows."""
    from agents.services.model_calls import model_call_run

    request = ChatRequest(messages=[ChatMessage(role="user", content="Draft the post")])
    llm.script_chat([llm.server_error(503), llm.ok("Drafted.", usage=(1_000, 100, 0))])
    with tenant_scope(team.tenant):
        run = Run.objects.create(agent=team.writer, status=RunStatus.RUNNING)
        model_call_run(request=request, key="run-crash-step-1", agent=team.writer, run=run)
        result = metered_call(
            request=request,
            key="run-crash-step-1",
            agent=team.writer,
            run=run,
            chain=None,
            deadline=None,
        )
        assert result.content == "Drafted." and len(llm.chat_requests) == 2
        event = UsageEvent.objects.get()
        assert (event.provider, event.model, event.auth_profile) == ("fakeai", "glm-4.7", "k1")
        assert (event.attempts, event.fell_back, event.cost_micros) == (2, False, 1_500)
        assert event.latency_ms > 0
