"""Errors: OpenAI's ``{"error": {"message", "type", "param", "code"}}`` body ⇄ hub.Error, and
the ``{"code", "message"}`` object a failed response carries in streams.

Types follow what api.openai.com sends: 401 is ``invalid_request_error`` with code
``invalid_api_key``, 403 ``request_forbidden``, 429 ``requests`` (``insufficient_quota`` for a
spent quota), 5xx ``server_error``. Codex CLI decides from ``response.error.code`` of a failed
stream whether to retry (see ``failure_from_hub``).
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub

_TYPE_BY_KIND: dict[str, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "invalid_request_error",
    "permission": "request_forbidden",
    "not_found": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "rate_limit": "requests",
    "server": "server_error",
    "unavailable": "server_error",
    "timeout": "server_error",
}

# ``response.error.code`` of a failed response. The SDK types it as an enum; the API also
# sends three codes outside it that Codex CLI treats as fatal (not worth retrying), so those
# pass too. Any other hub code becomes the enum value for its kind (the ``error`` event that
# precedes ``response.failed`` keeps the hub code as it is).
_FAILURE_CODES = frozenset(
    (
        "server_error",
        "rate_limit_exceeded",
        "invalid_prompt",
        "data_residency_mismatch",
        "bio_policy",
        "misalignment_policy_violation",
        "vector_store_timeout",
        "invalid_image",
        "invalid_image_format",
        "invalid_base64_image",
        "invalid_image_url",
        "image_too_large",
        "image_too_small",
        "image_parse_error",
        "image_content_policy_violation",
        "invalid_image_mode",
        "image_file_too_large",
        "unsupported_image_media_type",
        "empty_image_file",
        "failed_to_download_image",
        "image_file_not_found",
        "context_length_exceeded",
        "insufficient_quota",
        "usage_not_included",
    )
)
_FAILURE_CODE_BY_KIND: dict[str, str] = {
    "rate_limit": "rate_limit_exceeded",  # Codex retries after the message's "try again in"
    "server": "server_error",  # retried by Codex
    "unavailable": "server_error",
    "timeout": "server_error",
}
_FAILURE_CODE_DEFAULT = "invalid_prompt"  # other client errors: Codex stops and shows them

# Codes seen in streamed failures (response.failed / error events), which have no status.
_KIND_BY_CODE: dict[str, hub.ErrorKind] = {
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "rate_limit",
    "server_error": "server",
    "server_is_overloaded": "unavailable",
    "slow_down": "unavailable",
    "vector_store_timeout": "timeout",
    "context_length_exceeded": "invalid_request",
    "invalid_prompt": "invalid_request",
    "bio_policy": "invalid_request",
    "invalid_api_key": "authentication",
    "model_not_found": "not_found",
}
_KIND_BY_TYPE: dict[str, hub.ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "permission_error": "permission",
    "request_forbidden": "permission",
    "not_found_error": "not_found",
    "requests": "rate_limit",
    "tokens": "rate_limit",
    "insufficient_quota": "rate_limit",
    "rate_limit_error": "rate_limit",
    "server_error": "server",
}
STATUS_BY_KIND: dict[str, int] = {
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
_MAX_RAW_MESSAGE = 500


def error_to_hub(status: int, body: bytes) -> hub.Error:
    """An upstream error response: any body (OpenAI shape, a bare message, HTML, nothing)."""
    error: hub.Error = {"status": status, "kind": hub.kind_for_status(status), "message": ""}
    try:
        parsed: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    detail = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(detail, dict):
        _fill(error, detail)
    elif isinstance(detail, str):
        error["message"] = detail
    elif isinstance(parsed, dict):
        _fill(error, parsed)  # some compatible servers put message/code at the top level
    if not error["message"]:
        text = body.decode("utf-8", "replace").strip()[:_MAX_RAW_MESSAGE]
        error["message"] = text or f"The upstream answered HTTP {status} with an empty body."
    return error


def _fill(error: hub.Error, detail: dict[str, Any]) -> None:
    message = detail.get("message", detail.get("detail"))
    if isinstance(message, str):
        error["message"] = message
    code = detail.get("code")
    if isinstance(code, str) and code:
        error["code"] = code
    if code == "insufficient_quota" or detail.get("type") == "insufficient_quota":
        error.setdefault("code", "insufficient_quota")


def stream_error_to_hub(detail: Any, default_message: str) -> hub.Error:
    """The error of a ``response.failed`` (``response.error``) or of an ``error`` event (flat
    as documented, or nested under ``error`` as the API sends it). No HTTP status exists in a
    stream: it comes from the code, then the type."""
    if isinstance(detail, dict) and isinstance(detail.get("error"), dict):
        detail = detail["error"]
    if not isinstance(detail, dict):
        detail = {}
    code = detail.get("code")
    kind = _KIND_BY_CODE.get(code) if isinstance(code, str) else None
    if kind is None and isinstance(code, str) and "image" in code:
        kind = "invalid_request"  # invalid_image, image_too_large, invalid_image_url, ...
    if kind is None:
        kind = _KIND_BY_TYPE.get(detail.get("type") or "", "server")
    message = detail.get("message")
    error: hub.Error = {
        "status": STATUS_BY_KIND[kind],
        "kind": kind,
        "message": message if isinstance(message, str) and message else default_message,
    }
    if isinstance(code, str) and code:
        error["code"] = code
    return error


def error_from_hub(error: hub.Error) -> tuple[int, bytes]:
    kind = error["kind"]
    code = error.get("code")
    err_type = (
        "insufficient_quota"
        if code == "insufficient_quota"
        else _TYPE_BY_KIND.get(kind, "server_error")
    )
    if code is None and kind == "authentication":
        code = "invalid_api_key"
    body = {"error": {"message": error["message"], "type": err_type, "param": None, "code": code}}
    return error["status"], orjson.dumps(body)


def failure_from_hub(error: hub.Error) -> tuple[dict[str, str], str]:
    """(``response.error`` of a failed response, the ``error`` event's code)."""
    code = error.get("code")
    failure = code if code in _FAILURE_CODES else None
    if failure is None:
        failure = _FAILURE_CODE_BY_KIND.get(error["kind"], _FAILURE_CODE_DEFAULT)
    return {"code": failure, "message": error["message"]}, code or failure
