"""Anthropic Messages API over httpx (also Anthropic-compatible endpoints). The base URL has no
version path (`https://api.anthropic.com`); the client posts to `{base_url}/v1/messages`.
No retries here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from agents.providers import transport
from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResult,
    ProviderResponseError,
    ToolCall,
    Usage,
)

__all__ = ["AnthropicClient"]

# Anthropic stop reasons in the OpenAI words ChatResult uses.
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}


class AnthropicClient:
    def __init__(
        self,
        base_url: str,
        *,
        anthropic_version: str = "2023-06-01",
        timeout: httpx.Timeout | float | None = None,
        total_timeout: float | None = transport.DEFAULT_TOTAL_TIMEOUT,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/v1/messages"
        self.anthropic_version = anthropic_version
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.extra_headers = dict(extra_headers or {})

    def __repr__(self) -> str:
        return f"AnthropicClient({self.base_url!r})"

    def chat(self, request: ChatRequest, *, model: str, api_key: str) -> ChatResult:
        headers = {
            "x-api-key": api_key,
            "anthropic-version": self.anthropic_version,
            **self.extra_headers,
        }
        response = transport.post_json(
            self.base_url,
            self.url,
            headers=headers,
            payload=self.payload(request, model=model),
            timeout=self.timeout,
            total_timeout=self.total_timeout,
        )
        return parse_response(response, requested_model=model)

    def payload(self, request: ChatRequest, *, model: str) -> dict[str, Any]:
        system_parts = [request.system] if request.system else []
        messages: list[dict[str, Any]] = []
        for message in request.messages:
            if message.role == "system":
                if message.content:
                    system_parts.append(message.content)
                continue
            converted = _message(message)
            previous = messages[-1] if messages else None
            if (
                message.role == "tool"
                and previous is not None
                and previous["role"] == "user"
                and _is_tool_results(previous["content"])
            ):
                # Results of parallel tool calls go back in one user turn.
                previous["content"].extend(converted["content"])
            else:
                messages.append(converted)
        payload: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": messages,
        }
        if system_parts:
            payload["system"] = "\n\n".join(system_parts)
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.tools:
            payload["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        return payload


def _is_tool_results(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    )


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        block = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": message.content or "",
        }
        return {"role": "user", "content": [block]}
    if message.role == "assistant" and message.tool_calls:
        blocks: list[dict[str, Any]] = []
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        blocks.extend(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            for call in message.tool_calls
        )
        return {"role": "assistant", "content": blocks}
    return {"role": message.role, "content": message.content or ""}


def parse_response(response: transport.RawResponse, *, requested_model: str) -> ChatResult:
    fail = response.error
    data = response.json_body()
    try:
        blocks = data["content"]
        if not isinstance(blocks, list):
            raise TypeError
        texts: list[str] = []
        tool_calls: list[ToolCall] = []
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                texts.append(block["text"])
            elif kind == "tool_use":
                if not isinstance(block.get("input"), dict):
                    raise fail(f"tool_use {block.get('name')!r} input is not an object")
                tool_calls.append(
                    ToolCall(id=block["id"], name=block["name"], arguments=block["input"])
                )
        raw_usage = data.get("usage") or {}
        cache_read = int(raw_usage.get("cache_read_input_tokens") or 0)
        cache_write = int(raw_usage.get("cache_creation_input_tokens") or 0)
        usage = Usage(
            input_tokens=int(raw_usage.get("input_tokens") or 0) + cache_read + cache_write,
            output_tokens=int(raw_usage.get("output_tokens") or 0),
            cached_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
    except ProviderResponseError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError):
        raise fail("unexpected response shape (no content blocks)") from None
    stop_reason = str(data.get("stop_reason") or ("tool_use" if tool_calls else "end_turn"))
    return ChatResult(
        content="".join(texts),
        tool_calls=tool_calls,
        usage=usage,
        model=str(data.get("model") or requested_model),
        finish_reason=_FINISH.get(stop_reason, stop_reason),
        raw_id=str(data.get("id") or ""),
    )
