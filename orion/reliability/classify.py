"""Classify a provider's (or a channel's) HTTP response or a transport exception.

Structured codes win over wording, wording refines the HTTP status. Provider shapes read:
OpenAI and compatibles (`{"error": {"message", "type", "code"}}`), Zhipu GLM (numeric
`code` strings), Gemini's OpenAI endpoint (sometimes a list, with a gRPC `status`),
OpenRouter (`code` = HTTP status, also inside 200s), Ollama (`{"error": "..."}`) and
Anthropic (`{"type": "error", "error": {"type", "message"}}`). Channels: Telegram's
`{"ok": false, "error_code", "description", "parameters": {"retry_after"}}` and Discord's
top-level `retry_after` give the wait when no header does.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from orion.reliability.errors import AttemptFailed, Classified, ErrorClass
from orion.reliability.redact import safe_message
from orion.reliability.retry_after import parse_duration, parse_retry_after

E = ErrorClass
NON_JSON_MESSAGE = "provider returned a non-JSON body"

# Structured codes / types / gRPC statuses, lower-cased. None = "generic, decide by status".
_CODES: dict[str, ErrorClass] = {
    # OpenAI and compatibles (code or type)
    # A wrong key is "auth" (30 s, 60 s, 5 min: a fixed key comes back by itself); only a
    # key the provider says is revoked or deactivated is disabled as auth_permanent.
    "invalid_api_key": E.AUTH,
    "account_deactivated": E.AUTH_PERMANENT,
    "unsupported_country_region_territory": E.AUTH_PERMANENT,
    "insufficient_quota": E.BILLING,
    "billing_hard_limit_reached": E.BILLING,
    "billing_not_active": E.BILLING,
    "rate_limit_exceeded": E.RATE_LIMIT,
    "tokens": E.RATE_LIMIT,
    "requests": E.RATE_LIMIT,
    "context_length_exceeded": E.CONTEXT_OVERFLOW,
    "model_not_found": E.MODEL_NOT_FOUND,
    "content_policy_violation": E.CONTENT_POLICY,
    "content_filter": E.CONTENT_POLICY,
    "server_error": E.SERVER,
    # Anthropic error types
    "overloaded_error": E.OVERLOADED,
    "rate_limit_error": E.RATE_LIMIT,
    "authentication_error": E.AUTH,
    "permission_error": E.AUTH,
    "not_found_error": E.MODEL_NOT_FOUND,
    "api_error": E.SERVER,
    "billing_error": E.BILLING,
    "timeout_error": E.TIMEOUT,
    # Gemini (gRPC status names)
    "resource_exhausted": E.RATE_LIMIT,
    "unavailable": E.OVERLOADED,
    "deadline_exceeded": E.TIMEOUT,
    "internal": E.SERVER,
    "unauthenticated": E.AUTH,
    "permission_denied": E.AUTH,
    "not_found": E.MODEL_NOT_FOUND,
    "failed_precondition": E.AUTH_PERMANENT,  # e.g. "User location is not supported"
    # Zhipu GLM business codes (docs.bigmodel.cn "api code")
    "1000": E.AUTH,
    "1001": E.AUTH,
    "1002": E.AUTH_PERMANENT,
    "1003": E.AUTH,
    "1004": E.AUTH,
    "1110": E.AUTH_PERMANENT,
    "1111": E.AUTH_PERMANENT,
    "1112": E.AUTH_PERMANENT,
    "1113": E.BILLING,
    "1120": E.AUTH,
    "1121": E.AUTH_PERMANENT,
    "1210": E.FORMAT,
    "1211": E.MODEL_NOT_FOUND,
    "1212": E.FORMAT,
    "1213": E.FORMAT,
    "1214": E.FORMAT,
    "1215": E.FORMAT,
    "1220": E.AUTH,
    "1221": E.MODEL_NOT_FOUND,
    "1222": E.MODEL_NOT_FOUND,
    "1230": E.SERVER,
    "1231": E.RATE_LIMIT,
    "1234": E.SERVER,
    "1261": E.CONTEXT_OVERFLOW,
    "1300": E.CONTENT_POLICY,
    "1301": E.CONTENT_POLICY,
    "1302": E.RATE_LIMIT,
    "1303": E.RATE_LIMIT,
    "1304": E.RATE_LIMIT,
    "1305": E.OVERLOADED,
    "1308": E.BILLING,
    "1309": E.BILLING,
    "1310": E.BILLING,
    "1311": E.MODEL_NOT_FOUND,
    "1312": E.OVERLOADED,
    "1313": E.RATE_LIMIT,
}

_CONTEXT_WORDS = (
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "input is too long",
    "prompt 超长",
)
_CONTENT_WORDS = ("content_policy", "content policy", "content_filter", "safety", "flagged")
_BAD_KEY_WORDS = (
    "invalid_api_key",
    "invalid api key",
    "incorrect api key",
    "invalid x-api-key",
    "api key not valid",
    "api_key_invalid",
)
_PERMANENT_AUTH_WORDS = (
    "revoked",
    "deactivated",
    "disabled",
    "suspended",
)
_BILLING_WORDS = (
    "insufficient",
    "billing",
    "credit balance",
    "credits",
    "payment required",
    "quota",
    "欠费",
    "余额",
)
_MODEL_MISSING = re.compile(
    r"model_not_found|no such model|unknown model|"
    r"model\b.*\b(not found|does not exist|not exist)|(not found|does not exist)\b.*\bmodel"
)
_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?(?:ms|s|m)?(?:\d+(?:\.\d+)?(?:ms|s))*)")


@dataclass(frozen=True)
class _Body:
    parsed: bool
    message: str = ""
    codes: tuple[str, ...] = ()  # type, code, status, lower-cased
    http_code: int | None = None  # OpenRouter/Gemini's numeric code when it is an HTTP status
    retry_delay: float | None = None  # Gemini RetryInfo / "try again in 20s"

    @property
    def text(self) -> str:
        return " ".join((*self.codes, self.message)).lower()


def classify_response(
    status: int, headers: Mapping[str, str], body: bytes | str, *, now: float | None = None
) -> Classified:
    """Classify a finished HTTP exchange the caller considers failed (or a 2xx it can't read)."""
    info = _read_body(body)
    retry_after = parse_retry_after(headers, now=time.time() if now is None else now)
    if retry_after is None:
        retry_after = info.retry_delay
    if 200 <= status < 300 and not info.parsed:
        return Classified.of(E.SERVER, status=status, message=NON_JSON_MESSAGE)
    effective = status
    if 200 <= status < 300 and info.http_code and 400 <= info.http_code < 600:
        effective = info.http_code  # OpenRouter reports some failures inside a 200
    error_class = _decide(effective, info)
    message = info.message if info.parsed else _strip_markup(info.message)
    return Classified.of(
        error_class,
        status=status,
        message=safe_message(message or f"HTTP {status}"),
        retry_after=retry_after,
    )


def classify_exception(exc: BaseException) -> Classified:
    """Classify an exception: transport failures, and HTTPStatusError via its response."""
    if isinstance(exc, AttemptFailed):
        return exc.classified
    if isinstance(exc, httpx.HTTPStatusError):  # from response.raise_for_status()
        response = exc.response
        try:
            body = response.content
        except httpx.ResponseNotRead:
            body = b""
        return classify_response(response.status_code, response.headers, body)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        error_class = E.TIMEOUT
    elif isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | OSError):
        error_class = E.NETWORK
    else:
        error_class = E.UNKNOWN
    detail = str(exc)
    message = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return Classified.of(error_class, message=safe_message(message))


