"""A fake Gemini API upstream that speaks the ``generativelanguage`` REST wire format.

Used by integration tests and benchmarks in place of ``generativelanguage.googleapis.com``.
It listens on a real socket (``FakeGemini`` picks a free port on 127.0.0.1); ``base_url`` is
the server root, clients append ``/v1beta/models/...`` (or ``/v1/...``: both versions are
served the same way, and the official ``google-genai`` SDK defaults to ``v1``).  It serves:

* ``POST /{v}/models/{model}:generateContent`` -- one ``GenerateContentResponse``;
* ``POST /{v}/models/{model}:streamGenerateContent?alt=sse`` -- ``text/event-stream``, one
  ``data: <GenerateContentResponse JSON>\\r\\n\\r\\n`` event per chunk and no terminator
  event (the stream just ends);
* ``POST /{v}/models/{model}:streamGenerateContent`` (no ``alt``, or ``alt=json``) -- the
  same chunks as one JSON array written incrementally: ``[`` + chunk, then
  ``\\n,\\r\\n`` + chunk for each further chunk, then ``\\n]``; each chunk pretty-printed with
  two-space indentation, as Google frames it;
* ``POST /{v}/models/{model}:countTokens`` -- ``{"totalTokens": N, "promptTokensDetails":
  [...]}`` for ``contents`` or ``generateContentRequest``;
* ``GET /{v}/models`` (``{"models": [...], "nextPageToken"?}``, honouring ``pageSize`` and
  ``pageToken``) and ``GET /{v}/models/{model}``: model objects named ``models/<id>``;
* anything else: 404 with Google's HTML "Error 404 (Not Found)" page.

The ``{model}`` segment may be percent-encoded (``fake%2Dtools``, ``...%3AgenerateContent``).
Request bodies are read the way Google's proto-JSON parser reads them: every field may be
spelled lowerCamelCase or snake_case (the SDK itself sends ``inlineData.mime_type`` and
``thinkingConfig.include_thoughts``).  An unknown top-level field, a ``contents`` entry with a
role other than ``user``/``model``, missing or empty ``contents``/``parts``, or a bytes field
(``inlineData.data``, ``thoughtSignature``) that is not valid base64 gives Google's 400.

Auth: the ``x-goog-api-key`` header, else the ``key`` query parameter, must equal the API
key.  A wrong key gives what Google gives: **400** ``INVALID_ARGUMENT`` "API key not valid.
Please pass a valid API key." with an ``ErrorInfo`` (reason ``API_KEY_INVALID``) and a
``LocalizedMessage`` detail; no key at all gives 403 ``PERMISSION_DENIED`` ("Method doesn't
allow unregistered callers ...").  Every error body is Google's ``{"error": {"code",
"message", "status", "details"?}}``, pretty-printed; on a JSON-array stream request it is
wrapped in a one-element array (``[{...}\\n]``), as Google does; on ``alt=sse`` it is a plain
JSON body.  Successful JSON bodies are pretty-printed (two-space indent, trailing newline) with
``content-type: application/json; charset=UTF-8``.

Every reply is a ``GenerateContentResponse``: ``candidates[0]`` = ``{"content": {"parts":
[...], "role": "model"}, "finishReason"?, "index": 0}``, ``usageMetadata``, ``modelVersion``
(the model id) and ``responseId``.  ``usageMetadata`` follows proto3 JSON, so zero counts are
left out: ``promptTokenCount``, ``candidatesTokenCount``, ``totalTokenCount`` (prompt +
candidates + thoughts), ``cachedContentTokenCount`` (models whose name contains ``cached``:
half the prompt, rounded down), ``promptTokensDetails``/``cacheTokensDetails``
(``[{"modality": "TEXT", "tokenCount": N}]``) and ``thoughtsTokenCount``.  Streams carry
``usageMetadata`` on *every* chunk with the running ``candidatesTokenCount`` (as Google does);
the last chunk carries ``finishReason`` and the final counts.

Token counting: prompt tokens = whitespace-separated words of the text of every content
(text parts joined with spaces; thought parts excluded; a ``functionResponse`` counts as its
result text, see below) plus the ``systemInstruction`` text.

Behaviour is chosen by the model id (see ``tests/fakes/BEHAVIOUR.md``):

``<any other model>``
    Echo: ``"Echo: " + <text of the last user message>`` (the last ``user`` content without
    ``functionResponse`` parts).  When the last content holds ``functionResponse`` parts the
    reply is ``"Tool said: " + <results joined with " | ">``; a result's text is
    ``response.error`` (prefixed ``"error: "``), else ``response.output``, else the only
    value of a one-key response if it is a string, else the compact JSON of ``response``.
    For each ``inlineData`` image in the last user message `` [image: <mimeType> <n> bytes]``
    is appended (n = decoded bytes); for each ``fileData`` image `` [image: <fileUri>]``.
    With ``generationConfig.responseMimeType`` ``application/json`` the reply text is the
    compact JSON ``{"echo":"<text of the last user message>"}`` instead.  Streaming: one
    chunk per word (each word keeps its leading space).  ``finishReason`` ``STOP``; with
    ``generationConfig.maxOutputTokens`` below the word count the reply is cut to that many
    words and ends with ``MAX_TOKENS``.  ``candidatesTokenCount`` = words of the reply.
``fake-tools``
    Two ``functionCall`` parts in one chunk (Gemini sends calls whole), ids ``call_fake_1``
    and ``call_fake_2``, to the first two ``functionDeclarations`` of the request (the first
    one twice if only one; ``get_weather`` and ``get_time`` if none; only those named in
    ``toolConfig.functionCallingConfig.allowedFunctionNames`` when given).  ``args`` are
    ``{"<key>": "Paris"}`` then ``{"<key>": "Tokyo"}``, ``<key>`` being the first property of
    the declaration's ``parameters`` or ``parametersJsonSchema`` (``city`` if none).
    ``finishReason`` ``STOP``; ``candidatesTokenCount`` = argument pieces (as the OpenAI
    fake).  Echo instead when the last content is a tool result or the calling mode is
    ``NONE``.
``fake-think``
    A thought part ``{"text": "Thinking about: <text of the last user message>", "thought":
    true}``, then the Echo reply whose (last) part carries ``thoughtSignature``
    ``THOUGHT_SIGNATURE_WIRE``: the base64 of ``b"sig-fake-1"`` (``"c2lnLWZha2UtMQ=="``) --
    the field is ``bytes`` in Google's schema, so its JSON form must be base64 (the SDK
    exposes ``Part.thought_signature == b"sig-fake-1"``).  Streaming: the thought in the first
    chunk, the signature on the last answer chunk's part (Google: "the last part").
    ``thoughtsTokenCount`` = words of the thought.  ``thinkingConfig`` is not applied.
``fake-think-tools``
    The thought part, then **one** ``functionCall`` (the first one of ``fake-tools``) whose
    part carries the signature.  When the last content is a tool result, the latest ``model``
    content holding a ``functionCall`` must carry a ``thoughtSignature`` that decodes to
    ``b"sig-fake-1"`` (on any of its parts); otherwise 400 ``INVALID_ARGUMENT`` "Function call
    is missing a thought_signature in functionCall parts. ..." (or "Corrupted thought
    signature." for another value).  With a valid history it answers like ``fake-think``.
``fake-agent``
    Plays the script of ``tests/fakes/agent_script.py`` (``SAY:`` / ``RUN:`` lines anywhere
    in a user content), one step per request.  The script sees every ``user`` content's text
    parts (joined with newlines; thoughts and ``functionResponse`` parts left out), the
    results of the ``functionResponse`` parts in contents after the newest scripted user
    content (``response.output``, else ``result``, else ``content``, else its only value if
    that is a string, else the compact JSON of ``response``), and the function declarations
    (name and ``parameters`` / ``parametersJsonSchema``, with Gemini's upper-case type names
    lowered; ``allowedFunctionNames`` and mode ``NONE`` apply).  A text step is an
    Echo-framed reply (``STOP``, ``maxOutputTokens`` applies); a tool step is one
    ``functionCall`` part with a fresh id ``call_<hex>`` per call (``finishReason`` ``STOP``).
``fake-agent-think``
    ``fake-agent`` with ``fake-think``'s thought part first and the signature on the step's
    (last) part; the replay of that signature is not checked.
``fake-error-<status>`` (400..599)
    That status with Google's body and canonical status: 400 ``INVALID_ARGUMENT``, 401
    ``UNAUTHENTICATED``, 403 ``PERMISSION_DENIED``, 404 ``NOT_FOUND``, 409 ``ABORTED``, 429
    ``RESOURCE_EXHAUSTED`` (details ``QuotaFailure``, ``Help`` and ``RetryInfo`` with
    ``retryDelay`` ``"1s"``; no ``retry-after`` header: Google sends none), 499
    ``CANCELLED``, 500 ``INTERNAL``, 501 ``UNIMPLEMENTED``, 503 ``UNAVAILABLE``, 504
    ``DEADLINE_EXCEEDED``, anything else ``UNKNOWN``.  Also for ``countTokens``.
``fake-error-429-bare``
    The 429 ``RESOURCE_EXHAUSTED`` without any hint of when to retry: no ``RetryInfo``
    detail and no "Please retry in" in the message.
``fake-slow-<seconds>``
    Waits that long before sending the response headers, then Echo.
``fake-drip-<ms>``
    Streaming: headers at once, then each chunk written ``<ms>`` ms after the one before.
    Non-streaming: Echo.
``fake-cut``
    Streaming: the chunks of the first two words of the Echo reply, then the connection is
    closed mid-body (no closing ``]``, no final zero-length chunk of the chunked encoding).
    Non-streaming: the first half of the JSON body, then the same close.
``fake-empty``
    200 with ``content-type: application/json; charset=UTF-8`` and an empty body.

With the request header ``x-fake-echo-headers: 1`` the Echo text is the JSON of the received
headers (lower-cased names, sorted).

``FakeState.requests`` keeps the last 1000 requests (method, path, query, lower-cased headers,
parsed JSON body, raw bytes, peer); ``record=False`` stores nothing.

Run as a process for benchmarks::

    python -m tests.fakes.gemini_upstream --port 8003 [--host 127.0.0.1] [--api-key K] [--no-record]

It prints ``listening on http://127.0.0.1:8003`` once ready and uses uvloop if importable.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from tests.fakes.agent_script import Turn, next_step, scripted_prompt
from tests.fakes.server import BARE_429, FakeServer, run_process

__all__ = [
    "DEFAULT_API_KEY",
    "MAX_RECORDED",
    "THOUGHT_SIGNATURE",
    "THOUGHT_SIGNATURE_WIRE",
    "FakeGemini",
    "FakeState",
    "RecordedRequest",
    "create_app",
    "main",
]

DEFAULT_API_KEY = "gemini-upstream-test"
MAX_RECORDED = 1000
ECHO_HEADERS_HEADER = "x-fake-echo-headers"
THOUGHT_SIGNATURE = b"sig-fake-1"
# ``thoughtSignature`` is a ``bytes`` field: on the wire it is base64 text.
THOUGHT_SIGNATURE_WIRE = base64.b64encode(THOUGHT_SIGNATURE).decode("ascii")  # c2lnLWZha2UtMQ==

_JSON = "application/json; charset=UTF-8"
_SSE = "text/event-stream"
_HTML = "text/html; charset=UTF-8"
_API_VERSIONS = ("v1beta", "v1")
_GENERATE = "generateContent"
_STREAM = "streamGenerateContent"
_COUNT = "countTokens"
_SERVICE = "generativelanguage.googleapis.com"
_TYPE_PREFIX = "type.googleapis.com/google.rpc."
_SSE_END = b"\r\n\r\n"
_ARRAY_SEPARATOR = b"\n,\r\n"
_ARRAY_END = b"\n]"
_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
# One piece per word: optional leading whitespace, the word, and trailing whitespace only at
# the very end, so the pieces always concatenate back to the whole text.
_PIECE_RE = re.compile(r"\s*\S+(?:\s+$)?|\s+$")
# Argument pieces roughly like tokens: runs of word characters and runs of the rest.
_ARG_PIECE_RE = re.compile(r"\w+|\W+")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")

_STATUS_NAMES = {
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
_COMMON_HEADERS = {"server": "scaffolding on HTTPServer2", "vary": "Origin, X-Origin, Referer"}

_REQUEST_FIELDS = frozenset(
    {
        "model",
        "contents",
        "tools",
        "toolConfig",
        "safetySettings",
        "systemInstruction",
        "generationConfig",
        "cachedContent",
        "serviceTier",
        "store",
    }
)

_MODEL_IDS = (
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash-cached",
    "fake-tools",
    "fake-think",
    "fake-think-tools",
    "fake-agent",
    "fake-agent-think",
    "fake-error-429",
    "fake-error-500",
    "fake-slow-0.5",
    "fake-drip-50",
    "fake-cut",
    "fake-empty",
)
_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000

_NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
    "  <title>Error 404 (Not Found)!!1</title>\n"
    "  <p><b>404.</b> <ins>That\u2019s an error.</ins>\n"
    "  <p>The requested URL <code>{path}</code> was not found on this server.  "
    "<ins>That\u2019s all we know.</ins>\n"
)
_INVALID_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
_NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
_MISSING_SIGNATURE_MESSAGE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for "
    "tools to work correctly, and missing thought_signature may lead to degraded model "
    "performance. Additional data, function call `default_api:{name}` , position {position}. "
    "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)
_CORRUPTED_SIGNATURE_MESSAGE = "Corrupted thought signature."
_AGENT_MODELS = frozenset({"fake-agent", "fake-agent-think"})


def _model_object(model_id: str) -> dict[str, Any]:
    return {
        "name": f"models/{model_id}",
        "version": "001",
        "displayName": model_id.replace("-", " ").title(),
        "description": f"Fake Gemini model {model_id} (see tests/fakes/BEHAVIOUR.md).",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": [
            _GENERATE,
            _COUNT,
            "createCachedContent",
            "batchGenerateContent",
        ],
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": True,
    }


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


STATE_KEY: web.AppKey[FakeState] = web.AppKey("fake_gemini_state", FakeState)


# --------------------------------------------------------------------------- helpers


class _BadRequest(Exception):
    """A request Google would answer with 400 ``INVALID_ARGUMENT``."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _field(obj: Any, name: str) -> Any:
    """``obj[name]`` under its lowerCamelCase or snake_case spelling (proto JSON takes both)."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(name)
    if value is None:
        value = obj.get(_snake(name))
    return value


def _response_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(17)).decode("ascii").rstrip("=")


def _headers_dict(request: web.BaseRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _decode_bytes(value: Any) -> bytes | None:
    """Decodes a proto ``bytes`` JSON value (standard or URL-safe base64, padding optional)."""
    if not isinstance(value, str) or not _BASE64_RE.fullmatch(value):
        return None
    text = value.rstrip("=").replace("-", "+").replace("_", "/")
    if len(text) % 4 == 1 or (len(text) != len(value) and len(value) % 4):
        return None
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    # Strict, like the SDK's decoder: the unused low bits of the last character must be zero
    # (so "sig-fake-1", 10 characters, is not base64, while "c2lnLWZha2UtMQ" is).
    if base64.b64encode(decoded).decode("ascii").rstrip("=") != text:
        return None
    return decoded


def _json_body(obj: Any) -> bytes:
    return orjson.dumps(obj, option=_PRETTY)


def _json_response(status: int, body: bytes) -> web.Response:
    return web.Response(
        status=status, body=body, headers={"Content-Type": _JSON, **_COMMON_HEADERS}
    )


def _error_body(
    code: int, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": _STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def _error_response(
    code: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    *,
    array: bool = False,
) -> web.Response:
    body = _error_body(code, message, details)
    if array:
        # A JSON-array stream request gets its error as a one-element array: "[{...}\n]".
        return _json_response(code, b"[" + orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n]")
    return _json_response(code, _json_body(body))


def _error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": _TYPE_PREFIX + "ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": _SERVICE},
    }


def _field_violation(message: str) -> list[dict[str, Any]]:
    return [{"@type": _TYPE_PREFIX + "BadRequest", "fieldViolations": [{"description": message}]}]


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


# --------------------------------------------------------------------------- request model


def _part_text(part: dict[str, Any]) -> str | None:
    text = part.get("text")
    if isinstance(text, str) and part.get("thought") is not True:
        return text
    return None


def _result_text(function_response: Any) -> str:
    """The text of one ``functionResponse`` (see the module docstring)."""
    response = _field(function_response, "response")
    if not isinstance(response, dict):
        return "" if response is None else orjson.dumps(response).decode()

    def as_text(value: Any) -> str:
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    if "error" in response:
        return "error: " + as_text(response["error"])
    if "output" in response:
        return as_text(response["output"])
    if len(response) == 1:
        (only,) = response.values()
        if isinstance(only, str):
            return only
    return orjson.dumps(response).decode()


def _content_text(content: dict[str, Any]) -> str:
    pieces: list[str] = []
    for part in content["parts"]:
        text = _part_text(part)
        if text is not None:
            pieces.append(text)
        elif (result := _field(part, "functionResponse")) is not None:
            pieces.append(_result_text(result))
    return " ".join(pieces)


def _has_function_response(content: dict[str, Any]) -> bool:
    return any(_field(part, "functionResponse") is not None for part in content["parts"])


def _image_suffix(content: dict[str, Any]) -> str:
    suffix = ""
    for part in content["parts"]:
        inline = _field(part, "inlineData")
        if isinstance(inline, dict):
            mime = _field(inline, "mimeType")
            data = _decode_bytes(_field(inline, "data") or "")
            if isinstance(mime, str) and mime.startswith("image/") and data is not None:
                suffix += f" [image: {mime} {len(data)} bytes]"
            continue
        file_data = _field(part, "fileData")
        if isinstance(file_data, dict):
            mime = _field(file_data, "mimeType")
            uri = _field(file_data, "fileUri")
            if isinstance(uri, str) and (mime is None or str(mime).startswith("image/")):
                suffix += f" [image: {uri}]"
    return suffix


def _agent_value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and isinstance(v.get("text"), str) for v in value)
    ):
        return "\n".join(v["text"] for v in value)
    return orjson.dumps(value).decode()


def _agent_result_text(function_response: Any) -> str:
    """The text of one ``functionResponse`` as the agent script sees it."""
    response = _field(function_response, "response")
    if response is None:
        return ""
    if not isinstance(response, dict):
        return _agent_value_text(response)
    for key in ("output", "result", "content"):
        if key in response:
            return _agent_value_text(response[key])
    if len(response) == 1:
        (only,) = response.values()
        if isinstance(only, str):
            return only
    return orjson.dumps(response).decode()


def _lowered_types(schema: Any) -> Any:
    """A schema with Gemini's ``STRING`` / ``OBJECT`` ... type names in JSON Schema case."""
    if isinstance(schema, list):
        return [_lowered_types(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: value.lower() if key == "type" and isinstance(value, str) else _lowered_types(value)
        for key, value in schema.items()
    }


@dataclass
class _ToolCall:
    id: str
    name: str
    args: dict[str, Any]


@dataclass
class _Call:
    """What a generate request asked for, once validated."""

    body: dict[str, Any]
    model: str
    stream: bool
    sse: bool
    contents: list[dict[str, Any]]
    system_text: str
    limit: int | None
    json_mode: bool

    @property
    def prompt_words(self) -> int:
        words = len(self.system_text.split())
        return words + sum(len(_content_text(c).split()) for c in self.contents)

    @property
    def last_is_tool_result(self) -> bool:
        return bool(self.contents) and _has_function_response(self.contents[-1])

    def last_user(self) -> dict[str, Any] | None:
        for index in range(len(self.contents) - 1, -1, -1):
            content = self.contents[index]
            if content.get("role") in (None, "", "user") and not _has_function_response(content):
                return content
        return None

    def last_user_text(self) -> str:
        content = self.last_user()
        return _content_text(content) if content is not None else ""

    def tool_calls(self, count: int) -> list[_ToolCall]:
        found: list[tuple[str, str]] = []
        config = _field(_field(self.body, "toolConfig"), "functionCallingConfig")
        names = _field(config, "allowedFunctionNames")
        allowed_names = set(names) if isinstance(names, list) and names else None
        tools = _field(self.body, "tools")
        for tool in tools if isinstance(tools, list) else []:
            declarations = _field(tool, "functionDeclarations")
            for declaration in declarations if isinstance(declarations, list) else []:
                name = _field(declaration, "name")
                if not isinstance(name, str) or (allowed_names and name not in allowed_names):
                    continue
                schema = _field(declaration, "parameters") or _field(
                    declaration, "parametersJsonSchema"
                )
                props = _field(schema, "properties")
                key = next(iter(props), "city") if isinstance(props, dict) and props else "city"
                found.append((name, key))
        found = found[:2]
        if not found:
            found = [("get_weather", "city"), ("get_time", "city")]
        elif len(found) == 1:
            found.append(found[0])
        return [
            _ToolCall(f"call_fake_{i + 1}", name, {key: city})
            for i, ((name, key), city) in enumerate(zip(found, ("Paris", "Tokyo"), strict=True))
        ][:count]

    def calling_disabled(self) -> bool:
        config = _field(_field(self.body, "toolConfig"), "functionCallingConfig")
        return bool(_field(config, "mode") == "NONE")

    def agent_tools(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, JSON schema) of each callable function declaration (``fake-agent``)."""
        if self.calling_disabled():
            return []
        config = _field(_field(self.body, "toolConfig"), "functionCallingConfig")
        names = _field(config, "allowedFunctionNames")
        allowed_names = set(names) if isinstance(names, list) and names else None
        found: list[tuple[str, dict[str, Any]]] = []
        tools = _field(self.body, "tools")
        for tool in tools if isinstance(tools, list) else []:
            declarations = _field(tool, "functionDeclarations")
            for declaration in declarations if isinstance(declarations, list) else []:
                name = _field(declaration, "name")
                if not isinstance(name, str) or (allowed_names and name not in allowed_names):
                    continue
                schema = _field(declaration, "parameters") or _field(
                    declaration, "parametersJsonSchema"
                )
                found.append((name, _lowered_types(schema) if isinstance(schema, dict) else {}))
        return found

    def agent_turn(self) -> Turn:
        """The request as the agent script sees it (``fake-agent``)."""
        user_texts: list[tuple[int, str]] = []
        results: list[tuple[int, str]] = []
        for index, content in enumerate(self.contents):
            if content.get("role") not in (None, "", "user"):
                continue
            texts = [text for part in content["parts"] if (text := _part_text(part)) is not None]
            user_texts.append((index, "\n".join(texts)))
            results.extend(
                (index, _agent_result_text(response))
                for part in content["parts"]
                if (response := _field(part, "functionResponse")) is not None
            )
        prompt = scripted_prompt([text for _, text in user_texts])
        prompt_at = max((i for i, text in user_texts if text == prompt), default=-1)
        return Turn(
            user_texts=[text for _, text in user_texts],
            results_after_prompt=[text for i, text in results if i > prompt_at],
            tools=self.agent_tools(),
        )


def _validate_contents(contents: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(contents, list) or not contents:
        raise _BadRequest(f"* {where}.contents: contents is not specified\n")
    for i, content in enumerate(contents):
        if not isinstance(content, dict):
            raise _BadRequest(f"Invalid value at 'contents[{i}]' (type.googleapis.com/Content)")
        role = content.get("role")
        if role not in (None, "", "user", "model"):
            raise _BadRequest("Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise _BadRequest(f"* {where}.contents[{i}].parts: contents.parts must not be empty.\n")
        for j, part in enumerate(parts):
            if not isinstance(part, dict):
                raise _BadRequest(f"Invalid value at 'contents[{i}].parts[{j}]' (Part)")
            where = f"contents[{i}].parts[{j}]"
            _check_bytes(_field(part, "thoughtSignature"), f"{where}.thought_signature")
            inline = _field(part, "inlineData")
            if inline is not None:
                _check_bytes(_field(inline, "data"), f"{where}.inline_data.data")
    return contents


def _check_bytes(value: Any, name: str) -> None:
    """Google's 400 for a ``bytes`` field whose JSON value is not base64."""
    if value is None or _decode_bytes(value) is not None:
        return
    shown = value if isinstance(value, str) else orjson.dumps(value).decode()
    message = f"Invalid value at '{name}' (TYPE_BYTES), Base64 decoding failed for \"{shown}\""
    raise _BadRequest(message, _field_violation(message))


def _validate_generate(body: Any, model: str, *, stream: bool, sse: bool) -> _Call:
    if not isinstance(body, dict):
        raise _BadRequest("Invalid JSON payload received. Unexpected token.")
    for name in body:
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
        if camel not in _REQUEST_FIELDS:
            message = f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
            raise _BadRequest(message, _field_violation(message))
    contents = _validate_contents(_field(body, "contents"), "GenerateContentRequest")
    system = _field(body, "systemInstruction")
    system_text = ""
    if isinstance(system, dict) and isinstance(system.get("parts"), list):
        system_text = " ".join(
            text
            for part in system["parts"]
            if isinstance(part, dict) and (text := _part_text(part)) is not None
        )
    config = _field(body, "generationConfig")
    if config is not None and not isinstance(config, dict):
        raise _BadRequest("Invalid value at 'generation_config' (type.googleapis.com/...)")
    limit_value = _field(config, "maxOutputTokens")
    limit: int | None = None
    if limit_value is not None:
        if isinstance(limit_value, bool) or not isinstance(limit_value, int):
            raise _BadRequest(
                f"Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), "
                f"{orjson.dumps(limit_value).decode()}"
            )
        if limit_value > 0:
            limit = limit_value
    mime = _field(config, "responseMimeType")
    return _Call(
        body=body,
        model=model,
        stream=stream,
        sse=sse,
        contents=contents,
        system_text=system_text,
        limit=limit,
        json_mode=mime == "application/json",
    )


# --------------------------------------------------------------------------- replies


@dataclass
class _Chunk:
    """One ``GenerateContentResponse`` of a reply, with the running token counts."""

    parts: list[dict[str, Any]]
    candidates_tokens: int
    thoughts_tokens: int
    finish_reason: str | None = None


class _Reply:
    """Builds the ``GenerateContentResponse`` objects of one reply."""

    def __init__(self, call: _Call) -> None:
        self.model = call.model
        self.prompt_tokens = call.prompt_words
        self.cached_tokens = self.prompt_tokens // 2 if "cached" in call.model else 0
        self.response_id = _response_id()

    def usage(self, candidates: int, thoughts: int) -> dict[str, Any]:
        usage: dict[str, Any] = {}
        if self.prompt_tokens:
            usage["promptTokenCount"] = self.prompt_tokens
        if candidates:
            usage["candidatesTokenCount"] = candidates
        total = self.prompt_tokens + candidates + thoughts
        if total:
            usage["totalTokenCount"] = total
        if self.cached_tokens:
            usage["cachedContentTokenCount"] = self.cached_tokens
        if self.prompt_tokens:
            usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.prompt_tokens}]
        if self.cached_tokens:
            usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.cached_tokens}]
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return usage

    def response(self, chunk: _Chunk) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": chunk.parts, "role": "model"}}
        if chunk.finish_reason is not None:
            candidate["finishReason"] = chunk.finish_reason
        candidate["index"] = 0
        return {
            "candidates": [candidate],
            "usageMetadata": self.usage(chunk.candidates_tokens, chunk.thoughts_tokens),
            "modelVersion": self.model,
            "responseId": self.response_id,
        }

    def merged(self, chunks: Sequence[_Chunk]) -> dict[str, Any]:
        """The non-streaming response: the chunks' parts merged, the last chunk's counts."""
        parts: list[dict[str, Any]] = []
        for chunk in chunks:
            for part in chunk.parts:
                text = part.get("text")
                previous = parts[-1] if parts else None
                if (
                    isinstance(text, str)
                    and previous is not None
                    and isinstance(previous.get("text"), str)
                    and previous.get("thought") == part.get("thought")
                    and "thoughtSignature" not in previous
                ):
                    merged = {**previous, "text": previous["text"] + text}
                    if "thoughtSignature" in part:
                        merged["thoughtSignature"] = part["thoughtSignature"]
                    parts[-1] = merged
                else:
                    parts.append(dict(part))
        last = chunks[-1]
        return self.response(
            _Chunk(parts, last.candidates_tokens, last.thoughts_tokens, last.finish_reason)
        )


