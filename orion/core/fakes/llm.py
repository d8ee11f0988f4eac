"""Fake LLM providers with scripted faults, as real HTTP servers on 127.0.0.1.

    with FakeOpenAI() as llm:                       # client base URL: llm.base_url (".../v1")
        llm.script_chat([llm.rate_limited(retry_after=1), llm.ok("hi", usage=(12, 3, 8))])
        llm.script_for_key("k1", llm.unauthorized())  # key k1 always 401
        ...
        assert llm.api_keys == ["k1", "k2", "k2"]

Every builder (`ok`, `rate_limited`, `server_error`, ...) returns a `Reply` with the provider's
real status, headers and body shape, so the error classifier is tested against what the
provider actually sends. The builders share names across providers so drills can script
"the same fault" on either.

Which reply answers a chat request: the API key's own queue (`script_for_key`), then that
key's default, then the general queue (`script_chat` / `enqueue`), then the general default
(`ok()` unless `script_chat(..., default=...)` says otherwise).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from orion.core.fakes.server import FakeServer, Reply, Request, Script, Scripted

__all__ = ["FakeAnthropic", "FakeLLMServer", "FakeOpenAI"]

_ECHO_MODEL = "\x00echo-model"  # replaced by the model the request asked for
_AUTO_ID = "\x00auto-id"  # replaced by a fresh id per response
_ids = itertools.count(1)


ToolCallSpec = tuple[str, dict[str, Any] | str] | dict[str, Any]


class FakeLLMServer(FakeServer):
    """Common plumbing: the chat route, per-key scripts, key log, transport faults."""

    chat_path = "/"
    default_model = "fake-model"
    id_prefix = "fake-"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._general = Script((), self.ok())
        self._by_key: dict[str, Script] = {}
        self.script("POST", self.chat_path, self._answer_chat)

    # -- scripting ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def script_chat(
        self, replies: Scripted | Iterable[Scripted], *, default: Scripted | None = None
    ) -> None:
        """Replace the general queue. Without `default`, the fallback stays `ok()`."""
        self._general = Script(replies, default)
        if self._general.default is None:
            self._general.default = self.ok()

    def enqueue(self, *replies: Scripted) -> None:
        """Append replies to the general queue."""
        self._general.extend(replies)

    def script_for_key(
        self, key: str, replies: Scripted | Iterable[Scripted], *, default: Scripted | None = None
    ) -> None:
        """Answer requests made with API key `key` from this queue first.

        One `Reply` (not a list) answers every request with that key, e.g. a revoked key:
        `script_for_key("k1", llm.unauthorized())`.
        """
        with self._cond:
            self._by_key[key] = Script(replies, default)

    def reset_state(self) -> None:
        super().reset_state()
        self._general = Script((), self.ok())
        self._by_key = {}
        self.script("POST", self.chat_path, self._answer_chat)

    # -- what happened -----------------------------------------------------------------------

    @staticmethod
    def api_key_of(request: Request) -> str | None:
        key = request.headers.get("x-api-key")
        if key:
            return key
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    @property
    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == self.chat_path and r.method == "POST"]

    @property
    def api_keys(self) -> list[str | None]:
        """The API key of every chat request, in order (key-rotation assertions)."""
        return [self.api_key_of(r) for r in self.chat_requests]

    @property
    def models(self) -> list[str | None]:
        """The model each chat request asked for, in order (fallback-chain assertions)."""
        out: list[str | None] = []
        for request in self.chat_requests:
            try:
                out.append(request.json().get("model"))
            except (ValueError, AttributeError):
                out.append(None)
        return out

    # -- answering ---------------------------------------------------------------------------

    def _answer_chat(self, request: Request) -> Reply:
        key = self.api_key_of(request)
        with self._cond:
            keyed = self._by_key.get(key) if key is not None else None
        reply = keyed.next(request) if keyed is not None else None
        if reply is None:
            reply = self._general.next(request)
        assert reply is not None  # the general script always has a default
        return self._fill(reply, request)

    def _fill(self, reply: Reply, request: Request) -> Reply:
        body = reply.json
        if not isinstance(body, dict) or (
            body.get("model") != _ECHO_MODEL and body.get("id") != _AUTO_ID
        ):
            return reply
        body = dict(body)
        if body.get("model") == _ECHO_MODEL:
            try:
                asked = request.json().get("model")
            except (ValueError, AttributeError):
                asked = None
            body["model"] = asked or self.default_model
        if body.get("id") == _AUTO_ID:
            body["id"] = f"{self.id_prefix}{next(_ids):08x}"
        return replace(reply, json=body)

    # -- transport-level faults (same for every provider) ------------------------------------

    def ok(self, *args: Any, **kwargs: Any) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError

    def slow(self, seconds: float, reply: Reply | None = None) -> Reply:
        """`reply` (default `ok()`) after `seconds`."""
        return replace(reply or self.ok(), delay=seconds)

    @staticmethod
    def hang() -> Reply:
        """Read the request, never answer (until the server stops)."""
        return Reply(action="hang")

    @staticmethod
    def reset() -> Reply:
        """Read the request, then close the connection with an RST."""
        return Reply(action="reset")

    @staticmethod
    def close() -> Reply:
        """Read the request, then close the connection without answering."""
        return Reply(action="close")

    @staticmethod
    def malformed() -> Reply:
        """200 with a truncated JSON body."""
        return Reply(
            status=200, body=b'{"choices": [', headers={"Content-Type": "application/json"}
        )

    @staticmethod
    def html_error(status: int = 502) -> Reply:
        """What a proxy or load balancer in front of the provider answers: HTML, not JSON."""
        body = (
            f"<html><head><title>{status} Bad Gateway</title></head><body>"
            f"<center><h1>{status} Bad Gateway</h1></center><hr><center>cloudflare</center>"
            "</body></html>"
        ).encode()
        return Reply(status=status, body=body, headers={"Content-Type": "text/html"})


def _tool_calls(specs: Sequence[ToolCallSpec], id_prefix: str) -> list[tuple[str, str, Any]]:
    """(id, name, arguments) from `("name", {...})` tuples or `{"name", "arguments", "id"}`."""
    out = []
    for index, spec in enumerate(specs):
        if isinstance(spec, dict):
            name, arguments = spec["name"], spec.get("arguments", {})
            call_id = spec.get("id") or f"{id_prefix}{next(_ids):06x}{index}"
        else:
            name, arguments = spec
            call_id = f"{id_prefix}{next(_ids):06x}{index}"
        out.append((call_id, name, arguments))
    return out


class FakeOpenAI(FakeLLMServer):
    """OpenAI-compatible `POST {prefix}/chat/completions` (OpenAI, GLM, Gemini, OpenRouter...).

    The client's base URL is `base_url` (server URL + prefix, "/v1" by default; use e.g.
    `prefix="/api/paas/v4"` for a Zhipu-style base).
    """

    default_model = "gpt-4o-mini"
    id_prefix = "chatcmpl-"

    def __init__(self, *, prefix: str = "/v1", host: str = "127.0.0.1", port: int = 0) -> None:
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.chat_path = f"{self.prefix}/chat/completions"
        super().__init__(host=host, port=port)

    @property
    def base_url(self) -> str:
        return self.url + self.prefix

    # -- success -----------------------------------------------------------------------------

    def ok(
        self,
        content: str | None = None,
        tool_calls: Sequence[ToolCallSpec] | None = None,
        usage: tuple[int, int, int] = (10, 5, 0),
        *,
        finish_reason: str | None = None,
        model: str | None = None,
    ) -> Reply:
        """A chat completion. `tool_calls`: `[("name", {"arg": 1}), ...]` (a str argument is
        sent verbatim, e.g. to script invalid JSON); `usage`: (prompt, completion, cached)."""
        prompt, completion, cached = usage
        if content is None and not tool_calls:
            content = "ok"
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if tool_calls:
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
                for call_id, name, args in _tool_calls(tool_calls, "call_")
            ]
        body = {
            "id": _AUTO_ID,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model or _ECHO_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }
        return Reply(json=body, headers={"x-request-id": "req_fake"})

    # -- errors ------------------------------------------------------------------------------

    @staticmethod
    def _error(
        status: int,
        message: str,
        type_: str | None,
        code: str | int | None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        return Reply(
            status=status, json=body, headers={"x-request-id": "req_fake", **(headers or {})}
        )

    def rate_limited(self, retry_after: float | None = None) -> Reply:
        headers = {
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "20s",
        }
        if retry_after is not None:
            headers["retry-after"] = _num(retry_after)
        return self._error(
            429,
            "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "requests",
            "rate_limit_exceeded",
            headers=headers,
        )

    def insufficient_quota(self) -> Reply:
        """429 that is a billing problem, not a rate limit (must not be retried)."""
        return self._error(
            429,
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            "insufficient_quota",
        )

    def payment_required(self) -> Reply:
        """402 the OpenRouter way (credits exhausted)."""
        body = {
            "error": {
                "code": 402,
                "message": "Insufficient credits. This account never purchased credits. Make "
                "sure your key is on the correct account or org, and if so, purchase more at "
                "https://openrouter.ai/settings/credits",
            },
            "user_id": "user_fake",
        }
        return Reply(status=402, json=body)

    def server_error(self, status: int = 500) -> Reply:
        """500 (JSON), 502 (an HTML proxy page) or 503 (JSON, overloaded); any other status
        gets the 500 body."""
        if status == 502:
            return self.html_error(502)
        if status == 503:
            return self._error(
                503,
                "The engine is currently overloaded, please try again later",
                "server_error",
                None,
            )
        return self._error(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        )

    def overloaded(self) -> Reply:
        return self.server_error(503)

    def unauthorized(self) -> Reply:
        return self._error(
            401,
            "Incorrect API key provided: sk-fake**********************abcd. You can find your "
            "API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )

    def forbidden(self) -> Reply:
        return self._error(
            403,
            "Country, region, or territory not supported",
            "request_forbidden",
            "unsupported_country_region_territory",
        )

    def context_overflow(self) -> Reply:
        return self._error(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 210000 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
            param="messages",
        )

    def model_not_found(self, model: str = "gpt-9") -> Reply:
        return self._error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )

    def content_policy(self) -> Reply:
        return self._error(
            400,
            "Your request was rejected as a result of our safety system.",
            "invalid_request_error",
            "content_policy_violation",
        )


class FakeAnthropic(FakeLLMServer):
    """Anthropic Messages API, `POST /v1/messages`. The client's base URL is `base_url` (the
    server URL, without "/v1", as the official SDK expects)."""

    chat_path = "/v1/messages"
    default_model = "claude-sonnet-4-5"
    id_prefix = "msg_fake"

    @property
    def base_url(self) -> str:
        return self.url

    def ok(
        self,
        content: str | None = None,
        tool_calls: Sequence[ToolCallSpec] | None = None,
        usage: tuple[int, int, int] = (10, 5, 0),
        *,
        stop_reason: str | None = None,
        model: str | None = None,
        cache_creation: int = 0,
    ) -> Reply:
        """A message. `tool_calls`: `[("name", {"arg": 1}), ...]`; `usage`: (input, output,
        cache_read) as Anthropic reports them (input excludes cached tokens)."""
        blocks: list[dict[str, Any]] = []
        if content is None and not tool_calls:
            content = "ok"
        if content:
            blocks.append({"type": "text", "text": content})
        for call_id, name, args in _tool_calls(tool_calls or (), "toolu_fake"):
            blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": args})
        input_tokens, output_tokens, cache_read = usage
        body = {
            "id": _AUTO_ID,
            "type": "message",
            "role": "assistant",
            "model": model or _ECHO_MODEL,
            "content": blocks,
            "stop_reason": stop_reason or ("tool_use" if tool_calls else "end_turn"),
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_creation,
                "cache_read_input_tokens": cache_read,
                "output_tokens": output_tokens,
                "service_tier": "standard",
            },
        }
        return Reply(json=body, headers={"request-id": "req_fake"})

    @staticmethod
    def _error(
        status: int, type_: str, message: str, headers: dict[str, str] | None = None
    ) -> Reply:
        body = {
            "type": "error",
            "error": {"type": type_, "message": message},
            "request_id": "req_fake",
        }
        return Reply(
            status=status, json=body, headers={"request-id": "req_fake", **(headers or {})}
        )

    def rate_limited(self, retry_after: float | None = 1) -> Reply:
        headers = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
        }
        if retry_after is not None:
            headers["retry-after"] = _num(retry_after)
        return self._error(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests "
            "per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
            headers,
        )

    def overloaded(self) -> Reply:
        return self._error(529, "overloaded_error", "Overloaded")

    def server_error(self, status: int = 500) -> Reply:
        """500 api_error (JSON), 502 an HTML proxy page, 529 overloaded, others api_error."""
        if status == 502:
            return self.html_error(502)
        if status == 529:
            return self.overloaded()
        return self._error(status, "api_error", "Internal server error")

    def unauthorized(self) -> Reply:
        return self._error(401, "authentication_error", "invalid x-api-key")

    def forbidden(self) -> Reply:
        return self._error(
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        )

    def payment_required(self) -> Reply:
        """Anthropic reports exhausted credit as a 400 invalid_request_error."""
        return self._error(
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
            "Billing to upgrade or purchase credits.",
        )

    def context_overflow(self, tokens: int = 210000, maximum: int = 200000) -> Reply:
        return self._error(
            400, "invalid_request_error", f"prompt is too long: {tokens} tokens > {maximum} maximum"
        )

    def bad_request(self, message: str = "messages: field required") -> Reply:
        return self._error(400, "invalid_request_error", message)

    def model_not_found(self, model: str = "claude-9") -> Reply:
        return self._error(404, "not_found_error", f"model: {model}")


def _num(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
