"""Provider-neutral chat types, the provider error and the client protocol.

Clients in this package do no retries: the reliability stack above them classifies each
outcome and decides. Two kinds of failure come out of a client:

* `ProviderResponseError`: the provider (or a proxy in front of it) answered, with a non-2xx
  status, or with a 2xx whose body is not JSON or not the expected shape; the real status,
  headers (lower-case names) and body are kept for the classifier;
* the httpx exceptions (`httpx.ConnectError`, `httpx.ReadTimeout`,
  `httpx.RemoteProtocolError`, ...) for transport failures, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from orion.reliability.redact import safe_message

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "ChatResult",
    "ProviderClient",
    "ProviderResponseError",
    "ToolCall",
    "ToolSpec",
    "Usage",
]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """role: "system" | "user" | "assistant" | "tool".

    An assistant message may carry `tool_calls`; a "tool" message answers one of them
    (`tool_call_id`) with `content` as the result text.
    """

    role: str
    content: str | None
    tool_calls: Sequence[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object


@dataclass(frozen=True)
class Usage:
    """Normalised token counts.

    `input_tokens` is every prompt token, cached ones included (OpenAI's `prompt_tokens`;
    Anthropic's `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`);
    `cached_tokens` is the part served from the prompt cache; `cache_write_tokens` the part
    written to it (Anthropic bills it at a premium; 0 elsewhere).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class ChatRequest:
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSpec] = ()
    max_tokens: int = 1024
    temperature: float | None = None
    system: str | None = None


@dataclass(frozen=True)
class ChatResult:
    """`finish_reason` uses OpenAI's words: "stop", "tool_calls", "length", "content_filter"
    (Anthropic's stop reasons are mapped; unknown ones pass through)."""

    content: str
    tool_calls: list[ToolCall]
    usage: Usage
    model: str
    finish_reason: str
    raw_id: str

    def __post_init__(self) -> None:
        # PostgreSQL text and jsonb cannot hold NUL: a model that emits one must not fail
        # the run when its answer or a tool call's arguments are stored.
        object.__setattr__(self, "content", without_nul(self.content))
        calls = [
            ToolCall(
                id=without_nul(c.id), name=without_nul(c.name), arguments=without_nul(c.arguments)
            )
            for c in self.tool_calls
        ]
        object.__setattr__(self, "tool_calls", calls)


def without_nul(value: Any) -> Any:
    """`value` with every NUL character dropped from its strings (dict keys included)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


class ProviderResponseError(Exception):
    """The provider answered, but not with a usable result."""

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        detail: str | None = None,
        url: str | None = None,
    ) -> None:
        self.status = status
        self.headers: dict[str, str] = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.detail = detail
        self.url = url
        text = safe_message(body[:2000].decode("utf-8", errors="replace"))
        where = f" from {url}" if url else ""
        reason = f" ({detail})" if detail else ""
        super().__init__(f"HTTP {status}{where}{reason}: {text}")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        import json

        try:
            return json.loads(self.body)
        except ValueError:
            return None


@runtime_checkable
class ProviderClient(Protocol):
    def chat(self, request: ChatRequest, *, model: str, api_key: str) -> ChatResult: ...