def _text_chunks(
    pieces: Sequence[str], thoughts: int, finish_reason: str, *, signed: bool
) -> list[_Chunk]:
    """One chunk per word; the last one finishes (and carries the signature if ``signed``)."""
    texts = list(pieces) or [""]
    chunks = [
        _Chunk([{"text": text}], min(i + 1, len(pieces)), thoughts) for i, text in enumerate(texts)
    ]
    chunks[-1].finish_reason = finish_reason
    if signed:
        chunks[-1].parts[0]["thoughtSignature"] = THOUGHT_SIGNATURE_WIRE
    return chunks


def _reply_chunks(call: _Call, text: str, thoughts: int, signed: bool) -> list[_Chunk]:
    """The chunks of a text reply, cut to ``maxOutputTokens`` words."""
    pieces = _PIECE_RE.findall(text)
    finish_reason = "STOP"
    if call.limit is not None and len(pieces) > call.limit:
        pieces = pieces[: call.limit]
        finish_reason = "MAX_TOKENS"
    return _text_chunks(pieces, thoughts, finish_reason, signed=signed)


def _agent_chunks(call: _Call) -> list[_Chunk]:
    """``fake-agent`` / ``fake-agent-think``: the next step of the prompt's script."""
    step = next_step(call.agent_turn())
    thinking = call.model == "fake-agent-think"
    chunks: list[_Chunk] = []
    thoughts = 0
    if thinking:
        thought_chunk, thoughts = _thought_chunk(call)
        chunks.append(thought_chunk)
    if step.tool is not None:
        tool_call = _ToolCall("call_" + os.urandom(12).hex(), step.tool, step.arguments or {})
        chunks.append(_call_chunk([tool_call], thoughts, signed=thinking))
    else:
        chunks.extend(_reply_chunks(call, step.text or "", thoughts, thinking))
    return chunks


