"""OpenAICompatClient against FakeOpenAI: real HTTP, real faults."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from agents.providers import transport
from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderClient,
    ProviderResponseError,
    ToolCall,
)
from agents.providers.openai_compat import OpenAICompatClient
from orion.core.fakes import FakeOpenAI, FakeServer, Reply
from tests.unit.providers.samples import HELLO, WEATHER


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server
    transport.close_all()


@pytest.fixture
def client(fake):
    return OpenAICompatClient(fake.base_url, timeout=httpx.Timeout(5.0))


def test_is_a_provider_client(client):
    assert isinstance(client, ProviderClient)


def test_success_with_tool_calls_and_usage(fake, client):
    fake.script_chat(
        [
            fake.ok(
                "Let me look.",
                tool_calls=[("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"})],
                usage=(1200, 40, 1024),
            )
        ]
    )
    result = client.chat(
        ChatRequest(
            messages=[ChatMessage(role="user", content="Weather?")],
            tools=[WEATHER],
            max_tokens=256,
            temperature=0.2,
            system="You are terse.",
        ),
        model="gpt-4o-mini",
        api_key="sk-test-1",
    )
    assert result.content == "Let me look."
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("get_weather", {"city": "Oslo"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert all(c.id.startswith("call_") for c in result.tool_calls)
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1200, 40)
    assert result.usage.cached_tokens == 1024
    assert result.finish_reason == "tool_calls"
    assert result.model == "gpt-4o-mini"
    assert result.raw_id.startswith("chatcmpl-")

    (request,) = fake.chat_requests
    assert request.headers["authorization"] == "Bearer sk-test-1"
    body = request.json()
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 256
    assert body["temperature"] == 0.2
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather?"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER.parameters,
            },
        }
    ]


def test_plain_answer_and_minimal_payload(fake, client):
    fake.script_chat([fake.ok("Hello!", usage=(5, 2, 0))])
    result = client.chat(HELLO, model="m", api_key="k")
    assert (result.content, result.tool_calls, result.finish_reason) == ("Hello!", [], "stop")
    assert result.usage.cached_tokens == 0
    body = fake.chat_requests[0].json()
    assert "tools" not in body and "temperature" not in body
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_tool_round_trip_is_sent_in_openai_format(fake, client):
    call = ToolCall(id="call_1", name="get_weather", arguments={"city": "Oslo"})
    client.chat(
        ChatRequest(
            messages=[
                ChatMessage(role="user", content="Weather?", name="alice"),
                ChatMessage(role="assistant", content=None, tool_calls=[call]),
                ChatMessage(role="tool", content='{"temp": 3}', tool_call_id="call_1"),
            ],
            tools=[WEATHER],
        ),
        model="m",
        api_key="k",
    )
    messages = fake.chat_requests[0].json()["messages"]
    assert messages[0] == {"role": "user", "content": "Weather?", "name": "alice"}
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            }
        ],
    }
    assert messages[2] == {"role": "tool", "content": '{"temp": 3}', "tool_call_id": "call_1"}


def test_usage_without_details_and_missing_usage(fake, client):
    fake.script_chat(
        [
            Reply(
                json={
                    "id": "x",
                    "model": "llama3",
                    "choices": [{"message": {"role": "assistant", "content": "hi"}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1},
                }
            ),
            Reply(json={"choices": [{"message": {"content": "hi"}, "finish_reason": "length"}]}),
        ]
    )
    first = client.chat(HELLO, model="llama3", api_key="")
    assert (first.usage.input_tokens, first.usage.cached_tokens) == (3, 0)
    second = client.chat(HELLO, model="llama3", api_key="")
    assert (second.usage.input_tokens, second.finish_reason, second.model) == (
        0,
        "length",
        "llama3",
    )
    assert "authorization" not in fake.chat_requests[0].headers  # no key: no header (Ollama)


ERRORS = [
    ("rate_limited", (), 429, "rate_limit_exceeded"),
    ("insufficient_quota", (), 429, "insufficient_quota"),
    ("payment_required", (), 402, "Insufficient credits"),
    ("unauthorized", (), 401, "invalid_api_key"),
    ("forbidden", (), 403, "unsupported_country_region_territory"),
    ("context_overflow", (), 400, "context_length_exceeded"),
    ("model_not_found", (), 404, "model_not_found"),
    ("server_error", (500,), 500, "server_error"),
    ("server_error", (502,), 502, "502 Bad Gateway"),
    ("server_error", (503,), 503, "overloaded"),
]


@pytest.mark.parametrize(("builder", "args", "status", "needle"), ERRORS)
def test_error_statuses_surface_with_status_and_body(fake, client, builder, args, status, needle):
    fake.script_chat([getattr(fake, builder)(*args)])
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k")
    error = caught.value
    assert error.status == status
    assert needle.encode() in error.body
    assert error.url == f"{fake.base_url}/chat/completions"


def test_retry_after_header_is_kept(fake, client):
    fake.script_chat([fake.rate_limited(retry_after=12)])
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k")
    assert caught.value.headers["retry-after"] == "12"
    assert caught.value.json()["error"]["type"] == "requests"


def test_error_message_is_redacted(fake, client):
    fake.script_chat(
        [Reply(status=401, json={"error": {"message": "bad key sk-abcdef1234567890"}})]
    )
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="sk-abcdef1234567890")
    assert "sk-abcdef1234567890" not in str(caught.value)
    assert b"sk-abcdef1234567890" in caught.value.body  # the raw body stays for the classifier


def test_malformed_json_is_a_response_error(fake, client):
    fake.script_chat([fake.malformed()])
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k")
    assert caught.value.status == 200
    assert caught.value.body == b'{"choices": ['
    assert caught.value.detail == "body is not JSON"


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": 429, "message": "upstream rate limited"}},  # OpenRouter-style 200
        {"choices": []},
        {"choices": [{"nomessage": True}]},
        ["not", "an", "object"],
    ],
)
def test_wrong_shape_2xx_is_a_response_error(fake, client, body):
    fake.script_chat([Reply(json=body)])
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k")
    assert caught.value.status == 200
    assert caught.value.json() == body


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
def test_invalid_tool_arguments_are_a_response_error(fake, client, arguments):
    fake.script_chat([fake.ok(tool_calls=[{"name": "get_weather", "arguments": arguments}])])
    with pytest.raises(ProviderResponseError, match="get_weather"):
        client.chat(HELLO, model="m", api_key="k")


def test_empty_or_object_arguments_are_accepted(fake, client):
    fake.script_chat(
        [
            Reply(
                json={
                    "choices": [
                        {
                            "message": {
                                "content": None,
                                "tool_calls": [
                                    {"function": {"name": "a", "arguments": ""}},
                                    {"id": "c2", "function": {"name": "b", "arguments": {"x": 1}}},
                                ],
                            }
                        }
                    ]
                }
            )
        ]
    )
    result = client.chat(HELLO, model="m", api_key="k")
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("call_0", "a", {}),
        ("c2", "b", {"x": 1}),
    ]
    assert result.finish_reason == "tool_calls"


def test_hang_is_a_read_timeout(fake):
    fake.script_chat([fake.hang()])
    client = OpenAICompatClient(fake.base_url, timeout=httpx.Timeout(5.0, read=0.2))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.chat(HELLO, model="m", api_key="k")
    assert time.monotonic() - started < 2


def test_total_timeout_caps_a_slow_answer(fake):
    fake.script_chat([fake.slow(3)])
    client = OpenAICompatClient(fake.base_url, timeout=httpx.Timeout(10.0), total_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.chat(HELLO, model="m", api_key="k")
    assert time.monotonic() - started < 1.5


def test_reset_is_a_transport_error(fake, client):
    fake.script_chat([fake.reset()])
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.chat(HELLO, model="m", api_key="k")


def test_close_without_answer_is_a_protocol_error(fake, client):
    fake.script_chat([fake.close()])
    with pytest.raises(httpx.RemoteProtocolError):
        client.chat(HELLO, model="m", api_key="k")


def test_closed_port_is_a_connect_error():
    server = FakeServer().start()
    base = f"{server.url}/v1"
    server.stop()
    with pytest.raises(httpx.ConnectError):
        OpenAICompatClient(base, timeout=2).chat(HELLO, model="m", api_key="k")
    transport.close_all()


def test_key_rotation_is_visible_to_the_fake(fake, client):
    fake.script_for_key("k1", fake.unauthorized())
    fake.script_for_key("k2", fake.ok("from k2"))
    with pytest.raises(ProviderResponseError) as caught:
        client.chat(HELLO, model="m", api_key="k1")
    assert caught.value.status == 401
    assert client.chat(HELLO, model="m", api_key="k2").content == "from k2"
    assert fake.api_keys == ["k1", "k2"]


def test_keepalive_two_calls_one_connection(fake, client):
    client.chat(HELLO, model="m", api_key="k")
    OpenAICompatClient(fake.base_url).chat(HELLO, model="m", api_key="k")  # same pooled client
    assert len(fake.chat_requests) == 2
    assert fake.connections_accepted == 1


def test_connection_survives_an_error_status(fake, client):
    fake.script_chat([fake.server_error(500)])
    with pytest.raises(ProviderResponseError):
        client.chat(HELLO, model="m", api_key="k")
    client.chat(HELLO, model="m", api_key="k")
    assert fake.connections_accepted == 1


def test_zhipu_style_base_and_extra_headers():
    with FakeOpenAI(prefix="/api/paas/v4") as fake:
        client = OpenAICompatClient(
            fake.base_url + "/", extra_headers={"HTTP-Referer": "https://orion.test"}
        )
        assert client.chat(HELLO, model="glm-4.6", api_key="id.secret").model == "glm-4.6"
        (request,) = fake.chat_requests
        assert request.path == "/api/paas/v4/chat/completions"
        assert request.headers["http-referer"] == "https://orion.test"
    transport.close_all()


def test_max_tokens_field_is_configurable(fake):
    OpenAICompatClient(fake.base_url, max_tokens_field="max_completion_tokens").chat(
        HELLO, model="o3", api_key="k"
    )
    body = fake.chat_requests[0].json()
    assert body["max_completion_tokens"] == 1024 and "max_tokens" not in body


def test_client_calls_are_fast_against_the_fake(fake, client):
    """Sanity check: the fake answers in one write, so no ~40 ms delayed-ACK stall per call."""
    client.chat(HELLO, model="m", api_key="k")
    timings = []
    for _ in range(100):
        started = time.perf_counter()
        client.chat(HELLO, model="m", api_key="k")
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.01, f"p50 {statistics.median(timings) * 1000:.2f} ms"
