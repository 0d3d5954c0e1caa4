"""Anthropic error bodies ⇄ hub errors.

Shape (https://platform.claude.com/docs/en/api/errors):
``{"type": "error", "error": {"type": "<error type>", "message": "..."}, "request_id": ...}``
with 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403
permission_error, 404 not_found_error, 409 conflict_error, 413 request_too_large, 429
rate_limit_error, 500 api_error, 504 timeout_error and 529 overloaded_error. The same
object arrives as an SSE ``error`` event after a 200.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub

KIND_BY_TYPE: dict[str, hub.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "billing_error": "permission",  # the account cannot pay: another account may
    "permission_error": "permission",
    "not_found_error": "not_found",
    "conflict_error": "invalid_request",  # the hub has no conflict kind
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "api_error": "server",
    "timeout_error": "timeout",
    "overloaded_error": "unavailable",
}
STATUS_BY_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
TYPE_BY_KIND = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "request_too_large": "request_too_large",
    "rate_limit": "rate_limit_error",
    "server": "api_error",
    "unavailable": "overloaded_error",
    "timeout": "timeout_error",
}
_TYPE_BY_STATUS = {
    402: "billing_error",
    409: "conflict_error",
    413: "request_too_large",
    504: "timeout_error",
    529: "overloaded_error",
}
_MAX_MESSAGE = 2000  # of a non-JSON body quoted as the message


def error_to_hub(status: int, body: bytes) -> hub.Error:
    """Any upstream error response, JSON or not, → hub error (status kept)."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = error_object_to_hub(parsed, status)
        if error is not None:
            return error
    text = body.decode("utf-8", "replace").strip()[:_MAX_MESSAGE]
    return {
        "status": status,
        "kind": hub.kind_for_status(status),
        "message": text or f"Upstream error (HTTP {status}).",
    }


def error_object_to_hub(parsed: dict[str, Any], status: int | None) -> hub.Error | None:
    """An Anthropic error object (HTTP body or stream ``error`` event data) → hub error.
    ``status`` None: the error came inside a stream and the type decides the status."""
    inner = parsed.get("error")
    if not isinstance(inner, dict):
        return None
    kind_name: str = inner["type"] if isinstance(inner.get("type"), str) else ""
    message = inner.get("message")
    if status is None or status < 400:
        status = STATUS_BY_TYPE.get(kind_name, 500)
    error: hub.Error = {
        "status": status,
        "kind": KIND_BY_TYPE.get(kind_name) or hub.kind_for_status(status),
        "message": message if isinstance(message, str) and message else kind_name or "error",
    }
    details = inner.get("details")
    if isinstance(details, dict) and isinstance(details.get("error_code"), str):
        error["code"] = details["error_code"]  # e.g. enforced_spend_limit_reached
    elif kind_name:
        error["code"] = kind_name
    return error


def error_type(error: hub.Error) -> str:
    code = error.get("code")
    if code is not None and code in STATUS_BY_TYPE:
        return code
    return _TYPE_BY_STATUS.get(error["status"]) or TYPE_BY_KIND.get(error["kind"], "api_error")


def error_payload(error: hub.Error) -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"type": error_type(error), "message": error["message"]}}
    )


def error_from_hub(error: hub.Error) -> tuple[int, bytes]:
    return error["status"], error_payload(error)
