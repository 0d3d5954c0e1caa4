"""Google error bodies ⇄ hub errors."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from google.genai import errors as genai_errors

from gateway.formats import hub
from gateway.formats.gemini import CODEC
from tests.unit.gateway.formats.gemini.support import load_json

ERRORS: dict[str, Any] = load_json("errors.json")


def body_of(case: dict[str, Any]) -> bytes:
    return case["text"].encode() if "text" in case else orjson.dumps(case["body"])


@pytest.mark.parametrize(
    ("name", "status", "kind", "code"),
    [
        ("invalid_api_key", 401, "authentication", "API_KEY_INVALID"),
        ("rate_limited", 429, "rate_limit", "RESOURCE_EXHAUSTED"),
        ("overloaded", 503, "unavailable", "UNAVAILABLE"),
        ("model_not_found", 404, "not_found", "NOT_FOUND"),
        ("permission_denied", 403, "permission", "PERMISSION_DENIED"),
        ("internal", 500, "server", "INTERNAL"),
        ("deadline", 504, "timeout", "DEADLINE_EXCEEDED"),
        ("failed_precondition", 400, "invalid_request", "FAILED_PRECONDITION"),
        ("array_wrapped", 429, "rate_limit", "RESOURCE_EXHAUSTED"),
        ("html_404", 404, "not_found", None),
        ("empty_502", 502, "unavailable", None),
    ],
)
def test_error_to_hub(name: str, status: int, kind: hub.ErrorKind, code: str | None) -> None:
    case = ERRORS[name]
    error = CODEC.error_to_hub(case["status"], body_of(case))
    assert error["status"] == status
    assert error["kind"] == kind
    assert error.get("code") == code
    assert error["message"]


def test_error_messages() -> None:
    html = CODEC.error_to_hub(404, body_of(ERRORS["html_404"]))
    assert html["message"] == "Error 404 (Not Found)!!1"
    empty = CODEC.error_to_hub(502, b"")
    assert empty["message"] == "HTTP 502 with an empty body"
    plain = CODEC.error_to_hub(500, b"upstream connect error")
    assert plain == {"status": 500, "kind": "server", "message": "upstream connect error"}
    weird = CODEC.error_to_hub(418, b'{"error": "teapot"}')
    assert weird == {"status": 418, "kind": "invalid_request", "message": "teapot"}


@pytest.mark.parametrize(
    ("error", "status", "name"),
    [
        ({"status": 400, "kind": "invalid_request", "message": "m"}, 400, "INVALID_ARGUMENT"),
        ({"status": 401, "kind": "authentication", "message": "m"}, 401, "UNAUTHENTICATED"),
        ({"status": 403, "kind": "permission", "message": "m"}, 403, "PERMISSION_DENIED"),
        ({"status": 404, "kind": "not_found", "message": "m"}, 404, "NOT_FOUND"),
        ({"status": 413, "kind": "request_too_large", "message": "m"}, 400, "INVALID_ARGUMENT"),
        ({"status": 422, "kind": "invalid_request", "message": "m"}, 400, "INVALID_ARGUMENT"),
        ({"status": 429, "kind": "rate_limit", "message": "m"}, 429, "RESOURCE_EXHAUSTED"),
        ({"status": 500, "kind": "server", "message": "m"}, 500, "INTERNAL"),
        ({"status": 502, "kind": "unavailable", "message": "m"}, 503, "UNAVAILABLE"),
        ({"status": 529, "kind": "unavailable", "message": "m"}, 503, "UNAVAILABLE"),
        ({"status": 503, "kind": "unavailable", "message": "m"}, 503, "UNAVAILABLE"),
        ({"status": 504, "kind": "timeout", "message": "m"}, 504, "DEADLINE_EXCEEDED"),
        ({"status": 500, "kind": "timeout", "message": "m"}, 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_error_from_hub(error: hub.Error, status: int, name: str) -> None:
    sent_status, body = CODEC.error_from_hub(error)
    assert sent_status == status
    assert body.startswith(b'{"error":')  # the SDKs look for exactly this prefix
    assert orjson.loads(body) == {"error": {"code": status, "message": "m", "status": name}}


@pytest.mark.parametrize("name", ["invalid_api_key", "rate_limited", "overloaded", "internal"])
def test_round_trip_keeps_kind_and_message(name: str) -> None:
    case = ERRORS[name]
    error = CODEC.error_to_hub(case["status"], body_of(case))
    status, body = CODEC.error_from_hub(error)
    again = CODEC.error_to_hub(status, body)
    assert (again["kind"], again["message"]) == (error["kind"], error["message"])


def test_official_sdk_reads_the_emitted_error() -> None:
    status, body = CODEC.error_from_hub(
        {"status": 429, "kind": "rate_limit", "message": "slow down"}
    )
    error = genai_errors.APIError(status, orjson.loads(body))
    assert (error.code, error.status, error.message) == (429, "RESOURCE_EXHAUSTED", "slow down")