def _thought_chunk(call: _Call) -> tuple[_Chunk, int]:
    thought = "Thinking about: " + call.last_user_text()
    words = len(thought.split())
    return _Chunk([{"text": thought, "thought": True}], 0, words), words


def _call_chunk(calls: Sequence[_ToolCall], thoughts: int, *, signed: bool) -> _Chunk:
    parts: list[dict[str, Any]] = []
    pieces = 0
    for index, tc in enumerate(calls):
        part: dict[str, Any] = {"functionCall": {"name": tc.name, "args": tc.args, "id": tc.id}}
        if signed and index == 0:
            part["thoughtSignature"] = THOUGHT_SIGNATURE_WIRE
        parts.append(part)
        pieces += len(_ARG_PIECE_RE.findall(orjson.dumps(tc.args).decode()))
    return _Chunk(parts, pieces, thoughts, "STOP")


def _signature_error(call: _Call) -> str | None:
    """Why the tool-result history of ``fake-think-tools`` is not acceptable, if it is not."""
    for index in range(len(call.contents) - 1, -1, -1):
        content = call.contents[index]
        if content.get("role") != "model":
            continue
        calls = [p for p in content["parts"] if _field(p, "functionCall") is not None]
        if not calls:
            continue
        signatures = [
            _field(p, "thoughtSignature")
            for p in content["parts"]
            if _field(p, "thoughtSignature") is not None
        ]
        if not signatures:
            name = _field(_field(calls[0], "functionCall"), "name")
            return _MISSING_SIGNATURE_MESSAGE.format(name=name, position=index + 1)
        if all(_decode_bytes(sig) != THOUGHT_SIGNATURE for sig in signatures):
            return _CORRUPTED_SIGNATURE_MESSAGE
        return None
    return None


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

    def _auth_error(self, request: web.Request, *, array: bool) -> web.Response | None:
        provided = request.headers.get("x-goog-api-key")
        if provided is None:
            provided = request.query.get("key")
        if provided == self.state.api_key:
            return None
        if not provided:
            return _error_response(403, _NO_KEY_MESSAGE, array=array)
        details = [
            _error_info("API_KEY_INVALID"),
            {
                "@type": _TYPE_PREFIX + "LocalizedMessage",
                "locale": "en-US",
                "message": _INVALID_KEY_MESSAGE,
            },
        ]
        return _error_response(400, _INVALID_KEY_MESSAGE, details, array=array)

    # -- routing -------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        parsed = True
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                parsed = False
        if self.state.record:
            self._record(request, raw, body)

        # Match on the raw path so an encoded "/" inside the model id stays inside it.
        segments = request.raw_path.split("?", 1)[0].split("/")
        if len(segments) < 3 or segments[0] or segments[1] not in _API_VERSIONS:
            return _not_found(request)
        version = segments[1]
        resource = [unquote(s) for s in segments[2:]]
        if resource == ["models"] and request.method == "GET":
            return self._list_models(request)
        if len(resource) != 2 or resource[0] != "models" or not resource[1]:
            return _not_found(request)
        target = resource[1]
        if request.method == "GET" and ":" not in target:
            return self._auth_error(request, array=False) or _json_response(
                200, _json_body(_model_object(target))
            )
        if request.method != "POST" or ":" not in target:
            return _not_found(request)
        model, method = target.rsplit(":", 1)
        if method not in (_GENERATE, _STREAM, _COUNT) or not model:
            return _not_found(request)

        sse = method == _STREAM and request.query.get("alt") == "sse"
        array = method == _STREAM and not sse
        denied = self._auth_error(request, array=array)
        if denied is not None:
            return denied
        if not parsed:
            message = "Invalid JSON payload received. Unexpected token."
            return _error_response(400, message, _field_violation(message), array=array)
        if model == BARE_429:
            return _error_response(429, _QUOTA_MESSAGE, _quota_details(model), array=array)
        if model.startswith("fake-error-"):
            status_text = model[len("fake-error-") :]
            if status_text.isdigit() and 400 <= int(status_text) <= 599:
                return _fake_error(int(status_text), model, version, method, array=array)
        try:
            if method == _COUNT:
                return _count_tokens(body)
            call = _validate_generate(body, model, stream=method == _STREAM, sse=sse)
        except _BadRequest as bad:
            return _error_response(400, bad.message, bad.details, array=array)
        return await self._generate(request, call)

    def _list_models(self, request: web.Request) -> web.Response:
        denied = self._auth_error(request, array=False)
        if denied is not None:
            return denied
        size_text = request.query.get("pageSize", "")
        token = request.query.get("pageToken", "")
        try:
            size = int(size_text) if size_text else _DEFAULT_PAGE_SIZE
            start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except (ValueError, binascii.Error):
            return _error_response(400, "Invalid page size or page token.")
        if start < 0:
            return _error_response(400, "Invalid page size or page token.")
        # Like Google: unset or non-positive means 50, and at most 1000 per page.
        size = min(size if size > 0 else _DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE)
        page = _MODEL_IDS[start : start + size]
        listing: dict[str, Any] = {"models": [_model_object(m) for m in page]}
        if start + size < len(_MODEL_IDS):
            listing["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return _json_response(200, _json_body(listing))

    # -- generation ----------------------------------------------------------

    async def _generate(self, request: web.Request, call: _Call) -> web.StreamResponse:
        model = call.model
        if model == "fake-empty":
            return web.Response(
                status=200, body=b"", headers={"Content-Type": _JSON, **_COMMON_HEADERS}
            )
        if model == "fake-cut":
            return await self._cut(request, call)
        drip: float | None = None
        if model.startswith("fake-slow-"):
            seconds = _parse_number(model[len("fake-slow-") :])
            if seconds is not None:
                await asyncio.sleep(seconds)
        elif model.startswith("fake-drip-"):
            ms = _parse_number(model[len("fake-drip-") :])
            if ms is not None and call.stream:
                drip = ms / 1000
        elif model == "fake-think-tools" and call.last_is_tool_result:
            problem = _signature_error(call)
            if problem is not None:
                return _error_response(400, problem, array=call.stream and not call.sse)

        chunks = self._chunks(request, call)
        reply = _Reply(call)
        if not call.stream:
            return _json_response(200, _json_body(reply.merged(chunks)))
        return await _stream(request, call, [reply.response(c) for c in chunks], drip)

    def _reply_text(self, request: web.Request, call: _Call) -> str:
        if request.headers.get(ECHO_HEADERS_HEADER) == "1":
            return orjson.dumps(_headers_dict(request), option=orjson.OPT_SORT_KEYS).decode()
        if call.json_mode:
            return orjson.dumps({"echo": call.last_user_text()}).decode()
        if call.last_is_tool_result:
            results = [
                _result_text(_field(part, "functionResponse"))
                for part in call.contents[-1]["parts"]
                if _field(part, "functionResponse") is not None
            ]
            return "Tool said: " + " | ".join(results)
        last_user = call.last_user()
        suffix = _image_suffix(last_user) if last_user is not None else ""
        return "Echo: " + call.last_user_text() + suffix

    def _chunks(self, request: web.Request, call: _Call) -> list[_Chunk]:
        model = call.model
        if model in _AGENT_MODELS:
            return _agent_chunks(call)
        wants_tools = not call.last_is_tool_result and not call.calling_disabled()
        if model == "fake-tools" and wants_tools:
            return [_call_chunk(call.tool_calls(2), 0, signed=False)]
        thinking = model in ("fake-think", "fake-think-tools")
        chunks: list[_Chunk] = []
        thoughts = 0
        if thinking:
            thought_chunk, thoughts = _thought_chunk(call)
            chunks.append(thought_chunk)
        if model == "fake-think-tools" and wants_tools:
            chunks.append(_call_chunk(call.tool_calls(1), thoughts, signed=True))
            return chunks
        chunks.extend(_reply_chunks(call, self._reply_text(request, call), thoughts, thinking))
        return chunks

    async def _cut(self, request: web.Request, call: _Call) -> web.StreamResponse:
        pieces = _PIECE_RE.findall(self._reply_text(request, call))[:2]
        while len(pieces) < 2:
            pieces.append(" ...")
        reply = _Reply(call)
        response = web.StreamResponse(status=200, headers=dict(_COMMON_HEADERS))
        chunks = [reply.response(_Chunk([{"text": p}], i + 1, 0)) for i, p in enumerate(pieces)]
        if call.stream:
            response.headers["Content-Type"] = _SSE if call.sse else _JSON
            payload = b"".join(_frame(call, i, chunk) for i, chunk in enumerate(chunks))
        else:
            response.headers["Content-Type"] = _JSON
            whole = _json_body(reply.merged([_Chunk([{"text": "".join(pieces)}], 2, 0, "STOP")]))
            payload = whole[: len(whole) // 2]
        await response.prepare(request)
        await response.write(payload)
        transport = request.transport
        if transport is not None:
            # close() flushes what was written, then sends FIN: the client sees a body that
            # stops in the middle (no closing "]", no terminating zero-length chunk).
            transport.close()
        return response


def _not_found(request: web.Request) -> web.Response:
    page = _NOT_FOUND_PAGE.format(path=request.path.replace("<", "&lt;"))
    return web.Response(status=404, text=page, headers={"Content-Type": _HTML})


def _frame(call: _Call, index: int, chunk: dict[str, Any]) -> bytes:
    """One chunk as it goes on the wire: an SSE event or a piece of the JSON array."""
    if call.sse:
        return b"data: " + orjson.dumps(chunk) + _SSE_END
    prefix = b"[" if index == 0 else _ARRAY_SEPARATOR
    return prefix + orjson.dumps(chunk, option=orjson.OPT_INDENT_2)


async def _stream(
    request: web.Request, call: _Call, chunks: Sequence[dict[str, Any]], drip: float | None
) -> web.StreamResponse:
    content_type = _SSE if call.sse else _JSON
    response = web.StreamResponse(
        status=200, headers={"Content-Type": content_type, **_COMMON_HEADERS}
    )
    await response.prepare(request)
    frames = [_frame(call, i, chunk) for i, chunk in enumerate(chunks)]
    if not call.sse:
        frames[-1] += _ARRAY_END
    if drip is None:
        await response.write(b"".join(frames))
    else:
        for frame in frames:
            await asyncio.sleep(drip)
            await response.write(frame)
    await response.write_eof()
    return response


def _count_tokens(body: Any) -> web.Response:
    if not isinstance(body, dict):
        raise _BadRequest("Invalid JSON payload received. Unexpected token.")
    inner = _field(body, "generateContentRequest")
    if inner is not None:
        call = _validate_generate(inner, "", stream=False, sse=False)
        total = call.prompt_words
    else:
        contents = _validate_contents(_field(body, "contents"), "CountTokensRequest")
        total = sum(len(_content_text(c).split()) for c in contents)
    result: dict[str, Any] = {}
    if total:
        result["totalTokens"] = total
        result["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": total}]
    return _json_response(200, _json_body(result))


_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def _quota_details(model: str) -> list[dict[str, Any]]:
    """A per-minute quota's QuotaFailure and Help details (RetryInfo is the caller's)."""
    return [
        {
            "@type": _TYPE_PREFIX + "QuotaFailure",
            "violations": [
                {
                    "quotaMetric": f"{_SERVICE}/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": "10",
                }
            ],
        },
        {
            "@type": _TYPE_PREFIX + "Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
    ]


def _fake_error(status: int, model: str, version: str, method: str, *, array: bool) -> web.Response:
    details: list[dict[str, Any]] | None = None
    if status == 400:
        message = "Request contains an invalid argument."
    elif status == 401:
        message = (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        )
        details = [_error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED")]
    elif status == 403:
        message = "The caller does not have permission"
    elif status == 404:
        message = (
            f"models/{model} is not found for API version {version}, or is not supported for "
            f"{method}. Call ListModels to see the list of available models and their "
            "supported methods."
        )
    elif status == 429:
        message = _QUOTA_MESSAGE + " Please retry in 1s."
        details = [
            *_quota_details(model),
            {"@type": _TYPE_PREFIX + "RetryInfo", "retryDelay": "1s"},
        ]
    elif status == 500:
        message = (
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"
        )
    elif status == 503:
        message = "The model is overloaded. Please try again later."
    elif status == 504:
        message = "Deadline expired before operation could complete."
    else:
        message = f"Fake upstream error {status} for model '{model}'."
    return _error_response(status, message, details, array=array)


# --------------------------------------------------------------------------- public API


def create_app(state: FakeState) -> web.Application:
    """The aiohttp application of a fake Gemini upstream backed by ``state``."""
    handlers = _Handlers(state)
    app = web.Application(client_max_size=64 * 1024 * 1024)  # real upstreams take big contexts
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", handlers.dispatch)
    return app


class FakeGemini(FakeServer):
    """Runs a fake Gemini upstream on a real socket; ``async with FakeGemini() as fake:``."""

    name = "gemini"
    default_key = DEFAULT_API_KEY
    base_path = ""
    state: FakeState

    def make_state(self, api_key: str, record: bool) -> FakeState:
        return FakeState(api_key=api_key, record=record)

    def make_app(self) -> web.Application:
        return create_app(self.state)


def main(argv: Sequence[str] | None = None) -> int:
    return run_process(
        FakeGemini,
        "tests.fakes.gemini_upstream",
        "Fake Gemini API (generativelanguage) upstream for tests and benchmarks.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
