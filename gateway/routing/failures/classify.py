"""Classify one failed upstream attempt: which :class:`FailureClass`, what the upstream said,
and when it says to retry. Pure: no IO, no clock reads unless ``wall_now`` is left out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aiohttp

from gateway.routing.failures.table import Action, FailureClass, FailureTable, default_table
from gateway.routing.retry_after import EMPTY_BODY, ErrorBody, read_error_body, retry_at_from

MAX_MESSAGE: Final = 300  # characters of upstream text kept for logs and the final error

_TIMEOUTS: Final = (TimeoutError, aiohttp.ServerTimeoutError)  # asyncio's is the builtin
# A payload error is a connection that broke mid-body, before the client saw anything.
_CONNECTION: Final = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError)


@dataclass(frozen=True, slots=True)
class Failure:
    cls: FailureClass
    status: int | None
    message: str
    retry_at: float | None  # absolute, on the injected monotonic clock; None when unsaid


def classify(
    status: int | None,
    body: bytes,
    headers: Mapping[str, str],
    *,
    exception: BaseException | None = None,
    now: float,
    wall_now: float | None = None,
    table: FailureTable | None = None,
) -> Failure:
    """Classify a failed attempt; never raises.

    ``status`` is the upstream's HTTP status, or None when no response arrived. An
    ``exception`` with no status (or with a 2xx whose body could not be read) is classified by
    type: timeouts, then connection errors, else other. Otherwise the rule table decides: body
    text patterns first, then the status. A 2xx passed here (empty or unusable body) is
    empty_response unless its text says more. ``wall_now`` is the Unix time at ``now``, used
    to read absolute reset times; it defaults to ``time.time()``.
    """
    if exception is not None and (status is None or 200 <= status < 300):
        return Failure(_exception_class(exception), status, _describe(exception), None)
    rules = default_table() if table is None else table
    try:
        parsed = read_error_body(body)
    except Exception:  # a body of an unexpected type must not break failure handling
        parsed = EMPTY_BODY
    cls = rules.match(status, parsed.lower)
    retry = None
    if status is not None:
        wall = time.time() if wall_now is None else wall_now
        retry = retry_at_from(headers, parsed, now=now, wall_now=wall)
    return Failure(cls, status, _message(status, parsed), retry)


def action_for(cls: FailureClass) -> Action:
    """The action the shipped rule table gives ``cls``."""
    return default_table().action(cls)


def _exception_class(exc: BaseException) -> FailureClass:
    # Timeouts first: aiohttp's timeout errors are also connection errors, and Python's
    # TimeoutError is an OSError.
    if isinstance(exc, _TIMEOUTS):
        return FailureClass.TIMEOUT
    if isinstance(exc, _CONNECTION):
        return FailureClass.CONNECTION
    return FailureClass.OTHER


def _describe(exc: BaseException) -> str:
    text = _clip(str(exc))
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _message(status: int | None, body: ErrorBody) -> str:
    found = _json_message(body.doc)
    if found is None:
        found = body.text
    text = _clip(found)
    if text:
        return text
    return "empty body" if status is None else f"HTTP {status} with an empty body"


def _json_message(doc: object) -> str | None:
    """The human message of the common error shapes: {"error": {"message"}}, {"error": "..."},
    {"message"}, {"detail"}; Gemini's one-element array is unwrapped."""
    if isinstance(doc, list) and doc:
        doc = doc[0]
    if not isinstance(doc, dict):
        return None
    error = doc.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message.strip():
            return message
    elif isinstance(error, str) and error.strip():
        return error
    for key in ("message", "detail", "error_description"):
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _clip(text: str) -> str:
    # Whitespace collapsed (bodies are often pretty-printed), then cut at MAX_MESSAGE.
    flat = " ".join(text[: MAX_MESSAGE * 4].split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 1] + "…"
