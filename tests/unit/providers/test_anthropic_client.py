"""AnthropicClient against FakeAnthropic: real HTTP, real faults."""

from __future__ import annotations

import httpx
import pytest

from agents.providers import transport
from agents.providers.anthropic import AnthropicClient
from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderClient,
    ProviderResponseError,
    ToolCall,
)
from orion.core.fakes import FakeAnthropic, Reply
from tests.unit.providers.samples import HELLO, WEATHER


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        yield server
    transport.close_all()


@pytest.fixture
def client(fake):
    return AnthropicClient(fake.base_url, timeout=5.0)


def test_is_a_provider_client(client):
    assert isinstance(client, ProviderClient)


def test_success_with_tool_use_and_usage(fake, client):
    fake.script_chat(
        [
            fake.ok(
                "Checking.",
                tool_calls=[("get_weather", {"city": "Oslo"})],
                usage=(30, 12, 2000),
                cache_creation=100,
            )
        ]
    )
    result = client.chat(
        ChatRequest(
            messages=[ChatMessage(role="user", content="Weather?")],
            tools=[WEATHER],
            max_tokens=300,
            temperature=0,
            system="Be brief.",
        ),
        model="claude-sonnet-4-5",
        api_key="sk-ant-1",
    )
    assert result.content == "Checking."
    (call,) = result.tool_calls
    assert (call.name, call.arguments) == ("get_weather", {"city": "Oslo"})
    assert call.id.startswith("toolu_")
    assert result.finish_reason == "tool_calls"
    assert result.model == "claude-sonnet-4-5"
    assert result.raw_id.startswith("msg_")
    # Normalised: input counts every prompt token, cached ones included.
    assert result.usage.input_tokens == 30 + 2000 + 100
    assert result.usage.output_tokens == 12
    assert result.usage.cached_tokens == 2000
    assert result.usage.cache_write_tokens == 100

    (request,) = fake.chat_requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-1"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    body = request.json()
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0
    assert body["messages"] == [{"role": "user", "content": "Weather?"}]
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": WEATHER.parameters,
        }
    ]


def test_stop_reasons_are_normalised(fake, client):
    fake.script_chat(
        [
            fake.ok("a"),
            fake.ok("b", stop_reason="max_tokens"),
            fake.ok("c", stop_reason="new_reason"),
        ]
    )
    reasons = [client.chat(HELLO, model="m", api_key="k").finish_reason for _ in range(3)]
    assert reasons == ["stop", "length", "new_reason"]


def test_tool_results_go_back_as_tool_result_blocks(fake, client):
    calls = [
        ToolCall(id="toolu_1", name="get_weather", arguments={"city": "Oslo"}),
        ToolCall(id="toolu_2", name="get_weather", arguments={"city": "Rome"}),
    ]
    client.chat(
        ChatRequest(
            messages=[
                ChatMessage(role="system", content="Extra rule."),
                ChatMessage(role="user", content="Weather?"),
                ChatMessage(role="assistant", content="Looking.", tool_calls=calls),
                ChatMessage(role="tool", content="3C", tool_call_id="toolu_1"),
                ChatMessage(role="tool", content="18C", tool_call_id="toolu_2"),
                ChatMessage(role="assistant", content="Oslo 3C, Rome 18C."),
                ChatMessage(role="user", content="Thanks"),
            ],
            system="Be brief.",
        ),
        model="m",
        api_key="k",
    )
    body = fake.chat_requests[0].json()
    assert body["system"] == "Be brief.\n\nExtra rule."
    assert body["messages"] == [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "get_weather",
                    "input": {"city": "Rome"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "3C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "18C"},
            ],
        },
        {"role": "assistant", "content": "Oslo 3C, Rome 18C."},
        {"role": "user", "content": "Thanks"},
    ]


ERRORS = [
    ("rate_limited", 429, "rate_limit_error"),
    ("overloaded", 529, "overloaded_error"),
    ("unauthorized", 401, "authentication_error"),
    ("forbidden", 403, "permission_error"),
    ("context_overflow", 400, "prompt is too long: 210000 tokens > 200000 maximum"),
    ("model_not_found", 404, "not_found_error"),
    ("server_error", 500, "api_error"),
    ("payment_required", 400, "credit balance is too low"),
]


@pytest.mark.parametrize(("builder", "status", "needle"), ERRORS)
def test_error_statuses_surface_with_status_and_body(fake, client, builder, status, needle):
    fake.script_chat([getattr(fake, builder)()])
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k")
    assert caught.value.status == status
    assert needle.encode() in caught.value.body
    assert caught.value.json()["type"] == "error"


def test_rate_limit_keeps_retry_after(fake, client):
    fake.script_chat([fake.rate_limited(retry_after=4)])
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k")
    assert caught.value.headers["retry-after"] == "4"


def test_malformed_and_wrong_shape(fake, client):
    fake.script_chat(
        [
            fake.malformed(),
            Reply(json={"type": "error", "error": {"type": "api_error", "message": "x"}}),
            Reply(json={"content": [{"type": "tool_use", "id": "t", "name": "f", "input": "no"}]}),
        ]
    )
    for _ in range(3):
        with pytest.raises(ProviderResponseError) as caught:
            client.chat(HELLO, model="m", api_key="k")
        assert caught.value.status == 200


def test_transport_faults(fake):
    fake.script_chat([fake.hang(), fake.reset(), fake.close()])
    client = AnthropicClient(fake.base_url, timeout=httpx.Timeout(5.0, read=0.2))
    with pytest.raises(httpx.ReadTimeout):
        client.chat(HELLO, model="m", api_key="k")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.chat(HELLO, model="m", api_key="k")
    with pytest.raises(httpx.RemoteProtocolError):
        client.chat(HELLO, model="m", api_key="k")


def test_per_key_script_and_key_log(fake, client):
    fake.script_for_key("revoked", fake.unauthorized())
    with pytest.raises(ProviderResponseError):
        client.chat(HELLO, model="m", api_key="revoked")
    assert client.chat(HELLO, model="m", api_key="fresh").content == "ok"
    assert fake.api_keys == ["revoked", "fresh"]


def test_keepalive_two_calls_one_connection(fake, client):
    client.chat(HELLO, model="m", api_key="k")
    client.chat(HELLO, model="m", api_key="k")
    assert fake.connections_accepted == 1