def _decide(status: int, info: _Body) -> ErrorClass:
    text = info.text
    structured = next((_CODES[c] for c in info.codes if c in _CODES), None)
    error_class = structured if structured is not None else _by_status(status, text)
    if error_class is E.AUTH and _has(text, _PERMANENT_AUTH_WORDS):
        return E.AUTH_PERMANENT
    return error_class


def _by_status(status: int, text: str) -> ErrorClass:
    if status in (400, 413, 422):
        if _has(text, _CONTEXT_WORDS):
            return E.CONTEXT_OVERFLOW
        if _has(text, _CONTENT_WORDS):
            return E.CONTENT_POLICY
        if _has(text, _BAD_KEY_WORDS):
            return E.AUTH  # Gemini: 400 "API key not valid"
        if _has(text, ("credit balance", "insufficient", "billing")):
            return E.BILLING  # Anthropic: "Your credit balance is too low" is a 400
        if _MODEL_MISSING.search(text):
            return E.MODEL_NOT_FOUND
        return E.FORMAT
    if status == 401:
        return E.AUTH
    if status == 402:
        return E.BILLING
    if status == 403:
        if _has(text, _CONTENT_WORDS):
            return E.CONTENT_POLICY  # OpenRouter moderation
        if _has(text, ("insufficient", "billing", "credit balance")):
            return E.BILLING
        return E.AUTH
    if status == 404:
        return E.MODEL_NOT_FOUND
    if status == 408:
        return E.TIMEOUT
    if status == 429:
        return E.BILLING if _has(text, _BILLING_WORDS) else E.RATE_LIMIT
    if status in (503, 529):
        return E.OVERLOADED
    if 500 <= status < 600:
        return E.SERVER
    if _MODEL_MISSING.search(text):
        return E.MODEL_NOT_FOUND
    return E.UNKNOWN


