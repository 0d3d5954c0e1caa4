"""Error bodies: upstream Anthropic errors → hub, hub errors → Anthropic shape and status."""

from __future__ import annotations

import anthropic
import orjson
import pytest

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from tests.unit.gateway.formats.anthropic.errors_table import DOCUMENTED
from tests.unit.gateway.formats.anthropic.support import fixture, sdk_error


def body(kind: str, message: str = "boom") -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}
    )


@pytest.mark.parametrize(("status", "kind", "hub_kind"), DOCUMENTED)
def test_documented_errors_read(status: int, kind: str, hub_kind: str) -> None:
    assert CODEC.error_to_hub(status, body(kind)) == {
        "status": status,
        "kind": hub_kind,
        "message": "boom",
        "code": kind,
    }


@pytest.mark.parametrize(("status", "kind", "hub_kind"), DOCUMENTED)
def test_errors_written_back_keep_type_and_status(status: int, kind: str, hub_kind: str) -> None:
    error = CODEC.error_to_hub(status, body(kind))
    assert CODEC.error_from_hub(error) == (
        status,
        orjson.dumps({"type": "error", "error": {"type": kind, "message": "boom"}}),
    )


def test_fixture_errors() -> None:
    errors = fixture("errors.json")
    overloaded = CODEC.error_to_hub(529, orjson.dumps(errors["overloaded"]))
    assert overloaded["kind"] == "unavailable" and overloaded["message"] == "Overloaded"
    spend = CODEC.error_to_hub(429, orjson.dumps(errors["spend_limit"]))
    assert spend["kind"] == "rate_limit" and spend["code"] == "enforced_spend_limit_reached"
    assert CODEC.error_from_hub(spend)[1] == orjson.dumps(
        {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": errors["spend_limit"]["error"]["message"],
            },
        }
    )
    invalid = CODEC.error_to_hub(400, orjson.dumps(errors["invalid_request"]))
    assert invalid["message"].startswith("messages: roles must alternate")


@pytest.mark.parametrize(
    ("status", "raw", "kind", "message"),
    [
        (
            502,
            b"<html><body>502 Bad Gateway</body></html>",
            "unavailable",
            "<html><body>502 Bad Gateway</body></html>",
        ),
        (503, b"", "unavailable", "Upstream error (HTTP 503)."),
        (429, b"   ", "rate_limit", "Upstream error (HTTP 429)."),
        (
            400,
            b'{"message": "no error object"}',
            "invalid_request",
            '{"message": "no error object"}',
        ),
        (418, b"\xff\xfe teapot", "invalid_request", "\ufffd\ufffd teapot"),
        (500, b'{"type":"error","error":{"type":"api_error"}}', "server", "api_error"),
        (404, b"[1,2]", "not_found", "[1,2]"),
    ],
)
def test_any_body_reads(status: int, raw: bytes, kind: str, message: str) -> None:
    error = CODEC.error_to_hub(status, raw)
    assert error["status"] == status and error["kind"] == kind and error["message"] == message


def test_long_non_json_bodies_are_cut() -> None:
    assert len(CODEC.error_to_hub(500, b"x" * 10_000)["message"]) == 2000


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (
            {"status": 400, "kind": "invalid_request", "message": "m", "code": "invalid_request"},
            400,
            "invalid_request_error",
        ),
        (
            {"status": 401, "kind": "authentication", "message": "m", "code": "invalid_api_key"},
            401,
            "authentication_error",
        ),
        (
            {"status": 404, "kind": "not_found", "message": "m", "code": "model_not_found"},
            404,
            "not_found_error",
        ),
        ({"status": 502, "kind": "unavailable", "message": "m"}, 502, "overloaded_error"),
        ({"status": 503, "kind": "unavailable", "message": "m"}, 503, "overloaded_error"),
        ({"status": 504, "kind": "timeout", "message": "m"}, 504, "timeout_error"),
        ({"status": 500, "kind": "server", "message": "m"}, 500, "api_error"),
        ({"status": 422, "kind": "invalid_request", "message": "m"}, 422, "invalid_request_error"),
        ({"status": 402, "kind": "invalid_request", "message": "m"}, 402, "billing_error"),
        (
            {"status": 429, "kind": "rate_limit", "message": "m", "code": "rate_limit_exceeded"},
            429,
            "rate_limit_error",
        ),
    ],
)
def test_gateway_errors_write(error: hub.Error, status: int, kind: str) -> None:
    got_status, raw = CODEC.error_from_hub(error)
    assert got_status == status
    assert orjson.loads(raw) == {"type": "error", "error": {"type": kind, "message": "m"}}


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (404, anthropic.NotFoundError),
        (429, anthropic.RateLimitError),
        (529, anthropic.InternalServerError),
    ],
)
def test_the_sdk_reads_our_error_bodies(status: int, exception: type) -> None:
    error: hub.Error = {"status": status, "kind": hub.kind_for_status(status), "message": "nope"}
    got_status, raw = CODEC.error_from_hub(error)
    exc = sdk_error(got_status, raw)
    assert isinstance(exc, exception) and exc.status_code == status
    assert exc.body == {
        "type": "error",
        "error": {
            "type": exc.body["error"]["type"],  # type: ignore[index]
            "message": "nope",
        },
    }


def test_the_registry_serves_this_codec() -> None:
    from gateway.formats.codec import codec_for

    assert codec_for("anthropic") is CODEC and CODEC.dialect == "anthropic"
