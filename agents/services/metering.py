"""Every model call of the agent loop is metered: its maximum cost is reserved against
the agent's and the tenant's monthly budgets before it runs (BudgetExceeded: it does not
run), and settled to the real cost with a UsageEvent after.

Reservations and usage are keyed by the model call's idempotency key: a replayed step
whose call returns its stored answer is not charged again."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db.models import Count, Q

from agents.models import (
    Agent,
    AgentStatus,
    FailoverAttempt,
    ModelCall,
    ModelChain,
    PauseReason,
    Run,
)
from agents.providers.base import ChatRequest, ChatResult
from agents.selectors import chain_load_cached
from agents.services.agents import agent_resume
from agents.services.model_calls import Answered, CallFacts, model_call_answer
from billing.models import ReservationStatus
from billing.selectors import budget_has_room
from billing.services.budgets import UsageFacts, budget_release, budget_reserve, budget_settle
from billing.services.prices import cost_micros, price_for, prompt_tokens_estimate
from tenants.scope import tenant_scope

logger = logging.getLogger(__name__)


def _request_bytes(request: ChatRequest) -> int:
    parts: list[Any] = [request.system or ""]
    for message in request.messages:
        parts.append(message.content or "")
        for call in message.tool_calls or ():
            parts.append(call.name)
            parts.append(call.arguments)
    parts.extend({"n": t.name, "d": t.description, "p": t.parameters} for t in request.tools)
    return len(json.dumps(parts, ensure_ascii=False).encode())


def call_max_cost_micros(*, request: ChatRequest, agent: Agent, chain: ModelChain | None) -> int:
    """The most this request can cost on any model of the chain it will walk."""
    loaded = chain_load_cached(agent=agent, chain=chain)
    prompt = prompt_tokens_estimate(
        utf8_bytes=_request_bytes(request), messages=len(request.messages) + 1
    )
    return max(
        cost_micros(
            price=price_for(provider=c.provider, model=c.model),
            input_tokens=prompt,
            output_tokens=request.max_tokens,
        )
        for c in loaded.candidates
    )


def _stored_facts(key: str) -> CallFacts:
    """What the call row and its attempts say about an answer stored by an earlier walk
    (a run resumed between the answer and its settlement): two queries, off the hot path."""
    call = (
        ModelCall.objects.filter(key=key)
        .annotate(
            tries=Count("attempts"),
            fell=Count(
                "attempts", filter=Q(attempts__status="succeeded", attempts__candidate_index__gt=0)
            ),
        )
        .values("pk", "provider", "model", "created_at", "finished_at", "tries", "fell")
        .get()
    )
    profile = (
        FailoverAttempt.objects.filter(call_id=call["pk"], status="succeeded")
        .values_list("profile__label", flat=True)
        .first()
    )
    latency = (
        (call["finished_at"] - call["created_at"]).total_seconds() * 1000.0
        if call["finished_at"]
        else 0.0
    )
    return CallFacts(
        provider=call["provider"],
        model=call["model"],
        profile_label=profile or "",
        attempts=max(call["tries"], 1),
        fell_back=call["fell"] > 0,
        latency_ms=latency,
    )


def _facts(answered: Answered, key: str, session_id: int | None) -> tuple[UsageFacts, int]:
    """The UsageEvent facts of an answered call, and its cost."""
    call = answered.facts or _stored_facts(key)
    price = price_for(provider=call.provider, model=call.model)
    usage = answered.result.usage
    facts = UsageFacts(
        provider=call.provider,
        model=call.model,
        auth_profile=call.profile_label[:80],
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
        unpriced=price.unpriced,
        fell_back=call.fell_back,
        attempts=call.attempts,
        latency_ms=call.latency_ms,
        session_id=session_id,
    )
    cost = cost_micros(
        price=price,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
    )
    return facts, cost


def metered_call(
    *,
    request: ChatRequest,
    key: str,
    agent: Agent,
    run: Run,
    chain: ModelChain | None,
    deadline: float | None,
) -> ChatResult:
    """model_call_run between a budget reservation and its settlement. Raises
    billing's BudgetExceeded before any request when the call might not fit."""
    reservation = budget_reserve(
        tenant=agent.tenant,
        key=key,
        amount_micros=call_max_cost_micros(request=request, agent=agent, chain=chain),
        agent_id=agent.pk,
        agent_limit_cents=agent.monthly_budget_cents,
        run_id=run.pk,
    )
    try:
        answered = model_call_answer(
            request=request, key=key, agent=agent, run=run, chain=chain, deadline=deadline
        )
    except BaseException:
        budget_release(reservation=reservation)
        raise
    if reservation.status != ReservationStatus.SETTLED:
        facts, cost = _facts(answered, key, run.session_id)
        budget_settle(reservation=reservation, cost_micros=cost, usage=facts)
    return answered.result


def budget_paused_resume(*, tenant_id: int | None = None) -> list[int]:
    """Resume the agents paused for budget whose budgets have room again (after a raise,
    or in a new month); returns their ids."""
    paused = Agent.objects.unscoped().filter(
        status=AgentStatus.PAUSED, pause_reason=PauseReason.BUDGET
    )
    if tenant_id is not None:
        paused = paused.filter(tenant_id=tenant_id)
    resumed = []
    for agent in paused.select_related("tenant"):
        with tenant_scope(agent.tenant_id):
            room = budget_has_room(
                tenant=agent.tenant, agent_id=agent.pk, agent_limit_cents=agent.monthly_budget_cents
            )
            if room:
                agent_resume(agent=agent)
                resumed.append(agent.pk)
    return resumed


def on_budget_room(sender: Any, *, tenant_id: int | None, **kwargs: Any) -> None:
    """billing.signals.budget_room receiver (connected in AgentsConfig.ready)."""
    budget_paused_resume(tenant_id=tenant_id)
