"""Errors: OpenAI's ``{"error": {"message", "type", "param", "code"}}`` ⇄ hub errors."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub

# The ``type`` OpenAI puts on each kind (401 is an invalid_request_error with code
# invalid_api_key; 429 says which limit, "requests" or "tokens"; every 5xx is server_error).
_TYPE_BY_KIND: dict[str, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "invalid_request_error",
    "permission": "invalid_request_error",
    "not_found": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "rate_limit": "requests",
    "server": "server_error",
    "unavailable": "server_error",
    "timeout": "server_error",
}
_DEFAULT_CODE: dict[str, str] = {
    "authentication": "invalid_api_key",
    "rate_limit": "rate_limit_exceeded",
}
# Error ``type`` / ``code`` values → kind, for errors that arrive without a status (in a
# stream) — OpenAI's own names plus the ones compatible servers use.
_KIND_BY_NAME: dict[str, hub.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "context_length_exceeded": "invalid_request",
    "invalid_api_key": "authentication",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "request_forbidden": "permission",
    "model_not_found": "not_found",
    "not_found_error": "not_found",
    "requests": "rate_limit",
    "tokens": "rate_limit",
    "rate_limit_error": "rate_limit",
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "rate_limit",
    "server_error": "server",
    "api_error": "server",
    "service_unavailable_error": "unavailable",
    "server_is_overloaded": "unavailable",
    "overloaded_error": "unavailable",
    "timeout": "timeout",
}
_STATUS_BY_KIND: dict[str, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "permission": 403,
    "not_found": 404,
    "request_too_large": 413,
    "rate_limit": 429,
    "server": 500,
    "unavailable": 503,
    "timeout": 504,
}
_MAX_RAW_MESSAGE = 500  # how much of a non-JSON error body becomes the message


def _describe(status: int, body: bytes) -> tuple[str, str | None, str | None]:
    """(message, type, code) from any error body: OpenAI's shape, ``{"error": "text"}``,
    FastAPI's ``{"detail": ...}``, ``{"message": ...}``, plain text or nothing."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed)
        if isinstance(error, str) and error:
            return error, None, None
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail")
            kind = error.get("type")
            code = error.get("code")
            if message and not isinstance(message, str):
                message = orjson.dumps(message).decode()
            if isinstance(message, str) and message:
                return (
                    message,
                    kind if isinstance(kind, str) else None,
                    str(code) if isinstance(code, (str, int)) and code != "" else None,
                )
    text = body.decode("utf-8", "replace").strip()
    if text:
        return text[:_MAX_RAW_MESSAGE], None, None
    return f"The upstream answered HTTP {status} with an empty body.", None, None


def error_to_hub(status: int, body: bytes) -> hub.Error:
    message, _, code = _describe(status, body)
    error: hub.Error = {"status": status, "kind": hub.kind_for_status(status), "message": message}
    if code is not None:
        error["code"] = code
    return error


def stream_error_to_hub(payload: dict[str, Any]) -> hub.Error:
    """An ``{"error": {...}}`` data line inside a 200 stream: no status, so the kind comes
    from the error's type or code."""
    message, kind_name, code = _describe(200, orjson.dumps(payload))
    kind: hub.ErrorKind = "server"
    for name in (code, kind_name):
        if name in _KIND_BY_NAME:
            kind = _KIND_BY_NAME[name]
            break
        if name is not None and name.isdigit():  # some servers put the HTTP status in code
            kind = hub.kind_for_status(int(name))
            break
    error: hub.Error = {"status": _STATUS_BY_KIND[kind], "kind": kind, "message": message}
    if code is not None:
        error["code"] = code
    return error


def error_body(error: hub.Error) -> bytes:
    kind = error["kind"]
    code = error.get("code") or _DEFAULT_CODE.get(kind)
    error_type = _TYPE_BY_KIND.get(kind, "server_error")
    if code == "insufficient_quota":
        error_type = code  # OpenAI names the quota error's type after its code
    return orjson.dumps(
        {"error": {"message": error["message"], "type": error_type, "param": None, "code": code}}
    )


def error_from_hub(error: hub.Error) -> tuple[int, bytes]:
    return error["status"], error_body(error)