def _read_body(body: bytes | str) -> _Body:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except ValueError:
        return _Body(parsed=False, message=text)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]  # Gemini's OpenAI endpoint wraps the error in a list
    if not isinstance(data, dict):
        return _Body(parsed=True)
    error = data.get("error", data)
    if isinstance(error, str):  # Ollama
        return _Body(parsed=True, message=error)
    if not isinstance(error, dict):
        return _Body(parsed=True, message=str(data.get("message") or data.get("detail") or ""))
    codes = tuple(
        str(error[key]).lower()
        for key in ("code", "type", "status")
        if error.get(key) not in (None, "") and not isinstance(error[key], dict | list)
    )
    raw_code = error.get("code")
    http_code = raw_code if isinstance(raw_code, int) and 100 <= raw_code < 600 else None
    message = str(
        error.get("message")
        or data.get("message")
        or data.get("detail")
        or data.get("description")  # Telegram
        or ""
    )
    if http_code is None and isinstance(data.get("error_code"), int):
        code = data["error_code"]  # Telegram: {"ok": false, "error_code": 429, ...}
        http_code = code if 100 <= code < 600 else None
    return _Body(
        parsed=True,
        message=message,
        codes=codes,
        http_code=http_code,
        retry_delay=_retry_delay(error, message, data),
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    seconds = parse_duration(str(value))
    return seconds if seconds is not None and seconds >= 0 else None


def _retry_delay(error: dict[str, Any], message: str, data: dict[str, Any]) -> float | None:
    parameters = data.get("parameters")
    if isinstance(parameters, dict) and "retry_after" in parameters:  # Telegram
        seconds = _seconds(parameters["retry_after"])
        if seconds is not None:
            return seconds
    if "retry_after" in data:  # Discord: {"message": ..., "retry_after": 64.57}
        seconds = _seconds(data["retry_after"])
        if seconds is not None:
            return seconds
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and "retryDelay" in detail:
            seconds = parse_duration(str(detail["retryDelay"]))
            if seconds is not None:
                return seconds
    match = _TRY_AGAIN.search(message.lower())
    if match:
        value = match.group(1)
        return parse_duration(value if value[-1].isalpha() else value + "s")
    return None


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def _strip_markup(text: str) -> str:
    return re.sub(r"<[^>]+>", " ", text)
