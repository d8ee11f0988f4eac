"""The one way an agent calls a model: the failover walker over the agent's chain, every
attempt durably committed as a FailoverAttempt row before the request goes out.

The call and attempt rows are written on their own connection (orion.core.rows.
independent_alias), whatever transaction the caller holds: the tenant, agent and run a
call points at must therefore be committed before the call starts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import httpx
from django.db import IntegrityError, OperationalError, connections
from django.utils import timezone

from agents.models import Agent, ModelCall, ModelCallStatus, ModelChain, Provider, Run
from agents.providers.base import ChatRequest, ChatResult, ProviderResponseError, ToolCall, Usage
from agents.providers.registry import client_for
from agents.selectors import LoadedChain, chain_load_cached
from agents.services.failover_store import RowCooldownStore, RowLedger, snapshot_query
from orion.core.rows import independent_alias, independent_refresh, row_insert
from orion.core.secrets import SecretUndecryptable
from orion.reliability import (
    AttemptFailed,
    Candidate,
    Classified,
    ErrorClass,
    FailoverWalker,
    FallbackSummaryError,
    Profile,
    RetryPolicy,
    attempt_time_left,
    classify_response,
    policy_for,
)
from tenants.scope import require_tenant_id


class ModelCallClosed(Exception):
    """The call under this key already failed for good; try again under a new key (after
    `soonest_expiry`, which the failed call row keeps)."""


def _stored_result(data: dict) -> ChatResult:
    return ChatResult(
        content=data["content"],
        tool_calls=[ToolCall(**call) for call in data["tool_calls"]],
        usage=Usage(**data["usage"]),
        model=data["model"],
        finish_reason=data["finish_reason"],
        raw_id=data["raw_id"],
    )


def provider_policy(provider: Provider) -> RetryPolicy:
    """The model retry policy with the provider's overrides (validated by the admin)."""
    return RetryPolicy.from_mapping(
        {
            "attempts": provider.retry_attempts,
            "floor_s": provider.retry_floor_s,
            "cap_s": provider.retry_cap_s,
        },
        base=policy_for("model"),
    )


def _sender(
    loaded: LoadedChain,
    request: ChatRequest,
    *,
    deadline: float | None,
    clock: Callable[[], float],
) -> Callable[[Candidate, Profile], ChatResult]:
    def send(candidate: Candidate, profile: Profile) -> ChatResult:
        provider = loaded.providers[candidate.provider]
        try:
            api_key = loaded.auth[profile.id].secret.reveal()
        except SecretUndecryptable as exc:
            raise AttemptFailed(Classified.of(ErrorClass.AUTH_PERMANENT, message=str(exc))) from exc
        total = attempt_time_left(deadline, now=clock(), cap=provider.attempt_timeout_s)
        client = client_for(
            provider.kind,
            provider.base_url,
            timeout=httpx.Timeout(total, connect=min(provider.connect_timeout_s, total)),
            total_timeout=total,
        )
        try:
            return client.chat(request, model=candidate.model, api_key=api_key)
        except ProviderResponseError as exc:
            raise AttemptFailed(
                classify_response(exc.status, exc.headers, exc.body, now=time.time())
            ) from exc

    return send


def _open_call(
    *,
    key: str,
    chain: ModelChain,
    agent: Agent | None,
    run: Run | None,
    using: str,
    profile_ids: list[str],
) -> tuple[ModelCall, bool, list[tuple] | None]:
    """The call row for `key`, whether it was just created (then it has no attempts), and
    on PostgreSQL the cooldown snapshot, read in the same round trip."""
    call = ModelCall(tenant_id=require_tenant_id(), key=key, chain=chain, agent=agent, run=run)
    conn = connections[using]
    try:
        if conn.vendor == "postgresql":
            inserted, snapshot = row_insert(
                call,
                conflict=("tenant", "key"),
                relaxed=True,
                using=using,
                then_select=snapshot_query(conn, profile_ids),
            )
        else:
            inserted, snapshot = (
                row_insert(call, conflict=("tenant", "key"), relaxed=True, using=using),
                None,
            )
    except (IntegrityError, OperationalError) as exc:
        raise type(exc)(
            f"model call {key!r}: the ledger's own connection cannot see or lock its tenant, "
            "agent, run or chain; commit them, and release row locks on them (FOR UPDATE), "
            "before calling a model (model calls write on a separate connection). "
            f"Database said: {exc}"
        ) from exc
    if inserted is not None:
        return call, True, snapshot
    return ModelCall.objects.using(using).get(key=key), False, snapshot


