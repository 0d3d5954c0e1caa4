"""A fake Anthropic upstream that speaks the Messages API wire format.

Used by integration tests and benchmarks in place of ``api.anthropic.com``.  It listens on a
real socket (``FakeAnthropic`` picks a free port on 127.0.0.1); its ``base_url`` is the server
root, as the ``anthropic`` SDK expects (the SDK appends ``/v1/messages``).  It serves:

* ``POST /v1/messages`` -- non-streaming (a ``message`` object) and streaming
  (``text/event-stream``: ``event: <type>\\ndata: <json>\\n\\n`` events);
* ``POST /v1/messages/count_tokens`` -- ``{"input_tokens": N}``;
* anything else: 404 ``not_found_error`` ("Not Found").

Both endpoints require the fake's key in the ``x-api-key`` header (missing: 401
``authentication_error`` "x-api-key header is required"; wrong: 401 "invalid x-api-key"; when
there is no ``x-api-key``, ``Authorization: Bearer <key>`` is accepted instead, as the official
Python SDK 2.x sends an ``api_key`` that way -- wrong: 401 "Invalid bearer token") and an
``anthropic-version`` header (missing: 400 "anthropic-version: header is required"; a value that
is not one ``YYYY-MM-DD`` date, e.g. a duplicated header: 400 ``anthropic-version: "<v>" is not a
valid version``).
Every error body is ``{"type": "error", "error": {"type", "message"}, "request_id"}`` and every
response carries a ``request-id`` header (the same id as the body's ``request_id``).

Requests are validated roughly like the real API, always with a 400 ``invalid_request_error``:
a body that is not JSON ("The request body is not valid JSON: ..."); ``model``, ``messages`` and
(``/v1/messages`` only) ``max_tokens`` (an integer >= 0) required; ``messages`` non-empty, each
with role ``user`` or ``assistant``, the first one ``user``; content a string or a list of blocks
(``text``, ``image`` with a ``base64`` / ``url`` / ``file`` source, ``document``, ``tool_use``,
``tool_result`` with string-or-blocks content and optional ``is_error``, ``thinking`` with
``signature``, ``redacted_thinking``, and a few server-tool block types that pass unchecked);
empty text blocks, whitespace-only text and empty user messages rejected with the API's messages;
``cache_control`` must be ``{"type": "ephemeral"[, "ttl": "5m" | "1h"]}``; ``system`` a string or
a list of text blocks; every ``tool_use`` answered by a ``tool_result`` in the next turn and every
``tool_result`` matching a ``tool_use`` of the previous turn (consecutive same-role messages count
as one turn, as the API combines them); ``thinking`` of type ``enabled`` / ``disabled`` /
``adaptive``, with ``enabled`` needing ``budget_tokens`` >= 1024 and below ``max_tokens``.

Behaviour is chosen by the request's ``model`` (see ``tests/fakes/BEHAVIOUR.md``):

``<any other model>``
    Echo.  One ``text`` block ``"Echo: " + <text of the last user message>`` (a string, or its
    ``text`` blocks joined with single spaces), plus ``" [image: <media type> <n> bytes]"`` for
    each inline base64 image of that message (n = decoded bytes) or ``" [image: <url>]"`` for an
    image given by URL.  When the last turn is a user message with ``tool_result`` blocks, the
    text is ``"Tool said: "`` + the results' texts (``"error: "`` prefixed when ``is_error``),
    joined with ``" | "``.  ``stop_reason`` ``"end_turn"``; with ``max_tokens`` below the reply's
    word count the reply is cut to that many words and ``stop_reason`` is ``"max_tokens"`` (with
    ``max_tokens`` 0 there is no content block at all).  Streaming sends one ``text_delta`` per
    word (each word keeps its leading whitespace).
``fake-tools``
    Two parallel ``tool_use`` blocks, ids ``toolu_fake_1`` / ``toolu_fake_2``, calling the first
    two client tools of the request (the first one twice if only one; ``get_weather`` and
    ``get_time`` if none) with ``{"<key>": "Paris"}`` / ``{"<key>": "Tokyo"}`` (``<key>``: the
    first property of the tool's ``input_schema``, else ``city``).  ``stop_reason``
    ``"tool_use"``; ``output_tokens`` = number of argument fragments; ``max_tokens`` not applied.
    Streaming: ``content_block_start`` with ``input: {}``, an ``input_json_delta`` with
    ``partial_json: ""`` (as the API sends), then at least 3 non-empty fragments per call.  When
    the last turn is already a tool result it answers like Echo instead.
``fake-think``
    A ``thinking`` block ``"Thinking about: <text of last user message>"`` with signature
    ``sig-fake-1`` (streamed as ``thinking_delta`` per word then one ``signature_delta``), then
    the Echo reply.  ``output_tokens`` includes the thinking words, also reported as
    ``usage.output_tokens_details.thinking_tokens``.  ``max_tokens`` cuts only the reply text.
``fake-think-tools``
    The same ``thinking`` block, then one ``tool_use`` (``toolu_fake_1``, as ``fake-tools``).
    When the last turn is a tool result, the assistant turn before it must replay a ``thinking``
    block with signature ``sig-fake-1`` ahead of its ``tool_use`` blocks -- otherwise 400 with a
    message mentioning ``signature`` -- and the reply is then Echo's ``"Tool said: ..."``.
``fake-agent``
    Plays the script of ``tests/fakes/agent_script.py`` (``SAY:`` / ``RUN:`` lines anywhere
    in a user message), one step per request.  The script sees every ``user`` message's
    ``text`` blocks (joined with newlines, so ``<system-reminder>`` blocks before the prompt
    do not hide its lines), the texts of the ``tool_result`` blocks (string content or text
    blocks) in messages after the newest scripted user message, and the client tools (name
    and ``input_schema``).  A text step is an Echo-framed reply (``end_turn``, ``max_tokens``
    applies); a tool step is one ``tool_use`` block with a fresh id ``toolu_01<random>`` per
    call, streamed like ``fake-tools``, ``stop_reason`` ``"tool_use"``.
``fake-agent-think``
    ``fake-agent`` with ``fake-think``'s ``thinking`` block (signature ``sig-fake-1``) first;
    the replay of that block is not checked.
``fake-error-<status>`` (400..599)
    That status with the Anthropic error type for it: 400 ``invalid_request_error``, 401
    ``authentication_error``, 402 ``billing_error``, 403 ``permission_error``, 404
    ``not_found_error``, 413 ``request_too_large``, 429 ``rate_limit_error`` (with
    ``retry-after: 1`` and the ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
    {limit,remaining,reset}`` headers), 500 ``api_error``, 504 ``timeout_error``, 529
    ``overloaded_error``; other 4xx ``invalid_request_error``, other 5xx ``api_error``.  A
    streaming request gets the same plain HTTP error, as before any stream starts.
``fake-error-429-bare``
    The 429 ``rate_limit_error`` without any hint of when to retry: no ``retry-after`` or
    ``anthropic-ratelimit-*`` headers.
``fake-limit-<seconds>``
    Echo, with headers saying the requests limit is spent: ``anthropic-ratelimit-requests-
    limit: 50``, ``-remaining: 0``, ``-reset``: now + <seconds> (RFC 3339).
``fake-slow-<seconds>``
    Waits that long before sending the response headers, then Echo.
``fake-drip-<ms>``
    Streaming: headers at once, then each SSE event written after another ``<ms>`` ms.
    Non-streaming: Echo.
``fake-cut``
    Streaming: ``message_start``, the text block's ``content_block_start``, ``ping`` and two
    ``text_delta`` events (the first two words of Echo), then the connection is closed mid-body
    (no ``message_stop``, no terminating chunk).  Non-streaming: the first half of the JSON body,
    then the same close.
``fake-empty``
    200 with ``content-type: application/json`` and an empty body (streaming or not).

A stream is ``message_start`` (the message with empty ``content``, ``stop_reason`` null and
``usage`` with the input counts and ``output_tokens`` 1), then per content block
``content_block_start`` / ``content_block_delta`` ... / ``content_block_stop`` with contiguous
indexes from 0 (one ``ping`` right after the first ``content_block_start``), then
``message_delta`` (``stop_reason``, ``stop_sequence`` null and the cumulative ``usage``) and
``message_stop``.

Usage: the input words are the whitespace-separated words of the system prompt and of every
message's text (text blocks and tool results; images, tool calls and thinking ignored);
``output_tokens`` the words of the reply (plus thinking words).  When the model name contains
``cached`` half of the input words (integer division) are reported as ``cache_read_input_tokens``
and ``input_tokens`` holds the rest, since the API's ``input_tokens`` excludes cache reads (total
input = input + cache creation + cache read).  ``cache_creation_input_tokens`` is 0 unless the
model name contains ``cache-write``: then a quarter of the input words (integer division).
``count_tokens`` answers the total input words (model-name behaviours do not apply to it).

With the request header ``x-fake-echo-headers: 1`` the Echo text is instead a JSON object of the
received headers (lower-cased names, sorted).

``FakeState.requests`` keeps the last 1000 requests (method, path, query, lower-cased headers,
parsed JSON body, raw bytes, peer); ``record=False`` stores nothing.

Run as a process for benchmarks::

    python -m tests.fakes.anthropic_upstream --port 8002 [--host H] [--api-key K] [--no-record]

It prints ``listening on http://127.0.0.1:8002`` once ready and uses uvloop if importable.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.agent_script import Turn, next_step, scripted_prompt
from tests.fakes.server import BARE_429, FakeServer, run_process

__all__ = [
    "DEFAULT_API_KEY",
    "MAX_RECORDED",
    "SIGNATURE",
    "FakeAnthropic",
    "FakeState",
    "RecordedRequest",
    "create_app",
    "main",
]

DEFAULT_API_KEY = "sk-ant-upstream-test"
MAX_RECORDED = 1000
SIGNATURE = "sig-fake-1"
ECHO_HEADERS_HEADER = "x-fake-echo-headers"
# anthropic-version values are dates (2023-06-01 is the long-standing one; the installed SDK
# sends newer ones), so any single YYYY-MM-DD is accepted and anything else refused.
_VERSION_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
# One piece per word: optional leading whitespace, the word, and trailing whitespace only at
# the very end, so the pieces always concatenate back to the whole text.
_PIECE_RE = re.compile(r"\s*\S+(?:\s+$)?|\s+$")
# Argument pieces roughly like tokens: runs of word characters and runs of the rest.
_ARG_PIECE_RE = re.compile(r"\w+|\W+")
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"

_IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
# Block types of the request that are accepted as they are (server tools and the like).
_UNCHECKED_BLOCKS = frozenset(
    {
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)
_TOOL_RESULT_BLOCKS = frozenset({"text", "image", "document", "search_result"})
_AGENT_MODELS = frozenset({"fake-agent", "fake-agent-think"})

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_PING = b'event: ping\ndata: {"type":"ping"}\n\n'
_MESSAGE_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    query: str = ""
    peer: tuple[str, int] | None = None  # the client's address: shows connection reuse


@dataclass
class FakeState:
    """Shared, mutable state of one fake upstream."""

    api_key: str = DEFAULT_API_KEY
    requests: list[RecordedRequest] = field(default_factory=list)
    record: bool = True


STATE_KEY: web.AppKey[FakeState] = web.AppKey("fake_anthropic_state", FakeState)
# Headers a behaviour adds to its response, whatever writes it (fake-limit-<seconds>).
EXTRA_HEADERS: web.RequestKey[dict[str, str]] = web.RequestKey("fake_extra_headers", dict)


class _Invalid(Exception):
    """A request the real API would refuse; becomes a 400 ``invalid_request_error``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- helpers


