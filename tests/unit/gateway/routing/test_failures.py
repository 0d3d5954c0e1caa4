"""Failure classification: every rule against bodies shaped like the providers' real ones, the
evaluation order, exceptions, the action table, the loader, and a never-raises property."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.routing.failures import (
    Action,
    FailureClass,
    FailureRulesError,
    action_for,
    classify,
    default_table,
    load_table,
    parse_table,
)
from gateway.routing.failures.table import default_table_path, split_alternatives
from gateway.routing.retry_after import MATCH_CHARS

NOW = 1000.0
WALL = 1_800_000_000.0
C = FailureClass


def js(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def openai_error(message: str, type_: str, code: str | None = None) -> bytes:
    return js({"error": {"message": message, "type": type_, "param": None, "code": code}})


def anthropic_error(type_: str, message: str) -> bytes:
    return js({"type": "error", "error": {"type": type_, "message": message}, "request_id": "r1"})


def google_error(code: int, status: str, message: str, details: list[Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return js({"error": error})


def quota_failure(*quota_ids: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/"
                "generate_content_free_tier_requests",
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": "gemini-2.5-pro"},
            }
            for quota_id in quota_ids
        ],
    }


RETRY_39S = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "39s"}
GEMINI_QUOTA_TEXT = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)

# (case id, status, body, expected class)
CASES: list[tuple[str, int | None, bytes, FailureClass]] = [
    # --- OpenAI
    (
        "openai-insufficient-quota-429",
        429,
        openai_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        C.CREDITS_EXHAUSTED,
    ),
    (
        "openai-billing-hard-limit",
        400,
        openai_error(
            "Billing hard limit has been reached",
            "invalid_request_error",
            "billing_hard_limit_reached",
        ),
        C.CREDITS_EXHAUSTED,
    ),
    (
        "openai-rate-limit-tpm",
        429,
        openai_error(
            "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): "
            "Limit 30000, Used 29937, Requested 385. Please try again in 644ms. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "tokens",
            "rate_limit_exceeded",
        ),
        C.RATE_LIMITED,
    ),
    (
        "openai-request-too-large-tpm",
        429,
        openai_error(
            "Request too large for gpt-4o in organization org-abc on tokens per min (TPM): "
            "Limit 30000, Requested 31538. The input or output tokens must be reduced in order "
            "to run successfully.",
            "tokens",
            "rate_limit_exceeded",
        ),
        C.RATE_LIMITED,
    ),
    (
        "openai-context-length",
        400,
        openai_error(
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 173172 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "openai-model-not-found",
        404,
        openai_error(
            "The model `gpt-9-turbo` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        C.MODEL_NOT_FOUND,
    ),
    (
        "openai-invalid-key",
        401,
        openai_error(
            "Incorrect API key provided: sk-proj-****wxyz. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        C.AUTH_EXPIRED,
    ),
    (
        "openai-server-error",
        500,
        openai_error(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
        ),
        C.SERVER_ERROR,
    ),
    (
        "openai-bad-param",
        400,
        openai_error(
            "Invalid type for 'messages[0].content': expected a string, but got an object.",
            "invalid_request_error",
            "invalid_type",
        ),
        C.MALFORMED_REQUEST,
    ),
    # --- Anthropic
    (
        "anthropic-credit-balance-400",
        400,
        anthropic_error(
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
            "Billing to upgrade or purchase credits.",
        ),
        C.CREDITS_EXHAUSTED,
    ),
    (
        "anthropic-prompt-too-long",
        400,
        anthropic_error(
            "invalid_request_error", "prompt is too long: 208656 tokens > 200000 maximum"
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "anthropic-input-plus-max-tokens",
        400,
        anthropic_error(
            "invalid_request_error",
            "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, "
            "decrease input length or `max_tokens` and try again",
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "anthropic-org-rate-limit",
        429,
        anthropic_error(
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 20,000 input "
            "tokens per minute. For details, refer to: https://docs.anthropic.com/en/api/"
            "rate-limits. Please reduce the prompt length or the maximum tokens requested, or "
            "try again later.",
        ),
        C.RATE_LIMITED,
    ),
    (
        "anthropic-account-rate-limit",
        429,
        anthropic_error(
            "rate_limit_error",
            "This request would exceed your account's rate limit. Please try again later.",
        ),
        C.RATE_LIMITED,
    ),
    (
        "anthropic-overloaded-529",
        529,
        anthropic_error("overloaded_error", "Overloaded"),
        C.SERVER_ERROR,
    ),
    (
        "anthropic-overloaded-in-200-stream",
        200,
        b"event: message_start\ndata: {}\n\nevent: error\ndata: "
        + anthropic_error("overloaded_error", "Overloaded")
        + b"\n\n",
        C.SERVER_ERROR,
    ),
    (
        "anthropic-api-error-500",
        500,
        anthropic_error("api_error", "Internal server error"),
        C.SERVER_ERROR,
    ),
    (
        "anthropic-invalid-key",
        401,
        anthropic_error("authentication_error", "invalid x-api-key"),
        C.AUTH_EXPIRED,
    ),
    (
        "anthropic-oauth-expired",
        401,
        anthropic_error(
            "authentication_error",
            "OAuth token has expired. Please obtain a new token or refresh your existing token.",
        ),
        C.AUTH_EXPIRED,
    ),
    (
        "anthropic-unknown-model",
        404,
        anthropic_error("not_found_error", "model: claude-opus-9-0"),
        C.MODEL_NOT_FOUND,
    ),
    (
        "anthropic-roles-alternate",
        400,
        anthropic_error(
            "invalid_request_error",
            'messages: roles must alternate between "user" and "assistant", but found '
            'multiple "user" roles in a row',
        ),
        C.MALFORMED_REQUEST,
    ),
    (
        "anthropic-orphan-tool-result",
        400,
        anthropic_error(
            "invalid_request_error",
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
            "toolu_01Ab. Each `tool_result` block must have a corresponding `tool_use` block "
            "in the previous message.",
        ),
        C.MALFORMED_REQUEST,
    ),
    (
        "anthropic-tool-use-without-result",
        400,
        anthropic_error(
            "invalid_request_error",
            "messages.3: `tool_use` ids were found without `tool_result` blocks immediately "
            "after: toolu_02Cd.",
        ),
        C.MALFORMED_REQUEST,
    ),
    (
        "claude-subscription-usage-limit",
        429,
        anthropic_error("rate_limit_error", "Claude AI usage limit reached|1800003600"),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "claude-subscription-5h-window",
        429,
        anthropic_error(
            "rate_limit_error",
            "You've reached your usage limit for this 5-hour window. Your limit will reset soon.",
        ),
        C.QUOTA_EXHAUSTED,
    ),
    # --- Gemini API
    (
        "gemini-per-minute",
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            GEMINI_QUOTA_TEXT,
            [quota_failure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"), RETRY_39S],
        ),
        C.RATE_LIMITED,
    ),
    (
        "gemini-per-day",
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            GEMINI_QUOTA_TEXT,
            [quota_failure("GenerateRequestsPerDayPerProjectPerModel-FreeTier"), RETRY_39S],
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "gemini-no-free-tier-limit-0",
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            GEMINI_QUOTA_TEXT + "\n* Quota exceeded for metric: generativelanguage.googleapis.com/"
            "generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro\n"
            "Please retry in 20.04466179s.",
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "gemini-resource-exhausted-bare",
        429,
        google_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        C.RATE_LIMITED,
    ),
    (
        "gemini-input-token-count",
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "The input token count (3475108) exceeds the maximum number of tokens allowed "
            "(1048576).",
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "gemini-api-key-invalid-400",
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        ),
        C.AUTH_EXPIRED,
    ),
    (
        "gemini-unknown-model",
        404,
        google_error(
            404,
            "NOT_FOUND",
            "models/gemini-9-pro is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their "
            "supported methods.",
        ),
        C.MODEL_NOT_FOUND,
    ),
    (
        "gemini-bad-json",
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received. Unknown name \"temperatur\" at 'generation_config': "
            "Cannot find field.",
        ),
        C.MALFORMED_REQUEST,
    ),
    (
        "gemini-permission-denied",
        403,
        google_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."),
        C.AUTH_EXPIRED,
    ),
    (
        "gemini-overloaded-503",
        503,
        google_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        C.SERVER_ERROR,
    ),
    (
        "gemini-internal-500",
        500,
        google_error(500, "INTERNAL", "An internal error has occurred."),
        C.SERVER_ERROR,
    ),
    # --- Gemini CLI (Code Assist)
    (
        "gemini-cli-capacity-quota",
        429,
        js(
            [
                {
                    "error": {
                        "code": 429,
                        "message": "You have exhausted your capacity on this model. Your quota "
                        "will reset after 8h44m7s.",
                        "status": "RESOURCE_EXHAUSTED",
                    }
                }
            ]
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "gemini-cli-quota-exhausted-info",
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "QUOTA_EXHAUSTED",
                    "domain": "cloudcode-pa.googleapis.com",
                    "metadata": {"quotaResetDelay": "3h9m46s"},
                }
            ],
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "gemini-cli-no-capacity",
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "No capacity available for model gemini-3-flash-preview on the server",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "MODEL_CAPACITY_EXHAUSTED",
                }
            ],
        ),
        C.SERVER_ERROR,
    ),
    (
        "gemini-cli-daily-quota",
        429,
        google_error(
            429, "RESOURCE_EXHAUSTED", "You have exhausted your daily quota on this model."
        ),
        C.QUOTA_EXHAUSTED,
    ),
    # --- Codex (ChatGPT backend)
    (
        "codex-usage-limit-reached",
        429,
        js(
            {
                "error": {
                    "type": "usage_limit_reached",
                    "message": "The usage limit has been reached",
                    "plan_type": "plus",
                    "resets_at": 1_800_013_872,
                    "resets_in_seconds": 13872,
                }
            }
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "codex-hit-your-usage-limit",
        429,
        js(
            {
                "detail": "You've hit your usage limit. Upgrade to Pro "
                "(https://openai.com/chatgpt/pricing) or try again in 2 days 17 hours 14 minutes."
            }
        ),
        C.QUOTA_EXHAUSTED,
    ),
    # --- DeepSeek, OpenRouter, Groq, Copilot
    (
        "deepseek-insufficient-balance",
        402,
        openai_error("Insufficient Balance", "unknown_error", "invalid_request_error"),
        C.CREDITS_EXHAUSTED,
    ),
    (
        "openrouter-insufficient-credits",
        402,
        js(
            {
                "error": {
                    "message": "Insufficient credits. Add more using "
                    "https://openrouter.ai/settings/credits",
                    "code": 402,
                }
            }
        ),
        C.CREDITS_EXHAUSTED,
    ),
    (
        "openrouter-cannot-afford",
        402,
        js(
            {
                "error": {
                    "message": "This request requires more credits, or fewer max_tokens. You "
                    "requested up to 32000 tokens, but can only afford 2666. To increase, visit "
                    "https://openrouter.ai/settings/credits and upgrade to a paid account",
                    "code": 402,
                    "metadata": {"provider_name": None},
                }
            }
        ),
        C.CREDITS_EXHAUSTED,
    ),
    (
        "openrouter-free-models-per-day",
        429,
        js(
            {
                "error": {
                    "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to "
                    "unlock 1000 free model requests per day",
                    "code": 429,
                    "metadata": {"headers": {"X-RateLimit-Reset": "1800050000000"}},
                }
            }
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "openrouter-invalid-model",
        400,
        js({"error": {"message": "acme/nothing-1 is not a valid model ID", "code": 400}}),
        C.MODEL_NOT_FOUND,
    ),
    (
        "groq-tokens-per-day",
        429,
        openai_error(
            "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01` "
            "service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 99000, "
            "Requested 2000. Please try again in 14m24.5s.",
            "tokens",
            "rate_limit_exceeded",
        ),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "copilot-no-quota-402",
        402,
        js({"error": {"message": "You have no quota", "code": "quota_exceeded"}}),
        C.QUOTA_EXHAUSTED,
    ),
    (
        "copilot-model-not-supported",
        400,
        js(
            {
                "error": {
                    "message": "The requested model is not supported.",
                    "code": "model_not_supported",
                }
            }
        ),
        C.MODEL_NOT_FOUND,
    ),
    # --- Local servers, other OpenAI-compatible upstreams
    (
        "llamacpp-context-as-500",
        500,
        js(
            {
                "error": {
                    "code": 500,
                    "message": "the request exceeds the available context size. try increasing "
                    "the context size or enable context shift",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 1407,
                    "n_ctx": 256,
                }
            }
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "vllm-context",
        400,
        js(
            {
                "object": "error",
                "message": "This model's maximum context length is 131072 tokens. However, you "
                "requested 156632 tokens (152536 in the messages, 4096 in the completion). "
                "Please reduce the length of the messages or completion.",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "ollama-model-not-found",
        404,
        js({"error": 'model "llama9" not found, try pulling it first'}),
        C.MODEL_NOT_FOUND,
    ),
    (
        "mistral-context",
        400,
        js(
            {
                "object": "error",
                "message": "Prompt contains 40000 tokens and 0 draft tokens, too large for model "
                "with 32768 maximum context length",
                "type": "invalid_request_message_error",
            }
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "xai-prompt-length",
        400,
        js(
            {
                "code": "Client specified an invalid argument",
                "error": "This model's maximum prompt length is 131072 but the request contains "
                "150000 tokens.",
            }
        ),
        C.CONTEXT_TOO_LONG,
    ),
    (
        "kiro-improperly-formed",
        400,
        js({"message": "Improperly formed request.", "reason": None}),
        C.MALFORMED_REQUEST,
    ),
    (
        "bedrock-throttling",
        400,
        js(
            {
                "message": "Too many tokens, please wait before trying again.",
                "__type": "ThrottlingException",
            }
        ),
        C.RATE_LIMITED,
    ),
    # --- Status only
    (
        "cloudflare-502-html",
        502,
        b"<html><head><title>502 Bad Gateway</title></head></html>",
        C.SERVER_ERROR,
    ),
    (
        "plain-503",
        503,
        b"upstream connect error or disconnect/reset before headers",
        C.SERVER_ERROR,
    ),
    ("gateway-timeout-504", 504, b"", C.TIMEOUT),
    ("cloudflare-524", 524, b"error code: 524", C.TIMEOUT),
    ("request-timeout-408", 408, b"", C.TIMEOUT),
    ("payload-too-large-413", 413, b"Request Entity Too Large", C.CONTEXT_TOO_LONG),
    (
        "unprocessable-422",
        422,
        js({"detail": [{"loc": ["body"], "msg": "field required"}]}),
        C.MALFORMED_REQUEST,
    ),
    ("plain-429", 429, b"", C.RATE_LIMITED),
    ("plain-402", 402, b"", C.CREDITS_EXHAUSTED),
    ("plain-404", 404, b"404 page not found", C.MODEL_NOT_FOUND),
    ("empty-200", 200, b"", C.EMPTY_RESPONSE),
    ("empty-json-200", 200, b"{}", C.EMPTY_RESPONSE),
    (
        "no-choices-200",
        200,
        js({"id": "x", "object": "chat.completion", "choices": []}),
        C.EMPTY_RESPONSE,
    ),
    ("conflict-409", 409, b"conflict", C.OTHER),
    ("teapot-418", 418, b"", C.OTHER),
    ("redirect-302", 302, b"", C.OTHER),
    ("no-status-no-exception", None, b"", C.OTHER),
]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_matches_real_shaped_body(
    status: int | None, body: bytes, expected: FailureClass
) -> None:
    failure = classify(status, body, {}, now=NOW, wall_now=WALL)
    assert failure.cls is expected
    assert failure.status == status


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_class_but_exceptions_is_reached_by_a_case() -> None:
    reached = {case[3] for case in CASES}
    assert reached == set(FailureClass) - {C.CONNECTION}


# --- Ordering ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected", "status_alone"),
    [
        (
            429,
            openai_error("quota", "insufficient_quota", "insufficient_quota"),
            C.CREDITS_EXHAUSTED,
            C.RATE_LIMITED,
        ),
        (
            400,
            anthropic_error("invalid_request_error", "Your credit balance is too low"),
            C.CREDITS_EXHAUSTED,
            C.MALFORMED_REQUEST,
        ),
        (
            500,
            js({"error": {"type": "exceed_context_size_error"}}),
            C.CONTEXT_TOO_LONG,
            C.SERVER_ERROR,
        ),
        (
            400,
            js({"error": {"status": "INVALID_ARGUMENT", "reason": "API_KEY_INVALID"}}),
            C.AUTH_EXPIRED,
            C.MALFORMED_REQUEST,
        ),
        (
            200,
            b"data: " + anthropic_error("overloaded_error", "Overloaded"),
            C.SERVER_ERROR,
            C.EMPTY_RESPONSE,
        ),
        (402, js({"error": {"code": "quota_exceeded"}}), C.QUOTA_EXHAUSTED, C.CREDITS_EXHAUSTED),
    ],
)
def test_body_text_beats_status(
    status: int, body: bytes, expected: FailureClass, status_alone: FailureClass
) -> None:
    assert classify(status, body, {}, now=NOW, wall_now=WALL).cls is expected
    assert classify(status, b"", {}, now=NOW, wall_now=WALL).cls is status_alone


def test_first_pattern_rule_in_file_order_wins() -> None:
    # "insufficient_quota" bodies also say "exceeded your current quota" (a rate-limit phrase).
    body = openai_error(
        "You exceeded your current quota", "insufficient_quota", "insufficient_quota"
    )
    assert classify(429, body, {}, now=NOW).cls is C.CREDITS_EXHAUSTED
    assert (
        classify(
            429, js({"error": {"message": "You exceeded your current quota"}}), {}, now=NOW
        ).cls
        is C.RATE_LIMITED
    )


def _actions() -> dict[str, Any]:
    with default_table_path().open("rb") as handle:
        return dict(tomllib.load(handle)["actions"])


def test_status_only_rules_run_after_all_pattern_rules_whatever_the_file_order() -> None:
    table = parse_table(
        {
            "rules": [
                {"class": "malformed_request", "status": [400]},
                {"class": "auth_expired", "pattern": "bad key"},
                {"class": "model_not_found", "pattern": "bad"},
            ],
            "actions": _actions(),
        }
    )
    assert table.match(400, "a bad key") is C.AUTH_EXPIRED  # file order among patterns
    assert table.match(400, "bad input") is C.MODEL_NOT_FOUND  # a later pattern still beats status
    assert table.match(400, "nothing") is C.MALFORMED_REQUEST
    assert table.match(401, "nothing") is C.OTHER
    assert table.match(None, "nothing") is C.OTHER
    assert [r.cls for r in table.rules] == [C.AUTH_EXPIRED, C.MODEL_NOT_FOUND, C.MALFORMED_REQUEST]


def test_pattern_with_status_needs_both() -> None:
    table = parse_table(
        {
            "rules": [
                {"class": "quota_exhausted", "pattern": "limit", "status": [429]},
                {"class": "server_error", "status": [500]},
            ],
            "actions": _actions(),
        }
    )
    assert table.match(429, "limit hit") is C.QUOTA_EXHAUSTED
    assert table.match(500, "limit hit") is C.SERVER_ERROR
    assert table.match(None, "limit hit") is C.OTHER


def test_first_status_rule_naming_a_status_wins() -> None:
    table = parse_table(
        {
            "rules": [
                {"class": "timeout", "status": [504]},
                {"class": "server_error", "status": [500, 504]},
            ],
            "actions": _actions(),
        }
    )
    assert table.match(504, "") is C.TIMEOUT
    assert table.match(500, "") is C.SERVER_ERROR


def test_patterns_are_case_insensitive() -> None:
    assert classify(400, b"PROMPT IS TOO LONG", {}, now=NOW).cls is C.CONTEXT_TOO_LONG
    assert classify(429, b"Resource_Exhausted", {}, now=NOW).cls is C.RATE_LIMITED


def test_limit_zero_does_not_match_fractions() -> None:
    assert classify(429, b"limit: 0.5 per second", {}, now=NOW).cls is C.RATE_LIMITED
    assert classify(429, b"limit: 0, model: x", {}, now=NOW).cls is C.QUOTA_EXHAUSTED


# --- Exceptions ---------------------------------------------------------------------------


def _connector_error() -> BaseException:
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "Connection refused"))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), C.TIMEOUT),
        (TimeoutError("read"), C.TIMEOUT),
        (aiohttp.ServerTimeoutError("Timeout on reading data from socket"), C.TIMEOUT),
        (aiohttp.ConnectionTimeoutError(), C.TIMEOUT),
        (aiohttp.SocketTimeoutError(), C.TIMEOUT),
        (_connector_error(), C.CONNECTION),
        (aiohttp.ServerDisconnectedError(), C.CONNECTION),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), C.CONNECTION),
        (aiohttp.ClientPayloadError("Response payload is not completed"), C.CONNECTION),
        (ConnectionResetError(), C.CONNECTION),
        (OSError("network is unreachable"), C.CONNECTION),
        (ValueError("boom"), C.OTHER),
        (aiohttp.InvalidURL("x"), C.OTHER),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_exception_without_status(exc: BaseException, expected: FailureClass) -> None:
    failure = classify(None, b"", {}, exception=exc, now=NOW)
    assert failure.cls is expected
    assert failure.status is None
    assert failure.retry_at is None
    assert failure.message.startswith(type(exc).__name__)


def test_exception_after_2xx_headers_is_classified_by_exception() -> None:
    failure = classify(200, b"", {}, exception=TimeoutError(), now=NOW)
    assert (failure.cls, failure.status) == (C.TIMEOUT, 200)


def test_error_status_wins_over_exception() -> None:
    failure = classify(
        429, b"", {"retry-after": "3"}, exception=aiohttp.ClientPayloadError(), now=NOW
    )
    assert (failure.cls, failure.retry_at) == (C.RATE_LIMITED, NOW + 3)


# --- Failure fields -----------------------------------------------------------------------


def test_retry_at_comes_from_headers_and_body() -> None:
    body = google_error(429, "RESOURCE_EXHAUSTED", GEMINI_QUOTA_TEXT, [RETRY_39S])
    assert classify(429, body, {}, now=NOW, wall_now=WALL).retry_at == NOW + 39
    codex = CASES[[c[0] for c in CASES].index("codex-usage-limit-reached")][2]
    assert classify(429, codex, {}, now=NOW, wall_now=WALL).retry_at == NOW + 13872
    assert classify(429, b"", {"Retry-After": "7"}, now=NOW).retry_at == NOW + 7
    assert classify(429, b"", {}, now=NOW).retry_at is None


def test_wall_now_defaults_to_the_system_clock() -> None:
    failure = classify(429, b"", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=NOW)
    assert failure.retry_at == NOW  # a date in the past: retry now


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, anthropic_error("invalid_request_error", "prompt is too long"), "prompt is too long"),
        (404, js({"error": 'model "x" not found'}), 'model "x" not found'),
        (400, js({"object": "error", "message": "too\n   long"}), "too long"),
        (422, js({"detail": "field required"}), "field required"),
        (
            400,
            js({"error_description": "refresh token revoked", "error": {}}),
            "refresh token revoked",
        ),
        (429, js([{"error": {"message": "capacity"}}]), "capacity"),
        (502, b"<html>\n  Bad   Gateway\n</html>", "<html> Bad Gateway </html>"),
        (502, b"", "HTTP 502 with an empty body"),
        (None, b"", "empty body"),
        (200, b"data: " + anthropic_error("overloaded_error", "Overloaded"), "Overloaded"),
        (500, js({"error": {"message": "   "}, "message": "fallback"}), "fallback"),
    ],
)
def test_message_extraction(status: int | None, body: bytes, message: str) -> None:
    assert classify(status, body, {}, now=NOW).message == message


def test_message_is_clipped() -> None:
    failure = classify(500, b"x" * 10_000, {}, now=NOW)
    assert len(failure.message) == 300
    assert failure.message.endswith("…")


def test_exception_message_names_the_type() -> None:
    assert classify(None, b"", {}, exception=TimeoutError(), now=NOW).message == "TimeoutError"
    failure = classify(None, b"", {}, exception=OSError("refused"), now=NOW)
    assert failure.message == "OSError: refused"


def test_failure_is_frozen() -> None:
    failure = classify(500, b"", {}, now=NOW)
    with pytest.raises(AttributeError):
        failure.cls = C.OTHER  # type: ignore[misc]


# --- Actions ------------------------------------------------------------------------------


def test_every_class_has_an_action() -> None:
    for cls in FailureClass:
        assert isinstance(action_for(cls), Action)


def test_action_defaults_follow_the_issue() -> None:
    malformed = action_for(C.MALFORMED_REQUEST)
    assert (malformed.next_account, malformed.next_target, malformed.cooldown) == (
        False,
        True,
        "none",
    )
    context = action_for(C.CONTEXT_TOO_LONG)
    assert (context.next_account, context.needs_larger_context, context.next_target) == (
        False,
        True,
        True,
    )
    assert action_for(C.RATE_LIMITED).counts_for_breaker is False
    assert action_for(C.RATE_LIMITED).cooldown == "backoff"
    for cls in (C.SERVER_ERROR, C.TIMEOUT, C.CONNECTION, C.EMPTY_RESPONSE):
        assert action_for(cls).counts_for_breaker is True, cls
        assert action_for(cls).cooldown == "backoff"
    for cls in (C.CREDITS_EXHAUSTED, C.QUOTA_EXHAUSTED):
        assert action_for(cls).cooldown == "until_reset"
        assert action_for(cls).next_account is True
    auth = action_for(C.AUTH_EXPIRED)
    assert (auth.refresh_auth, auth.next_account) == (True, True)
    assert [cls for cls in FailureClass if action_for(cls).refresh_auth] == [C.AUTH_EXPIRED]
    assert [cls for cls in FailureClass if action_for(cls).needs_larger_context] == [
        C.CONTEXT_TOO_LONG
    ]
    assert all(action_for(cls).next_target for cls in FailureClass)


def test_statuses_counted_by_breakers() -> None:
    counted = {
        status
        for status in range(100, 600)
        if action_for(classify(status, b"", {}, now=NOW).cls).counts_for_breaker
    }
    assert 408 in counted and 429 not in counted
    assert set(range(500, 600)) - counted == {
        s for s in range(500, 600) if classify(s, b"", {}, now=NOW).cls is C.OTHER
    }
    assert {500, 502, 503, 504, 529} <= counted
    assert all(s >= 500 or s in (408, 200, 201, 202, 203, 204, 206) for s in counted)


# --- Loader -------------------------------------------------------------------------------


def test_default_table_is_cached_and_complete() -> None:
    table = default_table()
    assert table is default_table()
    assert len(table.rules) >= 10
    assert {rule.cls for rule in table.rules} >= set(FailureClass) - {C.CONNECTION, C.OTHER}


def test_resources_env_points_at_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(default_table_path(), tmp_path / "failure_rules.toml")
    monkeypatch.setenv("SWITCHBOARD_RESOURCES", str(tmp_path))
    assert default_table_path() == tmp_path / "failure_rules.toml"
    assert len(load_table().rules) == len(default_table().rules)
    assert len(load_table(tmp_path).rules) == len(default_table().rules)


def _valid() -> dict[str, Any]:
    return {"rules": [{"class": "rate_limited", "status": [429]}], "actions": _actions()}


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (
            lambda d: d["rules"][0].update({"colour": "red"}),
            "rules[0]: field 'colour': unknown key",
        ),
        (lambda d: d["rules"][0].update({"class": "sad"}), "rules[0]: field 'class'"),
        (
            lambda d: d["rules"][0].update({"pattern": "(unclosed"}),
            "not a valid regular expression",
        ),
        (lambda d: d["rules"][0].update({"pattern": ""}), "rules[0]: field 'pattern'"),
        (lambda d: d["rules"][0].pop("status"), "needs a 'pattern', a 'status' list, or both"),
        (lambda d: d["rules"][0].update({"status": [99]}), "99 is not an HTTP status"),
        (lambda d: d["rules"][0].update({"status": [True]}), "rules[0]: field 'status.0'"),
        (lambda d: d["rules"][0].update({"status": ["429"]}), "rules[0]: field 'status.0'"),
        (lambda d: d["rules"][0].update({"status": []}), "rules[0]: field 'status'"),
        (lambda d: d["actions"].pop("timeout"), "no [actions.<class>] table for ['timeout']"),
        (
            lambda d: d["actions"].update({"sad": d["actions"]["other"]}),
            "actions.sad: unknown failure class",
        ),
        (
            lambda d: d["actions"]["other"].update({"cooldown": "forever"}),
            "actions.other: field 'cooldown'",
        ),
        (
            lambda d: d["actions"]["other"].update({"next_account": "yes"}),
            "actions.other: field 'next_account'",
        ),
        (
            lambda d: d["actions"]["other"].pop("refresh_auth"),
            "actions.other: field 'refresh_auth'",
        ),
        (lambda d: d.update({"extra": 1}), "unknown top-level key(s) ['extra']"),
        (lambda d: d.update({"rules": []}), "no [[rules]] tables"),
        (lambda d: d.pop("actions"), "no [actions.<class>] tables"),
    ],
)
def test_invalid_tables_are_rejected_with_a_useful_message(mutate: Any, fragment: str) -> None:
    data = json.loads(json.dumps(_valid()))
    mutate(data)
    with pytest.raises(FailureRulesError) as info:
        parse_table(data, source="test.toml")
    assert fragment in str(info.value)
    assert str(info.value).startswith("test.toml: ")


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(FailureRulesError, match="failure rules not found"):
        load_table(tmp_path / "nope.toml")
    broken = tmp_path / "failure_rules.toml"
    broken.write_text("[[rules]\n", encoding="utf-8")
    with pytest.raises(FailureRulesError, match="not valid TOML"):
        load_table(tmp_path)


def test_custom_table_is_used_by_classify() -> None:
    table = parse_table(
        {"rules": [{"class": "quota_exhausted", "pattern": "out of juice"}], "actions": _actions()}
    )
    assert classify(400, b"out of juice", {}, now=NOW, table=table).cls is C.QUOTA_EXHAUSTED
    assert classify(400, b"", {}, now=NOW, table=table).cls is C.OTHER


# --- Never raises -------------------------------------------------------------------------

_header_names = st.sampled_from(
    [
        "retry-after",
        "Retry-After-Ms",
        "x-ratelimit-reset-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset",
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-unified-reset",
        "anthropic-ratelimit-unified-status",
    ]
) | st.text(max_size=30)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["39s", "type.googleapis.com/google.rpc.RetryInfo", "1h2m", "-1s"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "details",
                    "@type",
                    "retryDelay",
                    "resets_at",
                    "resets_in_seconds",
                    "metadata",
                    "quotaResetDelay",
                    "quotaResetTimeStamp",
                    "message",
                    "seconds",
                    "nanos",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    status=st.none() | st.integers(min_value=-10, max_value=1000),
    body=st.binary(max_size=2000),
    headers=st.dictionaries(_header_names, st.text(max_size=40), max_size=6),
    now=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    wall_now=st.floats(allow_nan=True, allow_infinity=True),
)
def test_classify_never_raises_on_arbitrary_input(
    status: int | None, body: bytes, headers: dict[str, str], now: float, wall_now: float
) -> None:
    failure = classify(status, body, headers, now=now, wall_now=wall_now)
    assert isinstance(failure.cls, FailureClass)
    assert len(failure.message) <= 300
    assert failure.retry_at is None or failure.retry_at >= now


@settings(max_examples=300, deadline=None)
@given(doc=_json, status=st.sampled_from([200, 400, 429, 500, 503]))
def test_classify_never_raises_on_arbitrary_json(doc: Any, status: int) -> None:
    body = json.dumps(doc, allow_nan=True).encode()
    failure = classify(status, body, {}, now=NOW, wall_now=WALL)
    assert isinstance(failure.cls, FailureClass)


# --- Pattern handling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "branches"),
    [
        ("a|b|c", ["a", "b", "c"]),
        ("(?:a|b) x|c", ["(?:a|b) x", "c"]),
        ("[|]|x", ["[|]", "x"]),
        (r"a\|b|c", [r"a\|b", "c"]),
        ("[]|]|y", ["[]|]", "y"]),
        ("[^]|]|y", ["[^]|]", "y"]),
        (r"[\]|]|z", [r"[\]|]", "z"]),
        ("single", ["single"]),
    ],
)
def test_split_alternatives(pattern: str, branches: list[str]) -> None:
    assert split_alternatives(pattern) == branches


def test_split_rules_match_like_the_whole_pattern() -> None:
    for rule in default_table().rules:
        if rule.pattern is None:
            continue
        assert len(rule.alternatives) >= 1
        for case_id, _status, body, _cls in CASES:
            lowered = body.decode().lower()
            whole = rule.pattern.search(lowered) is not None
            assert rule.matches(lowered) is whole, (case_id, rule.cls)


def test_backreference_patterns_are_kept_whole() -> None:
    table = parse_table(
        {"rules": [{"class": "other", "pattern": r"(a)x|\1y"}], "actions": _actions()}
    )
    (rule,) = table.rules
    assert [p.pattern for p in rule.alternatives] == [r"(a)x|\1y"]


def test_global_flag_patterns_are_kept_whole() -> None:
    table = parse_table(
        {"rules": [{"class": "other", "pattern": "(?x) a b | c"}], "actions": _actions()}
    )
    (rule,) = table.rules
    assert [p.pattern for p in rule.alternatives] == ["(?x) a b | c"]
    assert rule.matches("xaby") and rule.matches("c") and not rule.matches("a b")


def test_uppercase_patterns_are_rejected_but_escapes_are_fine() -> None:
    with pytest.raises(FailureRulesError, match=r"write patterns in lowercase.*'R' at 0"):
        parse_table({"rules": [{"class": "other", "pattern": "RESOURCE"}], "actions": _actions()})
    table = parse_table(
        {"rules": [{"class": "other", "pattern": r"a\Wb\d"}], "actions": _actions()}
    )
    assert table.match(None, "a-b1") is C.OTHER
    assert table.rules[0].matches("a-b1")


def test_only_the_head_of_a_huge_body_is_scanned() -> None:
    head = b"<html>" + b"x" * (MATCH_CHARS + 10)
    assert classify(500, head + b"prompt is too long", {}, now=NOW).cls is C.SERVER_ERROR
    assert classify(500, b"prompt is too long" + head, {}, now=NOW).cls is C.CONTEXT_TOO_LONG