@dataclass(frozen=True)
class CallFacts:
    """What the walk that just answered knows about itself (so callers that meter it need
    not read its rows back): who answered, with which key, after how many attempts."""

    provider: str
    model: str
    profile_label: str
    attempts: int
    fell_back: bool
    latency_ms: float


@dataclass(frozen=True)
class Answered:
    """`facts` is None when the answer was stored by an earlier walk (a replay)."""

    result: ChatResult
    facts: CallFacts | None


def model_call_run(
    *,
    request: ChatRequest,
    key: str,
    agent: Agent | None = None,
    run: Run | None = None,
    chain: ModelChain | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> ChatResult:
    """The answer of `model_call_answer` (same arguments, same errors)."""
    return model_call_answer(
        request=request,
        key=key,
        agent=agent,
        run=run,
        chain=chain,
        deadline=deadline,
        clock=clock,
        sleep=sleep,
    ).result


def model_call_answer(
    *,
    request: ChatRequest,
    key: str,
    agent: Agent | None = None,
    run: Run | None = None,
    chain: ModelChain | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Answered:
    """Answer `request` through the chain; `key` makes the call idempotent and resumable.

    `deadline` (epoch seconds, e.g. `time.time() + soft_time_limit - margin`): no attempt
    or wait runs past it; each attempt's timeout is clipped to the time left.
    Raises FallbackSummaryError (every attempt, soonest cooldown expiry; `.deadline` when
    time ran out) when nothing answered, ChainConfigError when the chain cannot be used
    as configured, ModelCallClosed when `key` already failed for good.
    """
    loaded = chain_load_cached(agent=agent, chain=chain)
    independent_refresh()
    using = independent_alias()
    call, fresh, snapshot = _open_call(
        key=key,
        chain=loaded.chain,
        agent=agent,
        run=run,
        using=using,
        profile_ids=list(loaded.auth),
    )
    if call.status == ModelCallStatus.SUCCEEDED and call.result is not None:
        return Answered(_stored_result(call.result), None)
    if call.status == ModelCallStatus.FAILED:
        raise ModelCallClosed(f"model call {key!r} failed: {call.error[:300]}")
    if not fresh and call.chain_id not in (None, loaded.chain.pk):
        loaded = chain_load_cached(chain=call.chain)  # resume on the chain it started on
        snapshot = None  # read again for that chain's profiles
    ledger = RowLedger(
        call, {pk: row.pk for pk, row in loaded.auth.items()}, fresh=fresh, using=using
    )
    walker = FailoverWalker(
        loaded.candidates,
        loaded.profiles_of,
        ledger,
        RowCooldownStore(loaded.auth, using=using, rows=snapshot),
        provider_policies={name: provider_policy(p) for name, p in loaded.providers.items()},
        clock=clock,
        sleep=sleep,
    )
    try:
        walked = walker.walk(
            key, _sender(loaded, request, deadline=deadline, clock=clock), deadline=deadline
        )
    except FallbackSummaryError as exc:
        ModelCall.objects.using(using).filter(pk=call.pk).update(
            status=ModelCallStatus.FAILED,
            error=str(exc),
            soonest_expiry=(
                datetime.fromtimestamp(exc.soonest_expiry, tz=UTC)
                if exc.soonest_expiry is not None
                else None
            ),
            finished_at=timezone.now(),
        )
        raise
    # A success is written with the answer in one statement, so a replayed success always
    # returned above from the stored result.
    assert not walked.replayed, f"call {key}: ledger success without a stored answer"
    result = walked.value
    finished = timezone.now()
    ledger.complete(
        {
            "status": ModelCallStatus.SUCCEEDED,
            "provider": walked.candidate.provider,
            "model": walked.candidate.model,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
            "cached_tokens": result.usage.cached_tokens,
            "result": asdict(result),
            "finished_at": finished,
        }
    )
    facts = CallFacts(
        provider=walked.candidate.provider,
        model=walked.candidate.model,
        profile_label=loaded.auth[walked.profile.id].label,
        attempts=len(walked.attempts),
        fell_back=walked.attempts[-1].candidate_index > 0,
        latency_ms=(finished - call.created_at).total_seconds() * 1000.0,
    )
    return Answered(result, facts)
