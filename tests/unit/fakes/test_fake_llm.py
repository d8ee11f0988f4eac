"""FakeOpenAI / FakeAnthropic: real provider shapes, per-key scripts, key log."""

from __future__ import annotations

import json

import httpx
import pytest

from orion.core.fakes import FakeAnthropic, FakeOpenAI, Reply
from orion.reliability.classify import classify_response
from orion.reliability.errors import ErrorClass as E


@pytest.fixture
def openai():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def anthropic():
    with FakeAnthropic() as fake:
        yield fake


def chat(fake: FakeOpenAI, key: str = "k", model: str = "gpt-test") -> httpx.Response:
    return httpx.post(
        f"{fake.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )


def message(fake: FakeAnthropic, key: str = "k", model: str = "claude-test") -> httpx.Response:
    return httpx.post(
        f"{fake.base_url}/v1/messages",
        headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
        json={"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )


def test_openai_ok_shape(openai):
    openai.script_chat(
        [openai.ok("hello", tool_calls=[("lookup", {"q": "x"})], usage=(120, 30, 100))]
    )
    body = chat(openai, model="glm-4.6").json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "glm-4.6"  # echoes the requested model
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "hello"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"q": "x"}
    assert body["usage"]["prompt_tokens"] == 120
    assert body["usage"]["completion_tokens"] == 30
    assert body["usage"]["total_tokens"] == 150
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 100


def test_openai_default_reply_is_ok_and_ids_differ(openai):
    first, second = chat(openai).json(), chat(openai).json()
    assert first["choices"][0]["message"]["content"] == "ok"
    assert first["choices"][0]["finish_reason"] == "stop"
    assert first["id"] != second["id"]


def test_openai_tool_call_without_text_has_null_content(openai):
    openai.script_chat([openai.ok(tool_calls=[{"name": "f", "arguments": "{bad", "id": "c1"}])])
    message_ = chat(openai).json()["choices"][0]["message"]
    assert message_["content"] is None
    assert message_["tool_calls"][0] == {
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": "{bad"},
    }


def test_openai_prefix_is_configurable():
    with FakeOpenAI(prefix="/api/paas/v4") as fake:
        assert fake.base_url == f"{fake.url}/api/paas/v4"
        assert chat(fake).status_code == 200
        assert fake.chat_requests[0].path == "/api/paas/v4/chat/completions"


def test_openai_error_shapes(openai):
    openai.script_chat(
        [
            openai.rate_limited(retry_after=7),
            openai.insufficient_quota(),
            openai.payment_required(),
            openai.unauthorized(),
            openai.forbidden(),
            openai.context_overflow(),
            openai.server_error(500),
            openai.server_error(502),
            openai.server_error(503),
            openai.model_not_found(),
        ]
    )
    responses = [chat(openai) for _ in range(10)]
    assert [r.status_code for r in responses] == [429, 429, 402, 401, 403, 400, 500, 502, 503, 404]
    assert responses[0].headers["retry-after"] == "7"
    assert responses[0].json()["error"]["code"] == "rate_limit_exceeded"
    assert responses[0].json()["error"]["type"] == "requests"
    assert responses[1].json()["error"]["code"] == "insufficient_quota"
    assert responses[2].json()["error"]["code"] == 402
    assert responses[3].json()["error"]["code"] == "invalid_api_key"
    assert responses[5].json()["error"]["code"] == "context_length_exceeded"
    assert responses[7].headers["content-type"] == "text/html"
    assert "retry-after" not in openai.rate_limited().headers


def test_transport_faults_are_replies(openai):
    assert openai.hang().action == "hang"
    assert openai.reset().action == "reset"
    assert openai.close().action == "close"
    assert openai.slow(1.5).delay == 1.5
    assert openai.malformed().body == b'{"choices": ['


def test_anthropic_ok_shape(anthropic):
    anthropic.script_chat(
        [anthropic.ok("checking", tool_calls=[("lookup", {"q": 1})], usage=(50, 7, 900))]
    )
    body = message(anthropic, model="claude-x").json()
    assert body["type"] == "message"
    assert body["id"].startswith("msg_")
    assert body["model"] == "claude-x"
    assert body["stop_reason"] == "tool_use"
    text, tool = body["content"]
    assert text == {"type": "text", "text": "checking"}
    assert tool["type"] == "tool_use"
    assert tool["id"].startswith("toolu_")
    assert (tool["name"], tool["input"]) == ("lookup", {"q": 1})
    assert body["usage"]["input_tokens"] == 50
    assert body["usage"]["output_tokens"] == 7
    assert body["usage"]["cache_read_input_tokens"] == 900


def test_anthropic_tool_only_reply_has_no_text_block(anthropic):
    anthropic.script_chat([anthropic.ok(tool_calls=[("f", {})])])
    assert [b["type"] for b in message(anthropic).json()["content"]] == ["tool_use"]


def test_anthropic_error_shapes(anthropic):
    anthropic.script_chat(
        [
            anthropic.rate_limited(retry_after=3),
            anthropic.overloaded(),
            anthropic.unauthorized(),
            anthropic.forbidden(),
            anthropic.context_overflow(),
            anthropic.model_not_found(),
            anthropic.server_error(),
            anthropic.payment_required(),
        ]
    )
    responses = [message(anthropic) for _ in range(8)]
    assert [r.status_code for r in responses] == [429, 529, 401, 403, 400, 404, 500, 400]
    types = [r.json()["error"]["type"] for r in responses]
    assert types == [
        "rate_limit_error",
        "overloaded_error",
        "authentication_error",
        "permission_error",
        "invalid_request_error",
        "not_found_error",
        "api_error",
        "invalid_request_error",
    ]
    assert all(r.json()["type"] == "error" for r in responses)
    assert responses[0].headers["retry-after"] == "3"
    assert responses[4].json()["error"]["message"] == (
        "prompt is too long: 210000 tokens > 200000 maximum"
    )


def test_per_key_scripts_and_key_log(openai):
    openai.script_for_key("k1", openai.unauthorized())  # always
    openai.script_for_key("k2", [openai.rate_limited()])  # once, then the general script
    assert chat(openai, key="k1").status_code == 401
    assert chat(openai, key="k2").status_code == 429
    assert chat(openai, key="k2").status_code == 200
    assert chat(openai, key="k1").status_code == 401
    assert chat(openai, key="k3").status_code == 200
    assert openai.api_keys == ["k1", "k2", "k2", "k1", "k3"]


def test_general_queue_and_enqueue(openai):
    openai.script_chat([openai.server_error(503)], default=openai.unauthorized())
    openai.enqueue(openai.ok("second"))
    assert chat(openai).status_code == 503
    assert chat(openai).json()["choices"][0]["message"]["content"] == "second"
    assert chat(openai).status_code == 401


def test_anthropic_records_x_api_key_and_models(anthropic):
    anthropic.script_for_key("bad", anthropic.unauthorized())
    message(anthropic, key="bad", model="claude-a")
    message(anthropic, key="good", model="claude-b")
    assert anthropic.api_keys == ["bad", "good"]
    assert anthropic.models == ["claude-a", "claude-b"]


def test_dynamic_handler_for_a_key(anthropic):
    anthropic.script_for_key("k", lambda request: anthropic.ok(f"len={len(request.body)}"))
    assert message(anthropic, key="k").json()["content"][0]["text"].startswith("len=")


def test_reset_state_restores_defaults(openai):
    openai.script_for_key("k", openai.unauthorized())
    chat(openai, key="k")
    openai.reset_state()
    assert openai.api_keys == []
    assert chat(openai, key="k").status_code == 200


def _classify(reply: Reply) -> E:
    body, headers = reply.payload()
    return classify_response(
        reply.status, {k.lower(): v for k, v in headers.items()}, body
    ).error_class


def test_fault_bodies_classify_as_intended():
    """The reliability stack's classifier reads the fakes the way it reads the providers."""
    o, a = FakeOpenAI(), FakeAnthropic()  # builders only, never started
    expected = {
        "openai.rate_limited": (o.rate_limited(), E.RATE_LIMIT),
        "openai.insufficient_quota": (o.insufficient_quota(), E.BILLING),
        "openai.payment_required": (o.payment_required(), E.BILLING),
        "openai.unauthorized": (o.unauthorized(), E.AUTH),
        "openai.context_overflow": (o.context_overflow(), E.CONTEXT_OVERFLOW),
        "openai.model_not_found": (o.model_not_found(), E.MODEL_NOT_FOUND),
        "openai.content_policy": (o.content_policy(), E.CONTENT_POLICY),
        "openai.server_error": (o.server_error(500), E.SERVER),
        "openai.malformed": (o.malformed(), E.SERVER),
        "anthropic.rate_limited": (a.rate_limited(), E.RATE_LIMIT),
        "anthropic.overloaded": (a.overloaded(), E.OVERLOADED),
        "anthropic.unauthorized": (a.unauthorized(), E.AUTH),  # "invalid x-api-key"
        "anthropic.forbidden": (a.forbidden(), E.AUTH),
        "anthropic.context_overflow": (a.context_overflow(), E.CONTEXT_OVERFLOW),
        "anthropic.model_not_found": (a.model_not_found(), E.MODEL_NOT_FOUND),
        "anthropic.server_error": (a.server_error(), E.SERVER),
        "anthropic.payment_required": (a.payment_required(), E.BILLING),
    }
    got = {name: _classify(reply) for name, (reply, _) in expected.items()}
    assert got == {name: want for name, (_, want) in expected.items()}
