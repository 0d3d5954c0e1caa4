"""Errors: upstream bodies of any shape → hub; hub → OpenAI's exact error shape."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from tests.unit.gateway.formats.openai.helpers import fixture_bytes


@pytest.mark.parametrize(
    ("status", "fixture", "kind", "code"),
    [
        (401, "error_401.json", "authentication", "invalid_api_key"),
        (429, "error_429_tokens.json", "rate_limit", "rate_limit_exceeded"),
        (429, "error_429_quota.json", "rate_limit", "insufficient_quota"),
        (400, "error_400_unsupported.json", "invalid_request", "unsupported_parameter"),
        (403, "error_403_region.json", "permission", "unsupported_country_region_territory"),
        (503, "error_503.json", "unavailable", None),
    ],
)
def test_openai_error_bodies_to_hub(status: int, fixture: str, kind: str, code: str | None) -> None:
    expected = {
        "status": status,
        "kind": kind,
        "message": json.loads(fixture_bytes(fixture))["error"]["message"],
    }
    if code is not None:
        expected["code"] = code
    assert CODEC.error_to_hub(status, fixture_bytes(fixture)) == expected


def test_compatible_server_error_bodies_to_hub() -> None:
    assert CODEC.error_to_hub(404, fixture_bytes("error_vllm_detail.json")) == {
        "status": 404,
        "kind": "not_found",
        "message": "Not Found",
    }
    assert CODEC.error_to_hub(404, fixture_bytes("error_string.json")) == {
        "status": 404,
        "kind": "not_found",
        "message": "model 'llama3:70b' not found, try pulling it first",
    }


def test_non_json_and_empty_bodies_to_hub() -> None:
    html = CODEC.error_to_hub(502, fixture_bytes("error_gateway.html"))
    assert html["status"] == 502 and html["kind"] == "unavailable"
    assert "502 Bad Gateway" in html["message"] and "code" not in html
    empty = CODEC.error_to_hub(500, b"")
    assert empty == {
        "status": 500,
        "kind": "server",
        "message": "The upstream answered HTTP 500 with an empty body.",
    }
    assert CODEC.error_to_hub(504, b"   ")["kind"] == "timeout"
    assert CODEC.error_to_hub(529, b"{}")["kind"] == "unavailable"
    assert CODEC.error_to_hub(418, b"[1,2]")["kind"] == "invalid_request"
    long = CODEC.error_to_hub(500, b"x" * 5000)
    assert len(long["message"]) == 500
    nested = CODEC.error_to_hub(
        422, json.dumps({"detail": [{"loc": ["body"], "msg": "bad"}]}).encode()
    )
    assert nested["kind"] == "invalid_request" and '"msg":"bad"' in nested["message"]
    numeric = CODEC.error_to_hub(429, b'{"error": {"message": "slow down", "code": 429}}')
    assert numeric["code"] == "429"
    binary = CODEC.error_to_hub(500, b"\xff\xfe oops")
    assert binary["message"].endswith("oops")


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            {"status": 400, "kind": "invalid_request", "message": "Bad 'messages'."},
            400,
            {
                "message": "Bad 'messages'.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            },
        ),
        (
            {"status": 401, "kind": "authentication", "message": "Invalid key."},
            401,
            {
                "message": "Invalid key.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            },
        ),
        (
            {"status": 403, "kind": "permission", "message": "No access."},
            403,
            {"message": "No access.", "type": "invalid_request_error", "param": None, "code": None},
        ),
        (
            {"status": 404, "kind": "not_found", "message": "No model.", "code": "model_not_found"},
            404,
            {
                "message": "No model.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            },
        ),
        (
            {"status": 413, "kind": "request_too_large", "message": "Too big."},
            413,
            {"message": "Too big.", "type": "invalid_request_error", "param": None, "code": None},
        ),
        (
            {"status": 429, "kind": "rate_limit", "message": "Slow down."},
            429,
            {
                "message": "Slow down.",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            },
        ),
        (
            {
                "status": 429,
                "kind": "rate_limit",
                "message": "Quota.",
                "code": "insufficient_quota",
            },
            429,
            {
                "message": "Quota.",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            },
        ),
        (
            {"status": 500, "kind": "server", "message": "Boom."},
            500,
            {"message": "Boom.", "type": "server_error", "param": None, "code": None},
        ),
        (
            {
                "status": 529,
                "kind": "unavailable",
                "message": "Overloaded.",
                "code": "overloaded_error",
            },
            529,
            {
                "message": "Overloaded.",
                "type": "server_error",
                "param": None,
                "code": "overloaded_error",
            },
        ),
        (
            {"status": 504, "kind": "timeout", "message": "Timed out."},
            504,
            {"message": "Timed out.", "type": "server_error", "param": None, "code": None},
        ),
    ],
)
def test_hub_errors_in_openai_shape(error: hub.Error, status: int, body: dict[str, object]) -> None:
    got_status, raw = CODEC.error_from_hub(error)
    assert got_status == status
    assert json.loads(raw) == {"error": body}


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_the_sdk_reads_our_error_bodies(
    status: int, exception: type[openai.APIStatusError]
) -> None:
    error: hub.Error = {
        "status": status,
        "kind": hub.kind_for_status(status),
        "message": "What happened and what to do.",
    }
    got_status, raw = CODEC.error_from_hub(error)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            got_status, headers={"content-type": "application/json"}, content=raw
        )

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    with pytest.raises(exception) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == status
    assert caught.value.message.endswith("What happened and what to do.")
    assert isinstance(caught.value.body, dict) and caught.value.body["message"] == error["message"]
    assert caught.value.type == json.loads(raw)["error"]["type"]


@pytest.mark.parametrize(
    ("payload", "kind", "status"),
    [
        ({"error": {"message": "m", "type": "server_error"}}, "server", 500),
        (
            {
                "error": {
                    "message": "m",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            "invalid_request",
            400,
        ),
        (
            {"error": {"message": "m", "type": "tokens", "code": "rate_limit_exceeded"}},
            "rate_limit",
            429,
        ),
        (
            {
                "error": {
                    "message": "m",
                    "type": "service_unavailable_error",
                    "code": "server_is_overloaded",
                }
            },
            "unavailable",
            503,
        ),
        ({"error": {"message": "m", "type": "overloaded_error"}}, "unavailable", 503),
        ({"error": {"message": "m", "code": 401}}, "authentication", 401),
        ({"error": {"message": "m", "type": "mystery"}}, "server", 500),
        ({"error": "plain text"}, "server", 500),
    ],
)
def test_stream_error_kinds(payload: dict[str, object], kind: str, status: int) -> None:
    from gateway.formats.openai_chat.errors import stream_error_to_hub

    error = stream_error_to_hub(payload)
    assert (error["kind"], error["status"]) == (kind, status)
