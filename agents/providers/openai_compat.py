"""OpenAI-compatible chat completions over httpx: OpenAI, Zhipu GLM, Gemini's OpenAI endpoint,
OpenRouter, Ollama's `/v1`. The base URL includes the version path (e.g.
`https://api.openai.com/v1`, `https://open.bigmodel.cn/api/paas/v4`, `http://127.0.0.1:11434/v1`);
the client posts to `{base_url}/chat/completions`. No retries here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from agents.providers import transport
from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResult,
    ToolCall,
    Usage,
)

__all__ = ["OpenAICompatClient"]


class OpenAICompatClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        total_timeout: float | None = transport.DEFAULT_TOTAL_TIMEOUT,
        extra_headers: Mapping[str, str] | None = None,
        max_tokens_field: str = "max_tokens",
    ) -> None:
        """`max_tokens_field`: "max_completion_tokens" for OpenAI reasoning models."""
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.extra_headers = dict(extra_headers or {})
        self.max_tokens_field = max_tokens_field

    def __repr__(self) -> str:
        return f"OpenAICompatClient({self.base_url!r})"

    def chat(self, request: ChatRequest, *, model: str, api_key: str) -> ChatResult:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}  # Ollama: none
        response = transport.post_json(
            self.base_url,
            self.url,
            headers={**headers, **self.extra_headers},
            payload=self.payload(request, model=model),
            timeout=self.timeout,
            total_timeout=self.total_timeout,
        )
        return parse_response(response, requested_model=model)

    def payload(self, request: ChatRequest, *, model: str) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(_message(m) for m in request.messages)
        payload: dict[str, Any] = {
            "model": model,
            "messages": messages,
            self.max_tokens_field: request.max_tokens,
        }
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.tools:
            payload["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                }
                for tool in request.tools
            ]
        return payload


def _message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
    elif message.role == "tool":
        out["tool_call_id"] = message.tool_call_id
        if out["content"] is None:
            out["content"] = ""
    if message.name and message.role != "tool":
        out["name"] = message.name
    return out


def parse_response(response: transport.RawResponse, *, requested_model: str) -> ChatResult:
    fail = response.error
    data = response.json_body()
    try:
        choice = data["choices"][0]
        message = choice["message"]
        content = message.get("content") or ""
        if not isinstance(content, str):  # a list of content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        tool_calls = [_tool_call(raw, i) for i, raw in enumerate(message.get("tool_calls") or ())]
        usage = _usage(data.get("usage") or {})
    except _BadArguments as exc:
        raise fail(str(exc)) from None
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise fail("unexpected response shape (no choices[0].message)") from None
    return ChatResult(
        content=content,
        tool_calls=tool_calls,
        usage=usage,
        model=str(data.get("model") or requested_model),
        finish_reason=str(choice.get("finish_reason") or ("tool_calls" if tool_calls else "stop")),
        raw_id=str(data.get("id") or ""),
    )


class _BadArguments(ValueError):
    pass


def _tool_call(raw: dict[str, Any], index: int) -> ToolCall:
    function = raw["function"]
    name = function["name"]
    arguments = function.get("arguments")
    if arguments is None or arguments == "":
        parsed: Any = {}
    elif isinstance(arguments, dict):  # some compatible servers send an object
        parsed = arguments
    else:
        try:
            parsed = json.loads(arguments)
        except (ValueError, TypeError):
            raise _BadArguments(f"tool call {name!r} has arguments that are not JSON") from None
    if not isinstance(parsed, dict):
        raise _BadArguments(f"tool call {name!r} arguments are not a JSON object")
    return ToolCall(id=str(raw.get("id") or f"call_{index}"), name=str(name), arguments=parsed)


def _usage(raw: dict[str, Any]) -> Usage:
    details = raw.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=int(raw.get("prompt_tokens") or 0),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0),
    )
