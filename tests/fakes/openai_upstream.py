"""A fake OpenAI-compatible upstream that speaks the Chat Completions wire format.

Used by integration tests and benchmarks in place of ``api.openai.com``.  It listens on a
real socket (``FakeOpenAI`` picks a free port on 127.0.0.1) and serves:

* ``POST /v1/chat/completions`` -- non-streaming (``chat.completion`` object) and streaming
  (``text/event-stream``: ``data: <chat.completion.chunk JSON>\\n\\n`` events, then one
  ``data: [DONE]\\n\\n``);
* ``GET /v1/models`` (``{"object": "list", "data": [model, ...]}``) and
  ``GET /v1/models/{id}``;
* anything else: 404 ``{"error": {"message": "Invalid URL (METHOD /path)", ...}}``.

Every endpoint above except the 404 requires ``Authorization: Bearer <api_key>``; a missing
or wrong key gives 401 with ``type`` ``invalid_request_error`` and ``code`` ``invalid_api_key``.
A body that is not valid JSON gives 400 ``invalid_request_error`` ("We could not parse the
JSON body of your request. ...").  Only ``n`` = 1 is served (anything else is a 400).  Every
response carries an ``x-request-id`` header.

Behaviour is chosen by the request's ``model``, following the shared spec of all fakes in
``tests/fakes/BEHAVIOUR.md``:

``<any other model>``
    Normal reply.  The text is ``"Echo: " + <text of the last user message>`` (string
    content, or the ``{"type": "text"}`` parts of a list joined with single spaces).
    Variations, first match wins:

    * ``response_format`` ``{"type": "json_schema", ...}`` or ``{"type": "json_object"}``:
      the compact JSON ``{"echo":"<text of the last user message>"}`` (also on a tool-result
      turn; no image notes);
    * a tool-result turn (the conversation ends with one or more ``role: "tool"``
      messages): ``"Tool said: "`` + those messages' texts joined with ``" | "``, in order;
    * otherwise each ``image_url`` part of the last user message appends
      ``" [image: <media type> <n> bytes]"`` for a ``data:`` URL (n = decoded bytes; base64
      or percent-encoded) or ``" [image: <url>]"`` for an http(s) URL.  Any other scheme, a
      data URL without ``,`` or with bad base64 gives 400 ``invalid_request_error`` /
      ``invalid_image_url`` (param ``messages``).

    Streaming splits the text into one delta per word (each word keeps its leading
    whitespace), after a first delta ``{"role": "assistant", "content": "", "refusal":
    null}``; the last choice chunk has an empty delta and the finish reason.
    ``finish_reason`` is ``"stop"``.  Usage: ``prompt_tokens`` = whitespace-separated words
    in the text of all messages, ``completion_tokens`` = words of the reply;
    ``prompt_tokens_details.cached_tokens`` is ``prompt_tokens // 2`` when the model name
    contains ``cached`` (e.g. ``gpt-4o-mini-cached``, for any behaviour), else 0.  With
    ``max_completion_tokens`` (or ``max_tokens``) below the reply's word count the reply is
    cut to that many words and ``finish_reason`` is ``"length"``.  With
    ``stream_options.include_usage`` the stream ends with a chunk whose ``choices`` is ``[]``
    and which carries ``usage`` (every earlier chunk then has ``"usage": null``); without it
    no chunk has a ``usage`` key.
``fake-tools``
    Two parallel tool calls, ids ``call_fake_1`` and ``call_fake_2``, to the first two
    functions of the request's ``tools`` (the first one twice if only one is given;
    ``get_weather`` and ``get_time`` if none).  Arguments are ``{"<key>":"Paris"}`` for the
    first call and ``{"<key>":"Tokyo"}`` for the second, ``<key>`` being the first property
    of that function's ``parameters`` schema (``city`` if it has none), compact JSON.
    Non-streaming: message ``content`` null and a ``tool_calls`` list.  Streaming: the first
    delta carries ``role`` "assistant", ``content`` null and the first fragment of call 0;
    the first fragment of each call has ``index``, ``id``, ``type`` "function",
    ``function.name`` and ``function.arguments`` ""; later fragments have only ``index``
    and a piece of ``function.arguments`` (at least 3 pieces per call).
    ``finish_reason`` is ``"tool_calls"``; ``completion_tokens`` = number of argument pieces;
    ``max_tokens`` is not applied.  On a tool-result turn it answers like a normal model
    (``"Tool said: ..."``), so a client's tool loop ends.
``fake-think``
    Reasoning, then the normal reply, the way DeepSeek and vLLM expose it.  The reasoning is
    ``"Thinking about: " + <text of the last user message>``.  Non-streaming: the message
    carries it as ``reasoning_content`` next to ``content``.  Streaming: a first delta
    ``{"role": "assistant", "content": null, "reasoning_content": ""}``, then one
    ``{"content": null, "reasoning_content": <word>}`` delta per word of the reasoning, then
    one ``{"content": <word>, "reasoning_content": null}`` delta per word of the reply.
    ``completion_tokens`` = reply words + reasoning words and
    ``completion_tokens_details.reasoning_tokens`` = reasoning words; ``max_tokens`` cuts
    only the reply.  OpenAI Chat has no field for a reasoning signature, so none is sent.
``fake-think-tags``
    The same reasoning inline, as some providers serve DeepSeek R1: ``content`` is
    ``"<think>" + <reasoning> + "</think>" + <reply>`` (no separator) and there is no
    ``reasoning_content``.  Streaming splits both tags across deltas to exercise tag
    extraction: ``"<th"``, ``"ink>Thinking"``, the middle reasoning words,
    ``"<last reasoning word></th"``, ``"ink>Echo:"``, then the rest of the reply word by
    word (after the usual ``role`` delta with ``content: ""``).  Usage as ``fake-think``.
``fake-think-tools``
    Reasoning as ``fake-think`` (``reasoning_content``), then one tool call: the first one
    ``fake-tools`` would make (``call_fake_1``, ``{"<key>":"Paris"}``).  When streaming, the
    first tool-call delta also carries ``"content": null, "reasoning_content": null``.
    ``completion_tokens`` = argument pieces + reasoning words.  On a tool-result turn it
    answers like a normal model; no reasoning replay is required (there is no signature).
``fake-agent``
    Plays the script of ``tests/fakes/agent_script.py`` (``SAY:`` / ``RUN:`` lines anywhere
    in a user message), one step per request.  The script sees every ``user`` message's text
    (its ``text`` parts joined with newlines), the texts of the ``tool`` messages that come
    after the newest scripted user message, and the request's function tools (name and
    ``parameters``).  A text step is a normal reply (streamed word by word, ``"stop"``,
    ``max_tokens`` applies); a tool step is one tool call, framed as ``fake-tools`` frames
    it, with a fresh id ``call_<hex>`` per call and ``finish_reason`` ``"tool_calls"``.
    Usage as for a normal reply (argument pieces for a call).
``fake-agent-think``
    ``fake-agent`` with ``fake-think``'s ``reasoning_content`` first.
``fake-error-<status>`` (400..599, e.g. ``fake-error-429``)
    That status with an OpenAI-shaped error body ``{"error": {"message", "type", "param",
    "code"}}``: 400 ``invalid_request_error``; 401 ``invalid_request_error`` /
    ``invalid_api_key``; 403 ``request_forbidden`` / ``unsupported_country_region_territory``;
    404 ``invalid_request_error`` / ``model_not_found``; 429 ``requests`` /
    ``rate_limit_exceeded`` with ``retry-after: 1`` and the ``x-ratelimit-limit-*``,
    ``x-ratelimit-remaining-*``, ``x-ratelimit-reset-*`` headers; other 4xx
    ``invalid_request_error``; 5xx ``server_error`` (code null).  Same for streaming requests.
``fake-error-429-bare``
    The 429 above without any hint of when to retry: no ``retry-after`` or
    ``x-ratelimit-*`` headers and no "try again in" in the message.
``fake-limit-<seconds>`` (e.g. ``fake-limit-600``)
    A normal reply whose headers say the requests limit is spent: ``x-ratelimit-limit-requests:
    3``, ``x-ratelimit-remaining-requests: 0``, ``x-ratelimit-reset-requests: <seconds>s``.
``fake-slow-<seconds>`` (e.g. ``fake-slow-0.5``)
    Waits that long before sending the response headers, then a normal reply.
``fake-drip-<ms>`` (e.g. ``fake-drip-50``)
    Streaming: headers at once, then each SSE event (including ``[DONE]``) written after
    another ``<ms>`` milliseconds.  Non-streaming: a normal reply.
``fake-cut``
    Streaming: the role delta and two content deltas (the first two words of the normal
    reply), then the connection is closed mid-body without ``[DONE]`` (and without the
    final zero-length chunk of the chunked encoding).  Non-streaming: the first half of the
    JSON body, then the same close.
``fake-empty``
    200 with ``content-type: application/json`` and an empty body (streaming or not).

With the request header ``x-fake-echo-headers: 1`` (on any model whose reply is text) the
reply text is instead a JSON object of the received headers (lower-cased names, sorted),
so a test can see which authorization and extra headers arrived; this wins over the
variations above.

``FakeState.requests`` keeps the last 1000 requests (method, path, query, lower-cased headers,
parsed JSON body, raw bytes, client address ``peer``, arrival time ``at`` on
``time.monotonic``); ``record=False`` stores nothing.

Run as a process for benchmarks::

    python -m tests.fakes.openai_upstream --port 8001 [--host 127.0.0.1] [--api-key K] [--no-record]

It prints ``listening on http://127.0.0.1:8001/v1`` once ready and uses uvloop if importable.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from aiohttp import web

from tests.fakes.agent_script import Turn, next_step, scripted_prompt
from tests.fakes.server import BARE_429, FakeServer, run_process

__all__ = [
    "DEFAULT_API_KEY",
    "MAX_RECORDED",
    "FakeOpenAI",
    "FakeState",
    "RecordedRequest",
    "create_app",
    "main",
]

DEFAULT_API_KEY = "sk-upstream-test"
MAX_RECORDED = 1000
SYSTEM_FINGERPRINT = "fp_f4ke0c0ffee"
ECHO_HEADERS_HEADER = "x-fake-echo-headers"

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
_DONE = b"data: [DONE]\n\n"
# One piece per word: optional leading whitespace, the word, and trailing whitespace only at
# the very end, so the pieces always concatenate back to the whole text.
_PIECE_RE = re.compile(r"\s*\S+(?:\s+$)?|\s+$")
# Argument pieces roughly like tokens: runs of word characters and runs of the rest.
_ARG_PIECE_RE = re.compile(r"\w+|\W+")

_MODEL_IDS = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4o-mini-cached",
    "fake-tools",
    "fake-think",
    "fake-think-tags",
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
_MODEL_CREATED = 1_700_000_000


def _model_object(model_id: str) -> dict[str, Any]:
    owner = "fake-upstream" if model_id.startswith("fake-") else "system"
    return {"id": model_id, "object": "model", "created": _MODEL_CREATED, "owned_by": owner}


_MODELS_BODY = orjson.dumps({"object": "list", "data": [_model_object(m) for m in _MODEL_IDS]})

_JSON_FORMATS = frozenset({"json_schema", "json_object"})
_AGENT_MODELS = frozenset({"fake-agent", "fake-agent-think"})
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"

_BAD_JSON_MESSAGE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)
_NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
    "(with blank username) if you're accessing the API from your browser and are prompted for "
    "a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_RATE_LIMIT_HEADERS = {
    "retry-after": "1",
    "x-ratelimit-limit-requests": "3",
    "x-ratelimit-limit-tokens": "40000",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-remaining-tokens": "39970",
    "x-ratelimit-reset-requests": "1s",
    "x-ratelimit-reset-tokens": "45ms",
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
    at: float = field(default_factory=time.monotonic)  # when it arrived: shows ordering


@dataclass
class FakeState:
    """Shared, mutable state of one fake upstream."""

    api_key: str = DEFAULT_API_KEY
    requests: list[RecordedRequest] = field(default_factory=list)
    record: bool = True


STATE_KEY: web.AppKey[FakeState] = web.AppKey("fake_openai_state", FakeState)
# Headers a behaviour adds to its response, whatever writes it (fake-limit-<seconds>).
EXTRA_HEADERS: web.RequestKey[dict[str, str]] = web.RequestKey("fake_extra_headers", dict)


# --------------------------------------------------------------------------- helpers


def _request_id() -> str:
    return "req_" + os.urandom(16).hex()


def _completion_id() -> str:
    return "chatcmpl-" + os.urandom(12).hex()


def _headers_dict(request: web.BaseRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _json_response(
    status: int, body: bytes, extra_headers: dict[str, str] | None = None
) -> web.Response:
    headers = {"x-request-id": _request_id()}
    if extra_headers:
        headers.update(extra_headers)
    return web.Response(status=status, body=body, content_type=_JSON, headers=headers)


def _error_response(
    status: int,
    message: str,
    err_type: str,
    *,
    param: str | None = None,
    code: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> web.Response:
    body = orjson.dumps(
        {"error": {"message": message, "type": err_type, "param": param, "code": code}}
    )
    return _json_response(status, body, extra_headers)


def _mask_key(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def _prompt_words(messages: list[Any]) -> int:
    return sum(len(_text_of(m.get("content")).split()) for m in messages if isinstance(m, dict))


def _last_user_content(messages: list[Any]) -> Any:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message.get("content")
    return None


def _last_user_text(messages: list[Any]) -> str:
    return _text_of(_last_user_content(messages))


def _tool_results(messages: list[Any]) -> list[str] | None:
    """The texts of the trailing ``tool`` messages in order; None if the last turn is not one."""
    results: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "tool":
            break
        results.append(_text_of(message.get("content")))
    if not results:
        return None
    results.reverse()
    return results


def _lines_of(content: Any) -> str:
    """Text of a content value with its text parts joined by newlines (for the agent script,
    whose ``SAY:`` / ``RUN:`` patterns are anchored at line starts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def _agent_turn(body: dict[str, Any], messages: list[Any]) -> Turn:
    """The request as the agent script sees it (``fake-agent``)."""
    user_texts: list[tuple[int, str]] = []
    results: list[tuple[int, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "user":
            user_texts.append((index, _lines_of(message.get("content"))))
        elif message.get("role") == "tool":
            results.append((index, _lines_of(message.get("content"))))
    prompt = scripted_prompt([text for _, text in user_texts])
    prompt_at = max((i for i, text in user_texts if text == prompt), default=-1)
    tools: list[tuple[str, dict[str, Any]]] = []
    declared = body.get("tools")
    for tool in declared if isinstance(declared, list) else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            schema = function.get("parameters")
            tools.append((function["name"], schema if isinstance(schema, dict) else {}))
    return Turn(
        user_texts=[text for _, text in user_texts],
        results_after_prompt=[text for i, text in results if i > prompt_at],
        tools=tools,
    )


class _BadImage(ValueError):
    """An ``image_url`` part the fake cannot describe (answered with a 400)."""


def _image_note(part: dict[str, Any]) -> str:
    field_value = part.get("image_url")
    url = field_value.get("url") if isinstance(field_value, dict) else field_value
    if not isinstance(url, str) or not url:
        raise _BadImage("Missing required parameter: 'image_url.url'.")
    lowered = url[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return f" [image: {url}]"
    if not lowered.startswith("data:"):
        raise _BadImage(f"Invalid image URL: unsupported scheme in {url[:32]!r}.")
    header, comma, data = url[len("data:") :].partition(",")
    if not comma:
        raise _BadImage("Invalid image URL: a data URL needs a ',' before its data.")
    media_type, *params = header.split(";")
    if any(param.strip().lower() == "base64" for param in params):
        try:
            decoded = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _BadImage("Invalid image URL: the data URL is not valid base64.") from exc
    else:
        decoded = unquote_to_bytes(data)
    return f" [image: {media_type.strip() or 'text/plain'} {len(decoded)} bytes]"


def _image_notes(content: Any) -> str:
    """`` [image: ...]`` for each image part of a message's content, in order."""
    if not isinstance(content, list):
        return ""
    return "".join(
        _image_note(part)
        for part in content
        if isinstance(part, dict) and part.get("type") == "image_url"
    )


def _wants_json(body: dict[str, Any]) -> bool:
    response_format = body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") in _JSON_FORMATS


def _reasoning_text(messages: list[Any]) -> str:
    return "Thinking about: " + _last_user_text(messages)


def _usage(
    model: str, prompt_tokens: int, completion_tokens: int, reasoning_tokens: int = 0
) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {
            "cached_tokens": prompt_tokens // 2 if "cached" in model else 0,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _sse(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


@dataclass
class _Call:
    """What a chat completion request asked for, once validated."""

    body: dict[str, Any]
    model: str
    messages: list[Any]
    stream: bool
    include_usage: bool
    limit: int | None
    image_note: str = ""  # " [image: ...]" per image of the last user message
    json_output: bool = False  # response_format asks for JSON


@dataclass
class _ToolCall:
    id: str
    name: str
    arguments: str


def _tool_calls(body: dict[str, Any]) -> list[_ToolCall]:
    found: list[tuple[str, str]] = []
    tools = body.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                continue
            params = function.get("parameters")
            props = params.get("properties") if isinstance(params, dict) else None
            key = next(iter(props), "city") if isinstance(props, dict) and props else "city"
            found.append((function["name"], key))
            if len(found) == 2:
                break
    if not found:
        found = [("get_weather", "city"), ("get_time", "city")]
    elif len(found) == 1:
        found.append(found[0])
    return [
        _ToolCall(f"call_fake_{i + 1}", name, orjson.dumps({key: value}).decode())
        for i, ((name, key), value) in enumerate(zip(found, ("Paris", "Tokyo"), strict=True))
    ]


class _ChunkMaker:
    """Builds the ``chat.completion.chunk`` SSE events of one streamed completion."""

    __slots__ = ("base", "include_usage")

    def __init__(self, model: str, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.base: dict[str, Any] = {
            "id": _completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

    def choice(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        chunk = {
            **self.base,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if self.include_usage:
            chunk["usage"] = None
        return _sse(chunk)

    def usage(self, prompt_tokens: int, completion_tokens: int, reasoning_tokens: int = 0) -> bytes:
        usage = _usage(self.base["model"], prompt_tokens, completion_tokens, reasoning_tokens)
        return _sse({**self.base, "choices": [], "usage": usage})


def _tagged_pieces(thought: list[str], reply: list[str]) -> list[str]:
    """Content pieces of ``<think>reasoning</think>reply`` with both tags split across deltas."""
    inner = list(thought) or [""]
    inner[0] = "ink>" + inner[0]
    inner[-1] += "</th"
    tail = ["ink>" + reply[0], *reply[1:]] if reply else ["ink>"]
    return ["<th", *inner, *tail]


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

    def _auth_error(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization")
        if header == "Bearer " + self.state.api_key:
            return None
        if not header:
            return _error_response(
                401, _NO_KEY_MESSAGE, "invalid_request_error", code="invalid_api_key"
            )
        provided = header[7:] if header[:7].lower() == "bearer " else header
        return _invalid_key_response(provided)

    # -- routes --------------------------------------------------------------

    async def not_found(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.state.record:
            self._record(request, raw, _loads_or_none(raw))
        return _error_response(
            404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error"
        )

    async def list_models(self, request: web.Request) -> web.Response:
        if self.state.record:
            self._record(request, b"", None)
        return self._auth_error(request) or _json_response(200, _MODELS_BODY)

    async def get_model(self, request: web.Request) -> web.Response:
        if self.state.record:
            self._record(request, b"", None)
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        return _json_response(200, orjson.dumps(_model_object(request.match_info["model"])))

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
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
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        if not parsed or not isinstance(body, dict):
            return _error_response(400, _BAD_JSON_MESSAGE, "invalid_request_error")
        call_or_error = _validate(body)
        if isinstance(call_or_error, web.Response):
            return call_or_error
        call = call_or_error
        model = call.model
        if not model.startswith("fake-"):
            return await self._reply(request, call)
        return await self._special(request, call)

    # -- behaviours ----------------------------------------------------------

    async def _special(self, request: web.Request, call: _Call) -> web.StreamResponse:
        model = call.model
        if model in _AGENT_MODELS:
            return await self._agent(request, call)
        if model == "fake-tools":
            if _tool_results(call.messages) is not None:
                return await self._reply(request, call)  # the tool loop ends here
            return await _tools_reply(request, call, _tool_calls(call.body))
        if model in ("fake-think", "fake-think-tags"):
            reasoning = _reasoning_text(call.messages)
            return await self._reply(
                request, call, reasoning=reasoning, inline=model == "fake-think-tags"
            )
        if model == "fake-think-tools":
            if _tool_results(call.messages) is not None:
                return await self._reply(request, call)
            calls = _tool_calls(call.body)[:1]
            return await _tools_reply(
                request, call, calls, reasoning=_reasoning_text(call.messages)
            )
        if model == "fake-empty":
            return _json_response(200, b"")
        if model == "fake-cut":
            return await self._cut(request, call)
        if model == BARE_429:
            return _bare_rate_limit(model)
        if model.startswith("fake-limit-"):
            seconds = _parse_number(model[len("fake-limit-") :])
            if seconds is not None:
                request[EXTRA_HEADERS] = {
                    "x-ratelimit-limit-requests": "3",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{seconds:g}s",
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
                return await self._reply(request, call, drip=ms / 1000)
        return await self._reply(request, call)

    async def _agent(self, request: web.Request, call: _Call) -> web.StreamResponse:
        """``fake-agent`` / ``fake-agent-think``: the next step of the prompt's script."""
        step = next_step(_agent_turn(call.body, call.messages))
        reasoning = _reasoning_text(call.messages) if call.model == "fake-agent-think" else None
        if step.tool is not None:
            arguments = orjson.dumps(step.arguments or {}).decode()
            tool_call = _ToolCall("call_" + os.urandom(12).hex(), step.tool, arguments)
            return await _tools_reply(request, call, [tool_call], reasoning=reasoning)
        return await self._reply(request, call, reasoning=reasoning, text=step.text or "")

    def _reply_text(self, request: web.Request, call: _Call) -> str:
        if request.headers.get(ECHO_HEADERS_HEADER) == "1":
            return orjson.dumps(_headers_dict(request), option=orjson.OPT_SORT_KEYS).decode()
        if call.json_output:
            return orjson.dumps({"echo": _last_user_text(call.messages)}).decode()
        results = _tool_results(call.messages)
        if results is not None:
            return "Tool said: " + " | ".join(results)
        return "Echo: " + _last_user_text(call.messages) + call.image_note

    async def _reply(
        self,
        request: web.Request,
        call: _Call,
        *,
        drip: float | None = None,
        reasoning: str | None = None,
        inline: bool = False,
        text: str | None = None,
    ) -> web.StreamResponse:
        """The text reply (``text``, else Echo's); ``reasoning`` goes first (``inline``: in
        ``<think>`` tags)."""
        if text is None:
            text = self._reply_text(request, call)
        pieces = _PIECE_RE.findall(text)
        finish_reason = "stop"
        if call.limit is not None and len(pieces) > call.limit:
            pieces = pieces[: call.limit]
            finish_reason = "length"
        thought = _PIECE_RE.findall(reasoning) if reasoning is not None else []
        prompt_tokens = _prompt_words(call.messages)
        completion_tokens = len(pieces) + len(thought)
        if not call.stream:
            content = "".join(pieces)
            if reasoning is not None and inline:
                content = _THINK_OPEN + reasoning + _THINK_CLOSE + content
            message: dict[str, Any] = {
                "role": "assistant",
                "content": content,
                "refusal": None,
                "annotations": [],
            }
            if reasoning is not None and not inline:
                message["reasoning_content"] = reasoning
            return _completion_response(
                call.model,
                message,
                finish_reason,
                prompt_tokens,
                completion_tokens,
                reasoning_tokens=len(thought),
            )

        maker = _ChunkMaker(call.model, call.include_usage)
        if reasoning is None or inline:
            contents = _tagged_pieces(thought, pieces) if reasoning is not None else pieces
            events = [maker.choice({"role": "assistant", "content": "", "refusal": None})]
            events.extend(maker.choice({"content": piece}) for piece in contents)
        else:
            # DeepSeek / vLLM style: reasoning deltas (content null), then content deltas.
            opening = {"role": "assistant", "content": None, "reasoning_content": ""}
            events = [maker.choice(opening)]
            events.extend(
                maker.choice({"content": None, "reasoning_content": piece}) for piece in thought
            )
            events.extend(
                maker.choice({"content": piece, "reasoning_content": None}) for piece in pieces
            )
        events.append(maker.choice({}, finish_reason))
        if call.include_usage:
            events.append(maker.usage(prompt_tokens, completion_tokens, len(thought)))
        events.append(_DONE)
        return await _stream(request, events, drip)

    async def _cut(self, request: web.Request, call: _Call) -> web.StreamResponse:
        pieces = _PIECE_RE.findall(self._reply_text(request, call))[:2]
        while len(pieces) < 2:
            pieces.append(" ...")
        response = web.StreamResponse(status=200, headers={"x-request-id": _request_id()})
        if call.stream:
            response.headers["Content-Type"] = _SSE
            maker = _ChunkMaker(call.model, call.include_usage)
            payload = maker.choice({"role": "assistant", "content": "", "refusal": None})
            payload += b"".join(maker.choice({"content": piece}) for piece in pieces)
        else:
            response.content_type = _JSON
            message = {"role": "assistant", "content": "".join(pieces), "refusal": None}
            whole = _completion_body(call.model, message, "stop", 0, 0)
            payload = whole[: len(whole) // 2]
        await response.prepare(request)
        await response.write(payload)
        transport = request.transport
        if transport is not None:
            # close() flushes what was written, then sends FIN: the client sees a body that
            # stops in the middle (no [DONE], no terminating zero-length chunk).
            transport.close()
        return response


def _loads_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _invalid_key_response(provided: str) -> web.Response:
    message = (
        f"Incorrect API key provided: {_mask_key(provided)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    return _error_response(401, message, "invalid_request_error", code="invalid_api_key")


def _validate(body: dict[str, Any]) -> _Call | web.Response:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _error_response(400, "you must provide a model parameter", "invalid_request_error")
    messages = body.get("messages")
    if not isinstance(messages, list):
        return _error_response(
            400,
            "Missing required parameter: 'messages'.",
            "invalid_request_error",
            param="messages",
            code="missing_required_parameter",
        )
    n = body.get("n")
    if n is not None and n != 1:
        return _error_response(
            400,
            f"Invalid 'n': this fake upstream only serves n=1, got {n!r}.",
            "invalid_request_error",
            param="n",
            code="invalid_value",
        )
    limit: int | None = None
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return _error_response(
                400,
                f"Invalid type for '{name}': expected an integer, but got {type(value).__name__} "
                "instead.",
                "invalid_request_error",
                param=name,
                code="invalid_type",
            )
        if value < 1:
            return _error_response(
                400,
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got "
                f"{value} instead.",
                "invalid_request_error",
                param=name,
                code="integer_below_min_value",
            )
        limit = value
        break
    try:
        image_note = _image_notes(_last_user_content(messages))
    except _BadImage as exc:
        return _error_response(
            400, str(exc), "invalid_request_error", param="messages", code="invalid_image_url"
        )
    stream = body.get("stream") is True
    options = body.get("stream_options")
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    return _Call(
        body,
        model,
        messages,
        stream,
        include_usage,
        limit,
        image_note=image_note,
        json_output=_wants_json(body),
    )


def _completion_body(
    model: str,
    message: dict[str, Any],
    finish_reason: str,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    reasoning_tokens: int = 0,
) -> bytes:
    return orjson.dumps(
        {
            "id": _completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": _usage(model, prompt_tokens, completion_tokens, reasoning_tokens),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
    )


def _completion_response(
    model: str,
    message: dict[str, Any],
    finish_reason: str,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    reasoning_tokens: int = 0,
) -> web.Response:
    body = _completion_body(
        model,
        message,
        finish_reason,
        prompt_tokens,
        completion_tokens,
        reasoning_tokens=reasoning_tokens,
    )
    return _json_response(200, body)


async def _stream(
    request: web.Request, events: Sequence[bytes], drip: float | None
) -> web.StreamResponse:
    response = web.StreamResponse(
        status=200, headers={"Content-Type": _SSE, "x-request-id": _request_id()}
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


async def _tools_reply(
    request: web.Request, call: _Call, calls: list[_ToolCall], *, reasoning: str | None = None
) -> web.StreamResponse:
    """Tool calls; ``reasoning`` (as ``reasoning_content``) goes first."""
    fragments = [_ARG_PIECE_RE.findall(tc.arguments) for tc in calls]
    thought = _PIECE_RE.findall(reasoning) if reasoning is not None else []
    completion_tokens = sum(len(f) for f in fragments) + len(thought)
    prompt_tokens = _prompt_words(call.messages)
    if not call.stream:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": tc.id,
                    "type": "function",
                    "function": {"name": tc.name, "arguments": tc.arguments},
                }
                for tc in calls
            ],
            "refusal": None,
            "annotations": [],
        }
        if reasoning is not None:
            message["reasoning_content"] = reasoning
        return _completion_response(
            call.model,
            message,
            "tool_calls",
            prompt_tokens,
            completion_tokens,
            reasoning_tokens=len(thought),
        )

    maker = _ChunkMaker(call.model, call.include_usage)
    events: list[bytes] = []
    if reasoning is not None:
        events.append(maker.choice({"role": "assistant", "content": None, "reasoning_content": ""}))
        events.extend(
            maker.choice({"content": None, "reasoning_content": piece}) for piece in thought
        )
    for index, (tc, pieces) in enumerate(zip(calls, fragments, strict=True)):
        opening = {
            "index": index,
            "id": tc.id,
            "type": "function",
            "function": {"name": tc.name, "arguments": ""},
        }
        delta: dict[str, Any]
        if index == 0 and reasoning is not None:
            delta = {"content": None, "reasoning_content": None, "tool_calls": [opening]}
        elif index == 0:
            delta = {"role": "assistant", "content": None, "tool_calls": [opening], "refusal": None}
        else:
            delta = {"tool_calls": [opening]}
        events.append(maker.choice(delta))
        events.extend(
            maker.choice({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in pieces
        )
    events.append(maker.choice({}, "tool_calls"))
    if call.include_usage:
        events.append(maker.usage(prompt_tokens, completion_tokens, len(thought)))
    events.append(_DONE)
    return await _stream(request, events, None)


def _fake_error(status: int, model: str) -> web.Response:
    if status == 400:
        return _error_response(
            400, f"Fake upstream error 400 for model '{model}'.", "invalid_request_error"
        )
    if status == 401:
        return _invalid_key_response("sk-fake-error-401-key")
    if status == 403:
        return _error_response(
            403,
            "Country, region, or territory not supported",
            "request_forbidden",
            code="unsupported_country_region_territory",
        )
    if status == 404:
        return _error_response(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            code="model_not_found",
        )
    if status == 429:
        return _error_response(
            429,
            f"Rate limit reached for {model} in organization org-fakeupstream on requests per "
            "min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "requests",
            code="rate_limit_exceeded",
            extra_headers=_RATE_LIMIT_HEADERS,
        )
    if status < 500:
        return _error_response(
            status, f"Fake upstream error {status} for model '{model}'.", "invalid_request_error"
        )
    if status == 503:
        message = "The server is overloaded or not ready yet."
    else:
        message = "The server had an error while processing your request. Sorry about that!"
    return _error_response(status, message, "server_error")


def _bare_rate_limit(model: str) -> web.Response:
    """A 429 that says nothing about when to retry: no headers, no time in the text."""
    return _error_response(
        429,
        f"Rate limit reached for {model} in organization org-fakeupstream on requests per "
        "min (RPM): Limit 3, Used 3, Requested 1.",
        "requests",
        code="rate_limit_exceeded",
    )


# --------------------------------------------------------------------------- public API


async def _extra_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(request.get(EXTRA_HEADERS, {}))


def create_app(state: FakeState) -> web.Application:
    """The aiohttp application of a fake upstream backed by ``state``."""
    handlers = _Handlers(state)
    app = web.Application(client_max_size=64 * 1024 * 1024)  # real upstreams take big contexts
    app[STATE_KEY] = state
    app.on_response_prepare.append(_extra_headers)
    app.router.add_post("/v1/chat/completions", handlers.chat_completions)
    app.router.add_get("/v1/models", handlers.list_models)
    app.router.add_get("/v1/models/{model}", handlers.get_model)
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    return app


class FakeOpenAI(FakeServer):
    """Runs a fake upstream on a real socket; use as ``async with FakeOpenAI() as fake:``."""

    name = "openai"
    default_key = DEFAULT_API_KEY
    base_path = "/v1"
    state: FakeState

    def make_state(self, api_key: str, record: bool) -> FakeState:
        return FakeState(api_key=api_key, record=record)

    def make_app(self) -> web.Application:
        return create_app(self.state)


def main(argv: Sequence[str] | None = None) -> int:
    return run_process(
        FakeOpenAI,
        "tests.fakes.openai_upstream",
        "Fake OpenAI-compatible upstream for tests and benchmarks.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
