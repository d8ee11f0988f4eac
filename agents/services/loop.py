"""The agent loop: model ↔ tools through the reliability stack, with step and token caps.

A run is replayed, not restarted, after a crash: step n's model call has the idempotency
key `run-<id>-step-<n>`, so a call that already answered returns its stored answer without
a request, and a tool call that already ran returns its stored result (see
ToolCallRecord). The transcript lines are inserted with ON CONFLICT DO NOTHING."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.models import (
    Agent,
    AgentStatus,
    MessageRole,
    ModelChain,
    Run,
    RunStatus,
    Session,
    SessionMessage,
    Task,
    ToolCallRecord,
    ToolCallStatus,
)
from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResult,
    ToolCall,
    ToolSpec,
    without_nul,
)
from agents.services.metering import metered_call
from agents.tools import Tool, ToolContext, ToolError, tool_get, tools_for

MAX_OUTPUT_TOKENS = 1024


class LoopStopped(Exception):
    """The agent was paused or its tenant's kill switch went on between two steps."""


class RunLost(Exception):
    """Another worker took the run over (or a sweep ended it): this worker stops without
    writing anything more."""


def step_call_key(run: Run, step: int) -> str:
    """The idempotency key of a step's model call: a resumed run gets the stored answer."""
    return f"run-{run.pk}-step-{step}"


@dataclass
class LoopState:
    """What the loop carries between steps and turns of one run."""

    messages: list[ChatMessage] = field(default_factory=list)
    step: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    content: str = ""
    stopped: str = ""  # "", "step cap", "token cap"


def _specs(tools: Sequence[Tool]) -> tuple[ToolSpec, ...]:
    return tuple(ToolSpec(t.name, t.description, t.parameters) for t in tools)


def _line(run: Run, session: Session | None, step: int, **values: object) -> SessionMessage:
    return SessionMessage(tenant_id=run.tenant_id, session=session, run=run, step=step, **values)


def _progress(run: Run, state: LoopState) -> None:
    """Record progress and renew the lease, only while the agent may still work (active,
    its company's heartbeats not paused): one statement that is also the pause check."""
    now = timezone.now()
    alive = Run.objects.filter(
        pk=run.pk,
        status=RunStatus.RUNNING,
        lease_owner=run.lease_owner,
        agent__status=AgentStatus.ACTIVE,
        tenant__heartbeats_paused=False,
    ).update(
        last_progress_at=now,
        lease_until=now + timedelta(seconds=settings.ORION_RUN_LEASE_S),
        task_id=run.task_id,
        session_id=run.session_id,
        steps=state.step,
        input_tokens=state.input_tokens,
        output_tokens=state.output_tokens,
    )
    if not alive:
        if Run.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, lease_owner=run.lease_owner
        ).exists():
            raise LoopStopped(f"{run.agent.name} was paused (or the company's heartbeats were)")
        raise RunLost(f"run {run.pk} was taken over or ended while {run.lease_owner} worked it")


def _run_tool(
    ctx: ToolContext,
    step: int,
    index: int,
    call: ToolCall,
    *,
    session: Session | None,
    resumed: bool,
) -> str:
    """Run one tool call (or replay it). The tool's writes, its record and its transcript
    line commit together; a refused tool's writes are rolled back and the refusal is
    recorded on its own."""
    run = ctx.run
    if resumed:
        done = ToolCallRecord.objects.filter(run=run, step=step, index=index).first()
        if done is not None:
            return done.result
    started = time.perf_counter()

    def record(status: str, result: str) -> str:
        result = without_nul(result)  # a fetched page or a mail body may carry NUL
        ToolCallRecord.objects.create(
            tenant_id=run.tenant_id,
            run=run,
            step=step,
            index=index,
            call_id=call.id,
            name=call.name[:80],
            arguments=call.arguments if isinstance(call.arguments, dict) else {},
            status=status,
            result=result,
            duration_ms=(time.perf_counter() - started) * 1000.0,
        )
        line = _line(
            run, session, step, role=MessageRole.TOOL, content=result, tool_call_id=call.id[:80]
        )
        SessionMessage.objects.bulk_create([line], ignore_conflicts=True)
        return result

    tool = tool_get(call.name)
    try:
        if tool is None or tool not in tools_for(ctx.agent):
            raise ToolError(f"no tool {call.name!r} for you")
        with transaction.atomic():
            keyed = replace(ctx, call_key=f"run:{run.pk}:s{step}:t{index}")
            return record(ToolCallStatus.SUCCEEDED, tool.handler(keyed, tool.check(call.arguments)))
    except ToolError as exc:
        with transaction.atomic():
            return record(ToolCallStatus.FAILED, f"error: {exc}")


def loop_turn(
    *,
    run: Run,
    agent: Agent,
    task: Task | None,
    session: Session | None,
    system: str,
    state: LoopState,
    chain: ModelChain | None,
    deadline: float | None,
    resumed: bool,
) -> LoopState:
    """Run steps until the model answers without tool calls or a cap is hit. The caller
    has appended this turn's opening user message to `state.messages`."""
    tools = tools_for(agent)
    specs = _specs(tools)
    ctx = ToolContext(agent=agent, run=run, task=task)
    while True:
        if state.step >= agent.max_steps:
            state.stopped = "step cap"
            return state
        if state.input_tokens + state.output_tokens >= agent.max_run_tokens:
            state.stopped = "token cap"
            return state
        state.step += 1
        step = state.step
        result: ChatResult = metered_call(  # reserves against the budgets, then settles
            request=ChatRequest(
                messages=list(state.messages),
                tools=specs,
                system=system,
                max_tokens=MAX_OUTPUT_TOKENS,
            ),
            key=step_call_key(run, step),
            agent=agent,
            run=run,
            chain=chain,
            deadline=deadline,
        )
        state.input_tokens += result.usage.input_tokens
        state.output_tokens += result.usage.output_tokens
        state.content = result.content
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in result.tool_calls]
        line = _line(
            run,
            session,
            step,
            role=MessageRole.ASSISTANT,
            content=result.content,
            tool_calls=calls or None,
        )
        state.messages.append(
            ChatMessage(
                role="assistant", content=result.content, tool_calls=list(result.tool_calls) or None
            )
        )
        with transaction.atomic():
            SessionMessage.objects.bulk_create([line], ignore_conflicts=True)
            if not result.tool_calls:
                return state  # the run's close records this step
            _progress(run, state)
        for index, call in enumerate(result.tool_calls):
            output = _run_tool(ctx, step, index, call, session=session, resumed=resumed)
            state.messages.append(ChatMessage(role="tool", content=output, tool_call_id=call.id))
