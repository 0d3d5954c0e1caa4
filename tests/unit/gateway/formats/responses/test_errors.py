"""Errors: upstream error bodies → hub.Error, hub.Error → OpenAI's error body and status."""

from __future__ import annotations

import openai
import orjson
import pytest

from gateway.formats import hub
from gateway.formats.responses import CODEC
from tests.unit.gateway.formats.responses.support import sdk_client


def _body(message: str, err_type: str | None, code: str | None) -> bytes:
    return orjson.dumps(
        {"error": {"message": message, "type": err_type, "param": None, "code": code}}
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            _body(
                "Incorrect API key provided: sk-****.", "invalid_request_error", "invalid_api_key"
            ),
            {
                "status": 401,
                "kind": "authentication",
                "message": "Incorrect API key provided: sk-****.",
                "code": "invalid_api_key",
            },
        ),
        (
            429,
            _body("Rate limit reached for gpt-5 ...", "requests", "rate_limit_exceeded"),
            {
                "status": 429,
                "kind": "rate_limit",
                "message": "Rate limit reached for gpt-5 ...",
                "code": "rate_limit_exceeded",
            },
        ),
        (
            429,
            _body("You exceeded your current quota.", "insufficient_quota", None),
            {
                "status": 429,
                "kind": "rate_limit",
                "message": "You exceeded your current quota.",
                "code": "insufficient_quota",
            },
        ),
        (
            400,
            _body(
                "Your input exceeds the context window.",
                "invalid_request_error",
                "context_length_exceeded",
            ),
            {
                "status": 400,
                "kind": "invalid_request",
                "message": "Your input exceeds the context window.",
                "code": "context_length_exceeded",
            },
        ),
        (
            403,
            _body(
                "Country, region, or territory not supported",
                "request_forbidden",
                "unsupported_country_region_territory",
            ),
            {
                "status": 403,
                "kind": "permission",
                "message": "Country, region, or territory not supported",
                "code": "unsupported_country_region_territory",
            },
        ),
        (
            404,
            _body("The model `x` does not exist.", "invalid_request_error", "model_not_found"),
            {
                "status": 404,
                "kind": "not_found",
                "message": "The model `x` does not exist.",
                "code": "model_not_found",
            },
        ),
        (
            503,
            _body("The server is overloaded or not ready yet.", "server_error", None),
            {
                "status": 503,
                "kind": "unavailable",
                "message": "The server is overloaded or not ready yet.",
            },
        ),
        (
            500,
            b"",
            {
                "status": 500,
                "kind": "server",
                "message": "The upstream answered HTTP 500 with an empty body.",
            },
        ),
        (
            502,
            b"<html><body>Bad Gateway</body></html>",
            {
                "status": 502,
                "kind": "unavailable",
                "message": "<html><body>Bad Gateway</body></html>",
            },
        ),
        (
            400,
            b'{"error": "model is required"}',
            {"status": 400, "kind": "invalid_request", "message": "model is required"},
        ),
        (
            422,
            b'{"detail": "input: field required"}',
            {"status": 422, "kind": "invalid_request", "message": "input: field required"},
        ),
        (
            504,
            b'{"message": "upstream timed out", "code": "timeout"}',
            {"status": 504, "kind": "timeout", "message": "upstream timed out", "code": "timeout"},
        ),
        (418, b"[1,2]", {"status": 418, "kind": "invalid_request", "message": "[1,2]"}),
        (520, b"\xff\xfe", {"status": 520, "kind": "server", "message": "\ufffd\ufffd"}),
    ],
)
def test_error_to_hub(status: int, body: bytes, expected: hub.Error) -> None:
    assert CODEC.error_to_hub(status, body) == expected


def test_long_raw_bodies_are_cut() -> None:
    error = CODEC.error_to_hub(500, b"x" * 5000)
    assert len(error["message"]) == 500


@pytest.mark.parametrize(
    ("kind", "status", "err_type", "code"),
    [
        ("invalid_request", 400, "invalid_request_error", None),
        ("authentication", 401, "invalid_request_error", "invalid_api_key"),
        ("permission", 403, "request_forbidden", None),
        ("not_found", 404, "invalid_request_error", None),
        ("request_too_large", 413, "invalid_request_error", None),
        ("rate_limit", 429, "requests", None),
        ("server", 500, "server_error", None),
        ("unavailable", 503, "server_error", None),
        ("timeout", 504, "server_error", None),
    ],
)
def test_error_from_hub(kind: hub.ErrorKind, status: int, err_type: str, code: str | None) -> None:
    got_status, body = CODEC.error_from_hub({"status": status, "kind": kind, "message": "Nope."})
    assert got_status == status
    assert orjson.loads(body) == {
        "error": {"message": "Nope.", "type": err_type, "param": None, "code": code}
    }


def test_error_from_hub_keeps_codes_and_quota_type() -> None:
    status, body = CODEC.error_from_hub(
        {"status": 429, "kind": "rate_limit", "message": "Quota.", "code": "insufficient_quota"}
    )
    assert status == 429
    assert orjson.loads(body)["error"] == {
        "message": "Quota.",
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }


def test_error_round_trip() -> None:
    kinds: list[tuple[int, hub.ErrorKind]] = [
        (400, "invalid_request"),
        (401, "authentication"),
        (429, "rate_limit"),
        (500, "server"),
        (503, "unavailable"),
    ]
    for status, kind in kinds:
        error: hub.Error = {"status": status, "kind": kind, "message": "m", "code": "c"}
        assert CODEC.error_to_hub(*CODEC.error_from_hub(error)) == error


def test_official_sdk_raises_the_right_exception() -> None:
    status, body = CODEC.error_from_hub(
        {
            "status": 429,
            "kind": "rate_limit",
            "message": "Slow down.",
            "code": "rate_limit_exceeded",
        }
    )
    client = sdk_client(body, status=status, content_type="application/json")
    with pytest.raises(openai.RateLimitError) as caught:
        client.responses.create(model="m", input="hi")
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.message.endswith("Slow down.")