def _random_id(prefix: str, length: int = 22) -> str:
    raw = os.urandom(length)
    return prefix + "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in raw)


def _request_id() -> str:
    return _random_id("req_011C")


def _message_id() -> str:
    return _random_id("msg_01")


def _headers_dict(request: web.BaseRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _json_response(
    status: int,
    body: bytes,
    *,
    request_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> web.Response:
    headers = {"request-id": request_id or _request_id()}
    if extra_headers:
        headers.update(extra_headers)
    return web.Response(status=status, body=body, content_type=_JSON, headers=headers)


def _error_response(
    status: int,
    message: str,
    err_type: str | None = None,
    *,
    extra_headers: dict[str, str] | None = None,
) -> web.Response:
    if err_type is None:
        err_type = _ERROR_TYPES.get(
            status, "invalid_request_error" if status < 500 else "api_error"
        )
    request_id = _request_id()
    body = orjson.dumps(
        {
            "type": "error",
            "error": {"type": err_type, "message": message},
            "request_id": request_id,
        }
    )
    return _json_response(status, body, request_id=request_id, extra_headers=extra_headers)


def _invalid(message: str) -> web.Response:
    return _error_response(400, message, "invalid_request_error")


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


def _words(text: str) -> int:
    return len(text.split())


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rate_limit_headers() -> dict[str, str]:
    now = datetime.now(UTC)
    soon = _rfc3339(now + timedelta(seconds=1))
    minute = _rfc3339(now + timedelta(seconds=60))
    return {
        "retry-after": "1",
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": soon,
        "anthropic-ratelimit-tokens-limit": "48000",
        "anthropic-ratelimit-tokens-remaining": "47000",
        "anthropic-ratelimit-tokens-reset": minute,
        "anthropic-ratelimit-input-tokens-limit": "40000",
        "anthropic-ratelimit-input-tokens-remaining": "39000",
        "anthropic-ratelimit-input-tokens-reset": minute,
        "anthropic-ratelimit-output-tokens-limit": "8000",
        "anthropic-ratelimit-output-tokens-remaining": "8000",
        "anthropic-ratelimit-output-tokens-reset": minute,
    }


# --------------------------------------------------------------------------- request reading


def _blocks(content: Any) -> list[dict[str, Any]]:
    """The blocks of a (validated) content value: a string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _text_of(content: Any) -> str:
    """Text of a content value: the string, or its text blocks joined with single spaces."""
    if isinstance(content, str):
        return content
    return " ".join(b["text"] for b in _blocks(content) if b.get("type") == "text")


def _tool_result_text(block: dict[str, Any]) -> str:
    return _text_of(block.get("content", ""))


def _message_words(message: dict[str, Any]) -> int:
    content = message.get("content")
    words = _words(_text_of(content))
    for block in _blocks(content):
        if block.get("type") == "tool_result":
            words += _words(_tool_result_text(block))
    return words


def _input_words(body: dict[str, Any]) -> int:
    return _words(_text_of(body.get("system", ""))) + sum(
        _message_words(m) for m in body["messages"]
    )


def _last_user(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    for message in reversed(messages):
        if message["role"] == "user":
            return message
    return None


def _tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tool results of the last turn, if the last message is a user tool-result turn."""
    last = messages[-1]
    if last["role"] != "user":
        return []
    return [b for b in _blocks(last["content"]) if b.get("type") == "tool_result"]


def _lines_of(content: Any) -> str:
    """Text of a content value with its text blocks joined by newlines (for the agent
    script, whose ``SAY:`` / ``RUN:`` patterns are anchored at line starts)."""
    if isinstance(content, str):
        return content
    return "\n".join(
        b["text"]
        for b in _blocks(content)
        if b.get("type") == "text" and isinstance(b.get("text"), str)
    )


def _agent_turn(body: dict[str, Any]) -> Turn:
    """The request as the agent script sees it (``fake-agent``)."""
    user_texts: list[tuple[int, str]] = []
    results: list[tuple[int, str]] = []
    for index, message in enumerate(body["messages"]):
        if message["role"] != "user":
            continue
        user_texts.append((index, _lines_of(message["content"])))
        results.extend(
            (index, _lines_of(block.get("content", "")))
            for block in _blocks(message["content"])
            if block.get("type") == "tool_result"
        )
    prompt = scripted_prompt([text for _, text in user_texts])
    prompt_at = max((i for i, text in user_texts if text == prompt), default=-1)
    tools = body.get("tools")
    return Turn(
        user_texts=[text for _, text in user_texts],
        results_after_prompt=[text for i, text in results if i > prompt_at],
        tools=[
            (tool["name"], tool["input_schema"])
            for tool in (tools if isinstance(tools, list) else [])
            if tool.get("type") in (None, "custom")  # validated: a name and a schema
        ],
    )


def _image_notes(message: dict[str, Any] | None) -> str:
    if message is None:
        return ""
    notes: list[str] = []
    for block in _blocks(message["content"]):
        if block.get("type") != "image":
            continue
        source = block["source"]
        if source["type"] == "base64":
            size = len(base64.b64decode(source["data"]))
            notes.append(f" [image: {source['media_type']} {size} bytes]")
        elif source["type"] == "url":
            notes.append(f" [image: {source['url']}]")
        else:
            notes.append(f" [image: file {source['file_id']}]")
    return "".join(notes)


# --------------------------------------------------------------------------- validation


def _require_str(block: dict[str, Any], key: str, where: str) -> str:
    value = block.get(key)
    if key not in block:
        raise _Invalid(f"{where}.{key}: Field required")
    if not isinstance(value, str):
        raise _Invalid(f"{where}.{key}: Input should be a valid string")
    return value


def _check_cache_control(block: dict[str, Any], where: str) -> None:
    control = block.get("cache_control")
    if control is None:
        return
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        raise _Invalid(f"{where}.cache_control.type: Input should be 'ephemeral'")
    ttl = control.get("ttl")
    if ttl is not None and ttl not in ("5m", "1h"):
        raise _Invalid(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")


def _check_source(block: dict[str, Any], where: str, kinds: dict[str, tuple[str, ...]]) -> None:
    source = block.get("source")
    if "source" not in block:
        raise _Invalid(f"{where}.source: Field required")
    if not isinstance(source, dict):
        raise _Invalid(f"{where}.source: Input should be a valid dictionary")
    kind = source.get("type")
    if kind not in kinds:
        expected = ", ".join(f"'{k}'" for k in kinds)
        raise _Invalid(
            f"{where}.source: Input tag '{kind}' found using 'type' does not match any of the "
            f"expected tags: {expected}"
        )
    here = f"{where}.source.{kind}"
    for key in kinds[kind]:
        _require_str(source, key, here)
    if kind == "base64":
        try:
            base64.b64decode(source["data"], validate=True)
        except (binascii.Error, ValueError):
            raise _Invalid(f"{here}.data: The data is not valid base64.") from None


_IMAGE_SOURCES: dict[str, tuple[str, ...]] = {
    "base64": ("media_type", "data"),
    "url": ("url",),
    "file": ("file_id",),
}
_DOCUMENT_SOURCES: dict[str, tuple[str, ...]] = {
    "base64": ("media_type", "data"),
    "text": ("media_type", "data"),
    "url": ("url",),
    "content": (),
    "file": ("file_id",),
}


def _check_image(block: dict[str, Any], where: str) -> None:
    _check_source(block, where, _IMAGE_SOURCES)
    source = block["source"]
    if source["type"] == "base64" and source["media_type"] not in _IMAGE_MEDIA_TYPES:
        expected = ", ".join(f"'{m}'" for m in _IMAGE_MEDIA_TYPES)
        raise _Invalid(f"{where}.source.base64.media_type: Input should be {expected}")


def _check_text(block: dict[str, Any], where: str, area: str) -> str:
    text = _require_str(block, "text", where)
    if text == "":
        raise _Invalid(f"{area}: text content blocks must be non-empty")
    return text


def _check_tool_result(block: dict[str, Any], where: str) -> None:
    _require_str(block, "tool_use_id", where)
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise _Invalid(f"{where}.is_error: Input should be a valid boolean")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _Invalid(f"{where}.content: Input should be a valid string or a valid list")
    for k, inner in enumerate(content):
        here = f"{where}.content.{k}"
        if not isinstance(inner, dict):
            raise _Invalid(f"{here}: Input should be a valid dictionary")
        kind = inner.get("type")
        if kind not in _TOOL_RESULT_BLOCKS:
            raise _Invalid(
                f"{here}: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags: 'text', 'image', 'document', 'search_result'"
            )
        if kind == "text":
            _require_str(inner, "text", here)  # empty text is fine inside a tool result
        elif kind == "image":
            _check_image(inner, here)
        elif kind == "document":
            _check_source(inner, here, _DOCUMENT_SOURCES)
        _check_cache_control(inner, here)


def _check_block(block: Any, where: str) -> str:
    """Validates one content block of a message; returns its type."""
    if not isinstance(block, dict):
        raise _Invalid(f"{where}: Input should be a valid dictionary")
    kind = block.get("type")
    if kind == "text":
        _check_text(block, where, "messages")
    elif kind == "image":
        _check_image(block, where)
    elif kind == "document":
        _check_source(block, where, _DOCUMENT_SOURCES)
    elif kind == "tool_use":
        _require_str(block, "id", where)
        _require_str(block, "name", where)
        if not isinstance(block.get("input"), dict):
            raise _Invalid(f"{where}.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        _check_tool_result(block, where)
    elif kind == "thinking":
        _require_str(block, "thinking", where)
        _require_str(block, "signature", where)
    elif kind == "redacted_thinking":
        _require_str(block, "data", where)
    elif kind not in _UNCHECKED_BLOCKS:
        raise _Invalid(
            f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected "
            "tags"
        )
    _check_cache_control(block, where)
    return str(kind)


def _check_message(message: Any, index: int) -> None:
    where = f"messages.{index}"
    if not isinstance(message, dict):
        raise _Invalid(f"{where}: Input should be a valid dictionary")
    role = message.get("role")
    if role == "system" and index > 0:
        # Mid-conversation system messages are accepted after the first turn (Claude Code
        # sends them); they must be text.
        content = message.get("content")
        if not isinstance(content, str | list) or not content:
            raise _Invalid(f"{where}.content: system messages must have text content")
        if isinstance(content, list):
            for j, block in enumerate(content):
                if not isinstance(block, dict) or block.get("type") != "text":
                    raise _Invalid(f"{where}.content.{j}: system messages take text blocks only")
        return
    if role not in ("user", "assistant"):
        raise _Invalid(f"{where}.role: Input should be 'user', 'assistant' or 'system'")
    if "content" not in message:
        raise _Invalid(f"{where}.content: Field required")
    content = message["content"]
    if isinstance(content, str):
        if content == "":
            if role == "user":
                raise _Invalid(f"{where}: user messages must have non-empty content")
        elif not content.strip():
            raise _Invalid("messages: text content blocks must contain non-whitespace text")
        return
    if not isinstance(content, list):
        raise _Invalid(f"{where}.content: Input should be a valid string or a valid list")
    if not content and role == "user":
        raise _Invalid(f"{where}: user messages must have non-empty content")
    kinds = [_check_block(block, f"{where}.content.{j}") for j, block in enumerate(content)]
    if kinds and all(k == "text" for k in kinds) and not any(b["text"].strip() for b in content):
        raise _Invalid("messages: text content blocks must contain non-whitespace text")


def _check_system(system: Any) -> None:
    if system is None:
        return
    if isinstance(system, str):
        if system and not system.strip():
            raise _Invalid("system: text content blocks must contain non-whitespace text")
        return
    if not isinstance(system, list):
        raise _Invalid("system: Input should be a valid string or a valid list")
    for j, block in enumerate(system):
        where = f"system.{j}"
        if not isinstance(block, dict):
            raise _Invalid(f"{where}: Input should be a valid dictionary")
        if block.get("type") != "text":
            raise _Invalid(f"{where}.type: Input should be 'text'")
        _check_text(block, where, "system")
        _check_cache_control(block, where)
    if system and not any(b["text"].strip() for b in system):
        raise _Invalid("system: text content blocks must contain non-whitespace text")


@dataclass
class _Turn:
    """Consecutive same-role messages, combined as the API does."""

    index: int  # of the turn's first message
    role: str
    blocks: list[tuple[int, int, dict[str, Any]]]  # (message index, block index, block)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [block for _, _, block in self.blocks if block.get("type") == kind]


def _turns(messages: list[dict[str, Any]]) -> list[_Turn]:
    turns: list[_Turn] = []
    for index, message in enumerate(messages):
        blocks = [(index, j, block) for j, block in enumerate(_blocks(message["content"]))]
        if turns and turns[-1].role == message["role"]:
            turns[-1].blocks.extend(blocks)
        else:
            turns.append(_Turn(index, message["role"], blocks))
    return turns


def _check_tool_pairing(messages: list[dict[str, Any]]) -> None:
    turns = _turns(messages)
    for position, turn in enumerate(turns):
        if turn.role == "assistant":
            calls = [b["id"] for b in turn.of_type("tool_use")]
            if not calls or position + 1 == len(turns):
                continue
            answered = {b["tool_use_id"] for b in turns[position + 1].of_type("tool_result")}
            missing = [c for c in calls if c not in answered]
            if missing:
                raise _Invalid(
                    f"messages.{turn.index}: `tool_use` ids were found without `tool_result` "
                    f"blocks immediately after: {', '.join(missing)}. Each `tool_use` block must "
                    "have a corresponding `tool_result` block in the next message."
                )
            continue
        previous: set[str] = set()
        if position > 0:
            previous = {b["id"] for b in turns[position - 1].of_type("tool_use")}
        for index, j, block in turn.blocks:
            if block.get("type") == "tool_result" and block["tool_use_id"] not in previous:
                raise _Invalid(
                    f"messages.{index}.content.{j}: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {block['tool_use_id']}. Each `tool_result` block "
                    "must have a corresponding `tool_use` block in the previous message."
                )


def _check_thinking(body: dict[str, Any], max_tokens: int | None) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    if not isinstance(thinking, dict):
        raise _Invalid("thinking: Input should be a valid dictionary")
    kind = thinking.get("type")
    if kind not in ("enabled", "disabled", "adaptive"):
        raise _Invalid(
            f"thinking: Input tag '{kind}' found using 'type' does not match any of the "
            "expected tags: 'enabled', 'disabled', 'adaptive'"
        )
    if kind != "enabled":
        return
    budget = thinking.get("budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise _Invalid("thinking.enabled.budget_tokens: Field required")
    if budget < 1024:
        raise _Invalid(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        )
    if max_tokens is not None and max_tokens <= budget:
        raise _Invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise _Invalid("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        where = f"tools.{i}"
        if not isinstance(tool, dict):
            raise _Invalid(f"{where}: Input should be a valid dictionary")
        if tool.get("type") in (None, "custom"):
            _require_str(tool, "name", f"{where}.custom")
            if not isinstance(tool.get("input_schema"), dict):
                raise _Invalid(f"{where}.custom.input_schema: Field required")


@dataclass
class _Call:
    """What a Messages request asked for, once validated."""

    body: dict[str, Any]
    model: str
    messages: list[dict[str, Any]]
    stream: bool
    limit: int | None
    input_words: int


def _validate(body: dict[str, Any], *, needs_max_tokens: bool) -> _Call:
    """Raises ``_Invalid`` the way the real API would refuse the request."""
    model = body.get("model")
    if "model" not in body:
        raise _Invalid("model: Field required")
    if not isinstance(model, str) or not model:
        raise _Invalid("model: Input should be a valid string")
    limit: int | None = None
    if needs_max_tokens:
        if "max_tokens" not in body:
            raise _Invalid("max_tokens: Field required")
        value = body["max_tokens"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid("max_tokens: Input should be a valid integer")
        if value < 0:
            raise _Invalid("max_tokens: Input should be greater than or equal to 0")
        limit = value
    if "messages" not in body:
        raise _Invalid("messages: Field required")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise _Invalid("messages: Input should be a valid list")
    if not messages:
        raise _Invalid("messages: at least one message is required")
    for index, message in enumerate(messages):
        _check_message(message, index)
    if messages[0]["role"] != "user":
        raise _Invalid('messages: first message must use the "user" role')
    messages = [m for m in messages if m["role"] != "system"]  # the conversation proper
    _check_system(body.get("system"))
    _check_tools(body)
    _check_tool_pairing(messages)
    _check_thinking(body, limit)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _Invalid("stream: Input should be a valid boolean")
    return _Call(body, model, messages, stream, limit, _input_words(body))


def _check_replayed_thinking(messages: list[dict[str, Any]]) -> None:
    """``fake-think-tools`` after a tool result: the calling turn must replay its thinking."""
    turns = _turns(messages)
    if len(turns) < 2 or turns[-2].role != "assistant":
        raise _Invalid(
            "messages: the tool result must follow the assistant turn that made the call, "
            f"replayed with its `thinking` block and `signature` ({SIGNATURE!r})."
        )
    calling = turns[-2]
    for index, j, block in calling.blocks:
        kind = block.get("type")
        if kind == "tool_use":
            break
        if kind == "redacted_thinking":
            raise _Invalid(
                f"messages.{index}.content.{j}: this fake upstream never redacts thinking; "
                f"expected its `thinking` block with `signature` {SIGNATURE!r}"
            )
        if kind == "thinking":
            if block.get("signature") == SIGNATURE:
                return
            raise _Invalid(f"messages.{index}.content.{j}: Invalid `signature` in `thinking` block")
    found = calling.blocks[0][2].get("type") if calling.blocks else "nothing"
    raise _Invalid(
        f"messages.{calling.index}.content.0.type: Expected `thinking` or `redacted_thinking`, "
        f"but found `{found}`. When `thinking` is enabled, a final `assistant` message must "
        "start with a thinking block (preceeding the lastmost set of `tool_use` and "
        "`tool_result` blocks), replayed unchanged with its `signature`."
    )


# --------------------------------------------------------------------------- replies


@dataclass
class _Reply:
    """The content of one assistant message and what goes with it."""

    blocks: list[dict[str, Any]]
    stop_reason: str
    output_tokens: int
    thinking_tokens: int | None = None


def _tool_targets(body: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        if tool.get("type") not in (None, "custom"):
            continue  # a server tool: the model would not call it with tool_use
        schema = tool.get("input_schema")
        props = schema.get("properties") if isinstance(schema, dict) else None
        key = next(iter(props), "city") if isinstance(props, dict) and props else "city"
        found.append((tool["name"], key))
        if len(found) == 2:
            break
    if not found:
        found = [("get_weather", "city"), ("get_time", "city")]
    elif len(found) == 1:
        found.append(found[0])
    return found


def _tool_blocks(body: dict[str, Any], count: int) -> tuple[list[dict[str, Any]], int]:
    """``count`` tool_use blocks and the number of argument fragments they stream as."""
    blocks: list[dict[str, Any]] = []
    fragments = 0
    for i, ((name, key), value) in enumerate(
        zip(_tool_targets(body), ("Paris", "Tokyo"), strict=True)
    ):
        if i == count:
            break
        tool_input = {key: value}
        fragments += len(_ARG_PIECE_RE.findall(orjson.dumps(tool_input).decode()))
        blocks.append(
            {"type": "tool_use", "id": f"toolu_fake_{i + 1}", "name": name, "input": tool_input}
        )
    return blocks, fragments


def _thinking_block(call: _Call) -> dict[str, Any]:
    last_user = _last_user(call.messages)
    text = "Thinking about: " + (_text_of(last_user["content"]) if last_user else "")
    return {"type": "thinking", "thinking": text, "signature": SIGNATURE}


def _wants_json(body: dict[str, Any]) -> bool:
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else body.get("output_format")
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def _echo_text(request: web.Request, call: _Call) -> str:
    if request.headers.get(ECHO_HEADERS_HEADER) == "1":
        return orjson.dumps(_headers_dict(request), option=orjson.OPT_SORT_KEYS).decode()
    last_user = _last_user(call.messages)
    if _wants_json(call.body):  # structured outputs: output_config.format (or output_format)
        echo = _text_of(last_user["content"]) if last_user else ""
        return orjson.dumps({"echo": echo}).decode()
    results = _tool_results(call.messages)
    if results:
        said = " | ".join(
            ("error: " if r.get("is_error") else "") + _tool_result_text(r) for r in results
        )
        text = "Tool said: " + said
    else:
        text = "Echo: " + (_text_of(last_user["content"]) if last_user else "")
    return text + _image_notes(last_user)


def _echo_reply(
    request: web.Request, call: _Call, thinking: dict[str, Any] | None, text: str | None = None
) -> _Reply:
    """A text reply (``text``, else Echo's), after the ``thinking`` block if any."""
    pieces = _PIECE_RE.findall(_echo_text(request, call) if text is None else text)
    stop_reason = "end_turn"
    if call.limit is not None and len(pieces) > call.limit:
        pieces = pieces[: call.limit]
        stop_reason = "max_tokens"
    blocks: list[dict[str, Any]] = []
    thinking_tokens: int | None = None
    if thinking is not None:
        blocks.append(thinking)
        thinking_tokens = _words(thinking["thinking"])
    if pieces:
        blocks.append({"type": "text", "text": "".join(pieces)})
    return _Reply(blocks, stop_reason, len(pieces) + (thinking_tokens or 0), thinking_tokens)


def _agent_reply(request: web.Request, call: _Call) -> _Reply:
    """``fake-agent`` / ``fake-agent-think``: the next step of the prompt's script."""
    step = next_step(_agent_turn(call.body))
    thinking = _thinking_block(call) if call.model == "fake-agent-think" else None
    if step.tool is None:
        return _echo_reply(request, call, thinking, step.text or "")
    tool_input = step.arguments or {}
    call_id = _random_id("toolu_01")
    block = {"type": "tool_use", "id": call_id, "name": step.tool, "input": tool_input}
    fragments = len(_ARG_PIECE_RE.findall(orjson.dumps(tool_input).decode()))
    if thinking is None:
        return _Reply([block], "tool_use", fragments)
    thinking_tokens = _words(thinking["thinking"])
    return _Reply([thinking, block], "tool_use", fragments + thinking_tokens, thinking_tokens)


def _plan(request: web.Request, call: _Call) -> _Reply:
    """What the model says, by model name; raises ``_Invalid`` for a bad replay."""
    model = call.model
    if model in _AGENT_MODELS:
        return _agent_reply(request, call)
    tool_turn = bool(_tool_results(call.messages))
    if model == "fake-tools" and not tool_turn:
        blocks, fragments = _tool_blocks(call.body, 2)
        return _Reply(blocks, "tool_use", fragments)
    if model == "fake-think":
        return _echo_reply(request, call, _thinking_block(call))
    if model == "fake-think-tools":
        if tool_turn:
            _check_replayed_thinking(call.messages)
            return _echo_reply(request, call, None)
        thinking = _thinking_block(call)
        blocks, fragments = _tool_blocks(call.body, 1)
        thinking_tokens = _words(thinking["thinking"])
        return _Reply([thinking, *blocks], "tool_use", fragments + thinking_tokens, thinking_tokens)
    return _echo_reply(request, call, None)


def _usage(call: _Call, reply: _Reply | None, *, at_start: bool = False) -> dict[str, Any]:
    total = call.input_words
    cached = total // 2 if "cached" in call.model else 0
    written = total // 4 if "cache-write" in call.model else 0
    usage: dict[str, Any] = {
        "input_tokens": total - cached - written,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": 1 if at_start or reply is None else reply.output_tokens,
    }
    if not at_start and reply is not None and reply.thinking_tokens is not None:
        usage["output_tokens_details"] = {"thinking_tokens": reply.thinking_tokens}
    return usage


def _message_body(message_id: str, call: _Call, reply: _Reply) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": reply.blocks,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage(call, reply),
    }


def _message_start(message_id: str, call: _Call) -> bytes:
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(call, None, at_start=True),
    }
    return _event("message_start", {"type": "message_start", "message": message})


def _block_stream(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``content_block_start`` payload of a finished block and the deltas that build it."""
    kind = block["type"]
    if kind == "text":
        pieces = _PIECE_RE.findall(block["text"])
        return {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces]
    if kind == "thinking":
        pieces = _PIECE_RE.findall(block["thinking"])
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return {"type": "thinking", "thinking": "", "signature": ""}, deltas
    start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
    arguments = orjson.dumps(block["input"]).decode()
    deltas = [{"type": "input_json_delta", "partial_json": ""}]
    deltas.extend(
        {"type": "input_json_delta", "partial_json": p} for p in _ARG_PIECE_RE.findall(arguments)
    )
    return start, deltas


def _block_events(index: int, block: dict[str, Any], *, limit: int | None = None) -> list[bytes]:
    """``content_block_start`` (+ ``ping`` for the first block) and the block's deltas."""
    start, deltas = _block_stream(block)
    events = [
        _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    if index == 0:
        events.append(_PING)
    events.extend(
        _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas[:limit]
    )
    return events


def _stream_events(message_id: str, call: _Call, reply: _Reply) -> list[bytes]:
    events = [_message_start(message_id, call)]
    if not reply.blocks:
        events.append(_PING)
    for index, block in enumerate(reply.blocks):
        events.extend(_block_events(index, block))
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": None}
    events.append(
        _event(
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": _usage(call, reply)},
        )
    )
    events.append(_MESSAGE_STOP)
    return events


async def _stream(
    request: web.Request, events: Sequence[bytes], drip: float | None
) -> web.StreamResponse:
    response = web.StreamResponse(
        status=200, headers={"Content-Type": _SSE, "request-id": _request_id()}
    )
    await response.prepare(request)
    if drip is None:
        await response.write(b"".join(events))
    else:
        for event in events:
            await asyncio.sleep(drip)
            await response.write(event)
    await response.write_eof()
    return response


def _rate_limit_message(model: str) -> str:
    return (
        f"This request would exceed the rate limit for your organization of 50 requests per "
        f"minute for model '{model}'. For details, refer to the response headers."
    )


def _fake_error(status: int, model: str) -> web.Response:
    if status == 401:
        return _error_response(401, "invalid x-api-key")
    if status == 404:
        return _error_response(404, f"model: {model}")
    if status == 413:
        return _error_response(413, "Request exceeds the maximum allowed number of bytes.")
    if status == 429:
        return _error_response(429, _rate_limit_message(model), extra_headers=_rate_limit_headers())
    if status == 500:
        return _error_response(500, "Internal server error")
    if status == 529:
        return _error_response(529, "Overloaded")
    return _error_response(status, f"Fake upstream error {status} for model '{model}'.")


# --------------------------------------------------------------------------- handlers


class _Handlers:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    # -- plumbing ------------------------------------------------------------

    def _record(self, request: web.Request, raw: bytes, body: Any) -> None:
        requests = self.state.requests
        requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                headers=_headers_dict(request),
                body=body,
                raw=raw,
                query=request.query_string,
                peer=request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        if len(requests) > MAX_RECORDED:
            del requests[: len(requests) - MAX_RECORDED]

    def _denied(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("x-api-key")
        if key is not None:
            if key != self.state.api_key:
                return _error_response(401, "invalid x-api-key", "authentication_error")
        else:
            # The documented header is x-api-key, but the official Python SDK (2.x) sends an
            # api_key as "Authorization: Bearer <key>", so that is accepted too.
            header = request.headers.get("Authorization", "")
            if not header:
                return _error_response(401, "x-api-key header is required", "authentication_error")
            if header != "Bearer " + self.state.api_key:
                return _error_response(401, "Invalid bearer token", "authentication_error")
        version = request.headers.get("anthropic-version")
        if version is None:
            return _invalid("anthropic-version: header is required")
        if not _VERSION_RE.fullmatch(version):
            return _invalid(f'anthropic-version: "{version}" is not a valid version')
        return None

    async def _read(self, request: web.Request, *, needs_max_tokens: bool) -> _Call | web.Response:
        raw = await request.read()
        body: Any = None
        problem: str | None = None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problem = str(exc)
        if self.state.record:
            self._record(request, raw, body)
        denied = self._denied(request)
        if denied is not None:
            return denied
        if problem is not None:
            return _invalid(f"The request body is not valid JSON: {problem}")
        if not isinstance(body, dict):
            return _invalid("The request body must be a JSON object.")
        try:
            return _validate(body, needs_max_tokens=needs_max_tokens)
        except _Invalid as exc:
            return _invalid(exc.message)

    # -- routes --------------------------------------------------------------

    async def not_found(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.state.record:
            body: Any = None
            with contextlib.suppress(orjson.JSONDecodeError):
                body = orjson.loads(raw) if raw else None
            self._record(request, raw, body)
        return _error_response(404, "Not Found", "not_found_error")

    async def count_tokens(self, request: web.Request) -> web.Response:
        call = await self._read(request, needs_max_tokens=False)
        if isinstance(call, web.Response):
            return call
        return _json_response(200, orjson.dumps({"input_tokens": call.input_words}))

    async def messages(self, request: web.Request) -> web.StreamResponse:
        call = await self._read(request, needs_max_tokens=True)
        if isinstance(call, web.Response):
            return call
        model = call.model
        drip: float | None = None
        if model == "fake-empty":
            return _json_response(200, b"")
        if model == BARE_429:
            return _error_response(429, _rate_limit_message(model))
        if model.startswith("fake-limit-"):
            seconds = _parse_number(model[len("fake-limit-") :])
            if seconds is not None:
                reset = _rfc3339(datetime.now(UTC) + timedelta(seconds=seconds))
                request[EXTRA_HEADERS] = {
                    "anthropic-ratelimit-requests-limit": "50",
                    "anthropic-ratelimit-requests-remaining": "0",
                    "anthropic-ratelimit-requests-reset": reset,
                }
        if model.startswith("fake-error-"):
            status_text = model[len("fake-error-") :]
            if status_text.isdigit() and 400 <= int(status_text) <= 599:
                return _fake_error(int(status_text), model)
        elif model.startswith("fake-slow-"):
            seconds = _parse_number(model[len("fake-slow-") :])
            if seconds is not None:
                await asyncio.sleep(seconds)
        elif model.startswith("fake-drip-"):
            ms = _parse_number(model[len("fake-drip-") :])
            if ms is not None and call.stream:
                drip = ms / 1000
        if model == "fake-cut":
            return await self._cut(request, call)
        try:
            reply = _plan(request, call)
        except _Invalid as exc:
            return _invalid(exc.message)
        message_id = _message_id()
        if not call.stream:
            return _json_response(200, orjson.dumps(_message_body(message_id, call, reply)))
        return await _stream(request, _stream_events(message_id, call, reply), drip)

    # -- behaviours ----------------------------------------------------------

    async def _cut(self, request: web.Request, call: _Call) -> web.StreamResponse:
        pieces = _PIECE_RE.findall(_echo_text(request, call))[:2]
        while len(pieces) < 2:
            pieces.append(" ...")
        text_block = {"type": "text", "text": "".join(pieces)}
        response = web.StreamResponse(status=200, headers={"request-id": _request_id()})
        message_id = _message_id()
        if call.stream:
            response.headers["Content-Type"] = _SSE
            payload = _message_start(message_id, call)
            payload += b"".join(_block_events(0, text_block, limit=2))
        else:
            response.content_type = _JSON
            reply = _Reply([text_block], "end_turn", 2)
            whole = orjson.dumps(_message_body(message_id, call, reply))
            payload = whole[: len(whole) // 2]
        await response.prepare(request)
        await response.write(payload)
        transport = request.transport
        if transport is not None:
            # close() flushes what was written, then sends FIN: the client sees a body that
            # stops in the middle (no message_stop, no terminating zero-length chunk).
            transport.close()
        return response


# --------------------------------------------------------------------------- public API


async def _extra_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(request.get(EXTRA_HEADERS, {}))


def create_app(state: FakeState) -> web.Application:
    """The aiohttp application of a fake Anthropic upstream backed by ``state``."""
    handlers = _Handlers(state)
    app = web.Application(client_max_size=64 * 1024 * 1024)  # real upstreams take big contexts
    app[STATE_KEY] = state
    app.on_response_prepare.append(_extra_headers)
    app.router.add_post("/v1/messages", handlers.messages)
    app.router.add_post("/v1/messages/count_tokens", handlers.count_tokens)
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    return app


class FakeAnthropic(FakeServer):
    """Runs a fake upstream on a real socket; use as ``async with FakeAnthropic() as fake:``."""

    name = "anthropic"
    default_key = DEFAULT_API_KEY
    base_path = ""
    state: FakeState

    def make_state(self, api_key: str, record: bool) -> FakeState:
        return FakeState(api_key=api_key, record=record)

    def make_app(self) -> web.Application:
        return create_app(self.state)


def main(argv: Sequence[str] | None = None) -> int:
    return run_process(
        FakeAnthropic,
        "tests.fakes.anthropic_upstream",
        "Fake Anthropic Messages API upstream for tests and benchmarks.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
