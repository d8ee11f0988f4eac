"""The sandbox model server over real HTTP, read by the real OpenAI-compatible client:
scripted tool calls and reports, deterministic answers, and the fault plan that makes
failover show (rate limit on one key, overload on every key, other models never fail)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agents.providers import transport
from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderResponseError,
    ToolCall,
    ToolSpec,
)
from agents.providers.openai_compat import OpenAICompatClient
from orion.reliability import ErrorClass, classify_response
from orion.sandbox import FaultPlan, SandboxServer

ROOT = Path(__file__).resolve().parents[3]
KEY, OTHER_KEY = "sandbox-key-1", "sandbox-key-2"
TOOLS = tuple(
    ToolSpec(name, f"the {name} tool", {"type": "object", "properties": {}})
    for name in ("list_tasks", "update_task", "comment")
)
TASK_PROMPT = (
    "You do this because: Bake bread → Win the lunch crowd\n"
    "Task #12: Write the lunch menu post (status in_progress, priority 1)\n"
    "Three sandwiches, one soup."
)


@pytest.fixture
def sandbox():
    with SandboxServer(faults=FaultPlan(every=0)) as server:
        yield server
    transport.close_all()


def _client(server: SandboxServer) -> OpenAICompatClient:
    return OpenAICompatClient(server.base_url, timeout=httpx.Timeout(5.0))


def _ask(server, *messages: ChatMessage, tools=TOOLS, model="sandbox-large", key=KEY):
    request = ChatRequest(messages=list(messages), tools=tools, system="You are Max.")
    return _client(server).chat(request, model=model, api_key=key)


def test_a_task_gets_a_progress_comment_and_is_set_done(sandbox):
    result = _ask(sandbox, ChatMessage("user", TASK_PROMPT))
    assert result.finish_reason == "tool_calls"
    assert [(c.name, c.arguments.get("task_id")) for c in result.tool_calls] == [
        ("comment", 12),
        ("update_task", 12),
    ]
    assert result.tool_calls[1].arguments == {"task_id": 12, "status": "done"}
    assert "Write the lunch menu post" in result.tool_calls[0].arguments["body"]
    assert result.model == "sandbox-large"
    assert result.usage.input_tokens > 20 and result.usage.output_tokens > 5
    assert result.raw_id.startswith("chatcmpl-sandbox-")


def test_a_task_asking_for_approval_goes_to_review(sandbox):
    prompt = TASK_PROMPT.replace("Three sandwiches", "For a person to approve: three sandwiches")
    result = _ask(sandbox, ChatMessage("user", prompt))
    assert result.tool_calls[-1].arguments == {"task_id": 12, "status": "in_review"}


def test_words_in_the_comments_do_not_change_the_status(sandbox):
    prompt = TASK_PROMPT + "\nRecent comments (oldest first):\n- Cora: please review soon"
    result = _ask(sandbox, ChatMessage("user", prompt))
    assert result.tool_calls[-1].arguments["status"] == "done"


def test_after_a_tool_result_it_reports_without_tools(sandbox):
    first = _ask(sandbox, ChatMessage("user", TASK_PROMPT))
    conversation = [
        ChatMessage("user", TASK_PROMPT),
        ChatMessage("assistant", None, tool_calls=first.tool_calls),
        *(ChatMessage("tool", '{"ok": 1}', tool_call_id=c.id) for c in first.tool_calls),
    ]
    report = _ask(sandbox, *conversation)
    assert report.tool_calls == []
    assert report.finish_reason == "stop"
    assert report.content.startswith("Task #12 (Write the lunch menu post): ")


def test_a_tool_error_is_reported_as_not_finished(sandbox):
    call = ToolCall(id="call_1", name="update_task", arguments={"status": "done"})
    report = _ask(
        sandbox,
        ChatMessage("user", TASK_PROMPT),
        ChatMessage("assistant", None, tool_calls=[call]),
        ChatMessage("tool", "error: no task 12 in this company", tool_call_id="call_1"),
    )
    assert "could not finish" in report.content
    assert "no task 12" in report.content


def test_a_new_message_in_a_later_turn_gets_a_reply_comment(sandbox):
    call = ToolCall(id="call_1", name="comment", arguments={"body": "on it"})
    result = _ask(
        sandbox,
        ChatMessage("user", TASK_PROMPT),
        ChatMessage("assistant", None, tool_calls=[call]),
        ChatMessage("tool", '{"comment": 3}', tool_call_id="call_1"),
        ChatMessage("assistant", "Done."),
        ChatMessage("user", "New messages for you (oldest first):\n- Cora: thanks!"),
    )
    assert [(c.name, c.arguments["task_id"]) for c in result.tool_calls] == [("comment", 12)]


def test_without_a_task_it_lists_tasks_and_without_tools_it_reports(sandbox):
    listed = _ask(sandbox, ChatMessage("user", "Check your tasks and report."))
    assert [c.name for c in listed.tool_calls] == ["list_tasks"]
    plain = _ask(sandbox, ChatMessage("user", TASK_PROMPT), tools=())
    assert plain.tool_calls == [] and "Task #12" in plain.content


def test_only_offered_tools_are_called(sandbox):
    only_comment = tuple(t for t in TOOLS if t.name == "comment")
    result = _ask(sandbox, ChatMessage("user", TASK_PROMPT), tools=only_comment)
    assert [c.name for c in result.tool_calls] == ["comment"]


def test_the_same_request_gets_the_same_answer(sandbox):
    one = _ask(sandbox, ChatMessage("user", TASK_PROMPT))
    two = _ask(sandbox, ChatMessage("user", TASK_PROMPT))
    assert [(c.name, c.arguments) for c in one.tool_calls] == [
        (c.name, c.arguments) for c in two.tool_calls
    ]
    assert one.usage == two.usage


def test_fake_keys_only_and_known_models_only(sandbox):
    with pytest.raises(ProviderResponseError) as no_key:
        _ask(sandbox, ChatMessage("user", "hi"), key="sk-real-looking")
    assert no_key.value.status == 401
    with pytest.raises(ProviderResponseError) as bad_model:
        _ask(sandbox, ChatMessage("user", "hi"), model="gpt-4o")
    assert bad_model.value.status == 404
    verdict = classify_response(
        bad_model.value.status, bad_model.value.headers, bad_model.value.body
    )
    assert verdict.error_class == ErrorClass.MODEL_NOT_FOUND
    models = httpx.get(f"{sandbox.base_url}/models").json()
    assert [m["id"] for m in models["data"]] == ["sandbox-large", "sandbox-small"]


def _call(n: int) -> ChatMessage:
    return ChatMessage("user", f"{TASK_PROMPT}\n(call {n})")


def test_a_rate_limited_call_fails_on_its_first_key_only():
    with SandboxServer(faults=FaultPlan(every=2, kinds=("429",), retry_after=1)) as server:
        assert _ask(server, _call(1)).tool_calls  # call 1 answers
        for _ in range(3):  # call 2: every retry on the key it came with is rate limited
            with pytest.raises(ProviderResponseError) as limited:
                _ask(server, _call(2), key=KEY)
            assert limited.value.status == 429
        verdict = classify_response(429, limited.value.headers, limited.value.body, now=0)
        assert (verdict.error_class, verdict.retry_after) == (ErrorClass.RATE_LIMIT, 1.0)
        assert _ask(server, _call(2), key=OTHER_KEY).tool_calls  # the next key answers
        assert _ask(server, _call(2), model="sandbox-small").tool_calls
        assert (server.primary_calls, server.faults_sent) == (2, 3)
    transport.close_all()


def test_an_overloaded_call_fails_on_every_key_until_the_next_model():
    with SandboxServer(faults=FaultPlan(every=1, kinds=("503",), retry_after=1)) as server:
        for key in (KEY, OTHER_KEY, KEY):
            with pytest.raises(ProviderResponseError) as overloaded:
                _ask(server, _call(1), key=key)
            assert overloaded.value.status == 503
            assert overloaded.value.headers["retry-after"] == "1"
        verdict = classify_response(503, overloaded.value.headers, overloaded.value.body, now=0)
        assert verdict.retry_after == 1.0
        assert verdict.error_class in (ErrorClass.OVERLOADED, ErrorClass.SERVER)
        fallback = _ask(server, _call(1), model="sandbox-small")
        assert fallback.model == "sandbox-small" and fallback.tool_calls
    transport.close_all()


def test_faulty_calls_take_turns_between_kinds():
    plan = FaultPlan(every=3)
    assert [plan.fault_for(n) for n in range(1, 13)] == [
        None,
        None,
        "429",
        None,
        None,
        "503",
        None,
        None,
        "429",
        None,
        None,
        "503",
    ]
    assert FaultPlan(every=0).fault_for(3) is None
    for bad in ({"every": -1}, {"kinds": ("500",)}, {"kinds": ()}, {"retry_after": -1}):
        with pytest.raises(ValueError):
            FaultPlan(**bad)


def test_python_m_orion_sandbox_serves_until_sigterm():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orion.sandbox", "--port", "0", "--no-faults", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("sandbox model server on http://127.0.0.1:"), line
        base_url = line.split()[4]
        client = OpenAICompatClient(base_url, timeout=httpx.Timeout(5.0))
        result = client.chat(
            ChatRequest(messages=[ChatMessage("user", TASK_PROMPT)], tools=TOOLS),
            model="sandbox-small",
            api_key=KEY,
        )
        assert [c.name for c in result.tool_calls] == ["comment", "update_task"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        transport.close_all()


def test_a_bad_flag_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "orion.sandbox", "--faults", "500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "fault kinds must be some of" in done.stderr
