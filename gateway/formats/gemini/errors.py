"""Google API errors ⇄ hub errors.

Google's shape: ``{"error": {"code": <http status>, "message": ..., "status": <canonical
google.rpc.Code name>, "details": [...]}}``; a JSON-array stream request gets it wrapped in
a one-element array. Mid-stream (SSE) the same object arrives as a ``data:`` chunk.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini.wire import seq

_KIND_BY_STATUS: dict[str, hub.ErrorKind] = {
    "INVALID_ARGUMENT": "invalid_request",
    "FAILED_PRECONDITION": "invalid_request",
    "OUT_OF_RANGE": "invalid_request",
    "ALREADY_EXISTS": "invalid_request",
    "UNAUTHENTICATED": "authentication",
    "PERMISSION_DENIED": "permission",
    "NOT_FOUND": "not_found",
    "RESOURCE_EXHAUSTED": "rate_limit",
    "ABORTED": "unavailable",
    "INTERNAL": "server",
    "UNKNOWN": "server",
    "DATA_LOSS": "server",
    "UNAVAILABLE": "unavailable",
    "DEADLINE_EXCEEDED": "timeout",
}
# A bad key is a 400 INVALID_ARGUMENT at Google; for routing it is an auth failure.
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED"})

# HTTP status → canonical status name, as Google pairs them.
_STATUS_NAME: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# What Google would answer for each hub kind (a too-large request is a 400 there).
_STATUS_BY_KIND: dict[str, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "permission": 403,
    "not_found": 404,
    "request_too_large": 400,
    "rate_limit": 429,
    "server": 500,
    "unavailable": 503,
    "timeout": 504,
}
_TITLE = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def error_from_object(error: dict[str, Any], status: int) -> hub.Error:
    """The ``error`` object of a Google error body; ``status`` is the HTTP status, or 0 for
    an error chunk inside a 200 stream (its ``code`` is used then)."""
    code = error.get("code")
    if not status and isinstance(code, int) and code >= 400:
        status = code
    name = error.get("status")
    reason = None
    for detail in seq(error.get("details")):
        if isinstance(detail, dict) and detail.get("reason"):
            reason = str(detail["reason"])
            break
    kind = _KIND_BY_STATUS.get(str(name)) if name else None
    if kind is None:
        kind = hub.kind_for_status(status) if status else "server"
    if reason in _AUTH_REASONS:
        kind, status = "authentication", 401
    result: hub.Error = {
        "status": status or _STATUS_BY_KIND[kind],
        "kind": kind,
        "message": str(error.get("message") or name or f"HTTP {status}"),
    }
    if reason or name:
        result["code"] = reason or str(name)
    return result


def error_to_hub(status: int, body: bytes) -> hub.Error:
    try:
        data: Any = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return error_from_object(error, status)
        if isinstance(error, str) and error:
            return {"status": status, "kind": hub.kind_for_status(status), "message": error}
    return {"status": status, "kind": hub.kind_for_status(status), "message": _plain(status, body)}


def _plain(status: int, body: bytes) -> str:
    """A readable message from a non-JSON body (Google's HTML error pages have a title)."""
    title = _TITLE.search(body)
    text = (title.group(1) if title else body).decode("utf-8", "replace").strip()
    return text[:500] if text else f"HTTP {status} with an empty body"


def error_object(error: hub.Error) -> tuple[int, dict[str, Any]]:
    """(HTTP status, the ``error`` object) as Google would send them for a hub error."""
    status = error["status"]
    if status not in _STATUS_NAME or hub.kind_for_status(status) != error["kind"]:
        status = _STATUS_BY_KIND.get(error["kind"], 500)
    return status, {"code": status, "message": error["message"], "status": _STATUS_NAME[status]}


def error_from_hub(error: hub.Error) -> tuple[int, bytes]:
    status, body = error_object(error)
    return status, orjson.dumps({"error": body})
