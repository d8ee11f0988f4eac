"""classify_response over realistic error bodies of each provider family."""

from __future__ import annotations

import json

import pytest

from orion.reliability import (
    ACTION,
    NON_JSON_MESSAGE,
    Action,
    ErrorClass,
    classify_response,
)

E = ErrorClass
NOW = 1_700_000_000.0


def oai(message: str, type_: str | None, code: str | None) -> str:
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}})


def anthropic(type_: str, message: str) -> str:
    return json.dumps({"type": "error", "error": {"type": type_, "message": message}})


def zhipu(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)


def gemini(code: int, status: str, message: str, details: list | None = None) -> str:
    error = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return json.dumps([{"error": error}])


def openrouter(code: int, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


CASES = [
    # --- OpenAI and compatibles -------------------------------------------------------
    (
        "openai 429 rate",
        429,
        oai(
            "Rate limit reached for gpt-4o-mini in organization "
            "org-abc on requests per min (RPM): Limit 3, Used 3. Please try again in 20s.",
            "requests",
            "rate_limit_exceeded",
        ),
        E.RATE_LIMIT,
    ),
    (
        "openai 429 quota",
        429,
        oai(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        E.BILLING,
    ),
    (
        "openai 401 bad key",
        401,
        oai(
            "Incorrect API key provided: sk-proj-********abcd. You "
            "can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        E.AUTH,
    ),
    (
        "openai 401 deactivated",
        401,
        oai(
            "This key is associated with a deactivated account.",
            "invalid_request_error",
            "account_deactivated",
        ),
        E.AUTH_PERMANENT,
    ),
    (
        "openai 401 plain",
        401,
        oai("You didn't provide an API key.", "invalid_request_error", None),
        E.AUTH,
    ),
    (
        "openai 400 context",
        400,
        oai(
            "This model's maximum context length is 128000 tokens. "
            "However, your messages resulted in 130000 tokens.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        E.CONTEXT_OVERFLOW,
    ),
    (
        "openai 400 content",
        400,
        oai(
            "Your request was rejected as a result of our safety system.",
            "invalid_request_error",
            "content_policy_violation",
        ),
        E.CONTENT_POLICY,
    ),
    (
        "openai 400 format",
        400,
        oai("Invalid value for 'role': 'robot'.", "invalid_request_error", None),
        E.FORMAT,
    ),
    ("openai 422 format", 422, '{"detail": "messages: field required"}', E.FORMAT),
    (
        "openai 404 model",
        404,
        oai(
            "The model `gpt-9` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        E.MODEL_NOT_FOUND,
    ),
    (
        "openai 500",
        500,
        oai("The server had an error while processing your request.", "server_error", None),
        E.SERVER,
    ),
    (
        "openai 503",
        503,
        oai("The engine is currently overloaded, please try again later", "server_error", None),
        E.SERVER,
    ),  # structured server_error wins over the status
    ("generic 503", 503, '{"error": {"message": "Service Unavailable"}}', E.OVERLOADED),
    (
        "openai 403 region",
        403,
        oai(
            "Country, region, or territory not supported",
            "request_forbidden",
            "unsupported_country_region_territory",
        ),
        E.AUTH_PERMANENT,
    ),
    (
        "generic 413 context",
        413,
        '{"error": {"message": "Request too large: too many tokens"}}',
        E.CONTEXT_OVERFLOW,
    ),
    ("generic 413 format", 413, '{"error": {"message": "Payload exceeds 10MB"}}', E.FORMAT),
    ("generic 429 quota words", 429, '{"error": {"message": "monthly quota exceeded"}}', E.BILLING),
    ("generic 429 plain", 429, '{"error": {"message": "Too Many Requests"}}', E.RATE_LIMIT),
    ("generic 408", 408, "", E.TIMEOUT),
    ("generic 502 html", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", E.SERVER),
    ("generic 504", 504, "upstream timed out", E.SERVER),
    ("generic 418", 418, '{"error": {"message": "I am a teapot"}}', E.UNKNOWN),
    (
        "generic 409 model wording",
        409,
        '{"error": {"message": "no such model: foo"}}',
        E.MODEL_NOT_FOUND,
    ),
    # --- Anthropic ----------------------------------------------------------------------
    ("anthropic 529", 529, anthropic("overloaded_error", "Overloaded"), E.OVERLOADED),
    (
        "anthropic 429",
        429,
        anthropic(
            "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"
        ),
        E.RATE_LIMIT,
    ),
    (
        "anthropic 401 bad key",
        401,
        anthropic("authentication_error", "invalid x-api-key"),
        E.AUTH,
    ),
    (
        "anthropic 401 other",
        401,
        anthropic("authentication_error", "authentication failed"),
        E.AUTH,
    ),
    (
        "anthropic 403",
        403,
        anthropic(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        E.AUTH,
    ),
    (
        "anthropic 403 disabled",
        403,
        anthropic("permission_error", "This organization has been disabled."),
        E.AUTH_PERMANENT,
    ),
    (
        "anthropic 400 context",
        400,
        anthropic("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
        E.CONTEXT_OVERFLOW,
    ),
    (
        "anthropic 400 credit",
        400,
        anthropic(
            "invalid_request_error",
            "Your credit balance is "
            "too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
            "purchase credits.",
        ),
        E.BILLING,
    ),
    (
        "anthropic 400 format",
        400,
        anthropic(
            "invalid_request_error", "messages.0.role: Input should be 'user' or 'assistant'"
        ),
        E.FORMAT,
    ),
    ("anthropic 404", 404, anthropic("not_found_error", "model: claude-9"), E.MODEL_NOT_FOUND),
    ("anthropic 500", 500, anthropic("api_error", "Internal server error"), E.SERVER),
    (
        "anthropic 413",
        413,
        anthropic("request_too_large", "Request exceeds the maximum allowed number of bytes."),
        E.FORMAT,
    ),
    # --- Zhipu GLM ----------------------------------------------------------------------
    ("zhipu 1113", 429, zhipu("1113", "您的账户已欠费,请充值后重试"), E.BILLING),
    (
        "zhipu 1301",
        400,
        zhipu("1301", "系统检测到输入或生成内容可能包含不安全或敏感内容"),
        E.CONTENT_POLICY,
    ),
    ("zhipu 1302", 429, zhipu("1302", "您当前使用该API的并发数过高,请降低并发"), E.RATE_LIMIT),
    ("zhipu 1303", 429, zhipu("1303", "您当前使用该API的频率过高,请降低频率"), E.RATE_LIMIT),
    ("zhipu 1305", 429, zhipu("1305", "该模型当前访问量过大,请您稍后再试"), E.OVERLOADED),
    ("zhipu 1261", 400, zhipu("1261", "Prompt 超长"), E.CONTEXT_OVERFLOW),
    ("zhipu 1211", 400, zhipu("1211", "模型不存在,请检查模型代码"), E.MODEL_NOT_FOUND),
    (
        "zhipu 1002",
        401,
        zhipu("1002", "Authorization Token非法,请确认Authorization Token正确传递。"),
        E.AUTH_PERMANENT,
    ),
    ("zhipu 1000", 401, zhipu("1000", "身份验证失败"), E.AUTH),
    ("zhipu 1214", 400, zhipu("1214", "messages 参数非法。请检查文档。"), E.FORMAT),
    ("zhipu 500", 500, zhipu("500", "Internal Error"), E.SERVER),
    # --- Gemini's OpenAI endpoint (list-wrapped, gRPC status) ----------------------------
    (
        "gemini 429",
        429,
        gemini(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
        ),
        E.RATE_LIMIT,
    ),
    (
        "gemini 503",
        503,
        gemini(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        E.OVERLOADED,
    ),
    (
        "gemini 400 key",
        400,
        gemini(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
        E.AUTH,
    ),
    (
        "gemini 400 location",
        400,
        gemini(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        E.AUTH_PERMANENT,
    ),
    (
        "gemini 404",
        404,
        gemini(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1main"),
        E.MODEL_NOT_FOUND,
    ),
    ("gemini 500", 500, gemini(500, "INTERNAL", "An internal error has occurred."), E.SERVER),
    ("gemini 504", 504, gemini(504, "DEADLINE_EXCEEDED", "Deadline expired"), E.TIMEOUT),
    (
        "gemini 400 context",
        400,
        gemini(
            400,
            "INVALID_ARGUMENT",
            "The input token count "
            "(1200000) exceeds the maximum number of tokens allowed (1048576). too many tokens",
        ),
        E.CONTEXT_OVERFLOW,
    ),
    (
        "gemini 400 safety",
        400,
        gemini(400, "INVALID_ARGUMENT", "The request was blocked by safety filters."),
        E.CONTENT_POLICY,
    ),
    # --- OpenRouter ---------------------------------------------------------------------
    (
        "openrouter 402",
        402,
        openrouter(402, "Insufficient credits. Add more using https://openrouter.ai/credits"),
        E.BILLING,
    ),
    (
        "openrouter 403 moderation",
        403,
        openrouter(
            403, 'Your chosen model requires moderation and your input was flagged for "harassment"'
        ),
        E.CONTENT_POLICY,
    ),
    (
        "openrouter 200 with 429 inside",
        200,
        openrouter(429, "Rate limit exceeded: free-models-per-min."),
        E.RATE_LIMIT,
    ),
    ("openrouter 200 with 502 inside", 200, openrouter(502, "Provider returned error"), E.SERVER),
    ("openrouter 401", 401, openrouter(401, "No auth credentials found"), E.AUTH),
    # --- Ollama -------------------------------------------------------------------------
    (
        "ollama 404",
        404,
        '{"error":"model \'llama9\' not found, try pulling it first"}',
        E.MODEL_NOT_FOUND,
    ),
    ("ollama 400 model wording", 400, '{"error":"model \'llama9\' not found"}', E.MODEL_NOT_FOUND),
    (
        "ollama 500",
        500,
        '{"error":"llama runner process has terminated: signal: killed"}',
        E.SERVER,
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_provider_bodies_classify(status: int, body: str, expected: ErrorClass) -> None:
    result = classify_response(status, {}, body.encode(), now=NOW)
    assert result.error_class is expected
    assert result.action is ACTION[expected]
    assert result.status == status


def test_every_error_class_is_reachable_from_some_case() -> None:
    assert {c[3] for c in CASES} | {E.NETWORK} == set(ErrorClass)


def test_every_class_has_exactly_one_action() -> None:
    assert set(ACTION) == set(ErrorClass)
    assert ACTION[E.CONTEXT_OVERFLOW] is Action.LARGER_MODEL
    assert ACTION[E.CONTENT_POLICY] is ACTION[E.FORMAT] is Action.SURFACE
    assert ACTION[E.BILLING] is ACTION[E.AUTH] is ACTION[E.AUTH_PERMANENT] is Action.ROTATE_PROFILE


def test_2xx_with_unreadable_body_is_a_server_error() -> None:
    result = classify_response(200, {}, b"<html>Cloudflare says hi</html>", now=NOW)
    assert result.error_class is E.SERVER
    assert result.message == NON_JSON_MESSAGE


def test_2xx_with_a_normal_json_body_is_not_mistaken_for_a_known_class() -> None:
    result = classify_response(200, {}, b'{"choices": []}', now=NOW)
    assert result.error_class is E.UNKNOWN


def test_str_body_is_accepted_like_bytes() -> None:
    assert classify_response(429, {}, "", now=NOW).error_class is E.RATE_LIMIT


def test_retry_after_header_is_attached() -> None:
    result = classify_response(429, {"Retry-After": "2"}, b"", now=NOW)
    assert result.retry_after == 2.0


def test_gemini_retry_delay_in_body_is_used_without_header() -> None:
    body = gemini(
        429,
        "RESOURCE_EXHAUSTED",
        "quota",
        details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}],
    )
    assert classify_response(429, {}, body, now=NOW).retry_after == 37.0


def test_openai_try_again_hint_is_used_without_header() -> None:
    body = oai(
        "Rate limit reached on tokens per min. Please try again in 1.5s.",
        "tokens",
        "rate_limit_exceeded",
    )
    assert classify_response(429, {}, body, now=NOW).retry_after == 1.5
    body = oai("Rate limit reached. Please try again in 6m0s.", "requests", "rate_limit_exceeded")
    assert classify_response(429, {}, body, now=NOW).retry_after == 360.0


def test_header_wins_over_body_hint() -> None:
    body = oai("Please try again in 20s.", "requests", "rate_limit_exceeded")
    assert classify_response(429, {"retry-after": "3"}, body, now=NOW).retry_after == 3.0


def test_messages_are_short_single_line_and_secret_free() -> None:
    key = "sk-proj-" + "A1b2C3d4" * 8
    body = oai(
        f"Incorrect API key provided: {key}.\n" + "x" * 2000,
        "invalid_request_error",
        "invalid_api_key",
    )
    message = classify_response(401, {}, body, now=NOW).message
    assert key not in message and "A1b2C3d4A1b2" not in message
    assert "\n" not in message
    assert len(message) <= 300


def test_google_key_in_a_url_is_redacted() -> None:
    body = '{"error": {"message": "bad request to /v1/models?key=AIzaSyD-abcdefghijklmnop12345"}}'
    message = classify_response(400, {}, body, now=NOW).message
    assert "AIzaSy" not in message


def test_empty_body_gets_a_status_message() -> None:
    assert classify_response(503, {}, b"", now=NOW).message == "HTTP 503"


def test_telegram_retry_after_in_the_json_body_is_read() -> None:
    body = json.dumps(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 35",
            "parameters": {"retry_after": 35},
        }
    )
    result = classify_response(429, {}, body)
    assert result.error_class is ErrorClass.RATE_LIMIT
    assert result.retry_after == 35.0
    assert "Too Many Requests" in result.message


def test_discord_retry_after_in_the_json_body_is_read() -> None:
    body = json.dumps(
        {"message": "You are being rate limited.", "retry_after": 1.5, "global": False}
    )
    result = classify_response(429, {}, body)
    assert (result.error_class, result.retry_after) == (ErrorClass.RATE_LIMIT, 1.5)


def test_a_nonsense_body_retry_after_is_ignored() -> None:
    body = json.dumps({"ok": False, "error_code": 429, "parameters": {"retry_after": "soon"}})
    assert classify_response(429, {}, body).retry_after is None
