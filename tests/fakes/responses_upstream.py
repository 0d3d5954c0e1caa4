"""A fake OpenAI upstream that speaks the Responses API wire format (``POST /v1/responses``).

Used by integration tests and benchmarks in place of ``api.openai.com``.  It listens on a
real socket (``FakeResponses`` picks a free port on 127.0.0.1) and serves:

* ``POST /v1/responses`` -- non-streaming (one ``response`` object) and streaming
  (``text/event-stream``: every event is ``event: <type>\\ndata: <JSON>\\n\\n``, the JSON
  repeating ``type`` and carrying a ``sequence_number`` that starts at 0 and grows by one;
  the stream ends with its terminal event -- ``response.completed``,
  ``response.incomplete`` or ``response.failed`` -- and there is no ``data: [DONE]``);
* ``GET /v1/models`` and ``GET /v1/models/{id}``;
* anything else: 404 ``{"error": {"message": "Invalid URL (METHOD /path)", ...}}``.

Auth is ``Authorization: Bearer <api_key>``; a missing or wrong key gives 401 with
``type`` ``invalid_request_error`` and ``code`` ``invalid_api_key``.  Error bodies are
OpenAI's ``{"error": {"message", "type", "param", "code"}}``.  Every response carries an
``x-request-id`` header.

The request is checked the way the real endpoint checks it, so that a gateway's
translation mistakes show up as 400s: ``model`` is required; ``input`` is a string or a
list of item objects; a message item (``type`` "message" or absent) needs ``role`` user,
assistant, system or developer, and its content parts must be ``input_text`` /
``input_image`` / ``input_file`` (user, system, developer) or ``output_text`` / ``refusal``
(assistant); ``function_call`` items need ``call_id``, ``name`` and ``arguments``;
``function_call_output`` items need ``call_id`` and ``output``; ``reasoning`` items need a
``summary`` list; function tools need a ``name``; ``text.format`` json_schema needs
``name`` and ``schema``; ``max_output_tokens`` must be an integer >= 1 (the real API wants
>= 16; the fake lets tests cut short replies); ``previous_response_id`` always gives 400
``previous_response_not_found`` because the fake stores nothing.

Behaviour is chosen by the request's ``model`` (see ``BEHAVIOUR.md``):

``<any other model>``
    Echo.  One ``message`` output item whose ``output_text`` is ``"Echo: " + <text of the
    last user message>`` (string content, or its ``input_text``/``output_text`` parts
    joined with single spaces), plus ``" [image: <media type> <n> bytes]"`` per base64
    ``input_image`` data URL, ``" [image: <url>]"`` per URL and ``" [image: file <id>]"``
    per ``file_id``.  If the input ends with ``function_call_output`` items the text is
    ``"Tool said: "`` + their outputs joined with ``" | "`` (every output after the last
    message item, in order).  ``text.format`` json_schema or json_object makes the text the
    compact JSON ``{"echo":"<text of the last user message>"}``.  Streaming sends one
    ``response.output_text.delta`` per word (each word keeps its leading space).
    ``max_output_tokens`` below the word count cuts the text to that many words; the
    message item's status and the response's status are then ``incomplete`` with
    ``incomplete_details.reason`` ``max_output_tokens`` (the stream ends with
    ``response.incomplete`` instead of ``response.completed``).
``fake-tools``
    Two ``function_call`` output items, ``call_id`` ``call_fake_1``/``call_fake_2``, item
    ids ``fc_fake_1``/``fc_fake_2``, to the first two function tools of the request (the
    first one twice if only one; ``get_weather`` and ``get_time`` if none), arguments
    ``{"<key>":"Paris"}`` and ``{"<key>":"Tokyo"}`` (``<key>`` = first property of the
    tool's parameter schema, else ``city``).  Streamed arguments come in >= 3
    ``response.function_call_arguments.delta`` events per call.  When the input already
    ends with a tool result, Echo instead.
``fake-think``
    A ``reasoning`` output item (id ``rs_...``, ``summary`` [``summary_text`` "Thinking
    about: <text of the last user message>"], ``encrypted_content`` ``sig-fake-1``), then
    the Echo message.  ``output_tokens_details.reasoning_tokens`` = words of the summary.
    Streaming: ``response.reasoning_summary_part.added``, one
    ``response.reasoning_summary_text.delta`` per word, ``...text.done``,
    ``...part.done``; the ``response.output_item.added`` reasoning item has
    ``encrypted_content`` null (the reference warns it may be incomplete there), the
    ``response.output_item.done`` one carries ``sig-fake-1``.
``fake-think-tools``
    The reasoning item, then one function call (the first one of ``fake-tools``).  When the
    input ends with tool results, every answered ``function_call`` item must be preceded
    (after the last message item) by a ``reasoning`` item with ``encrypted_content``
    ``sig-fake-1``; otherwise 400 whose message mentions the signature and
    ``encrypted_content``.  With a valid history: Echo ("Tool said: ...").
``fake-agent``
    Plays the script of ``tests/fakes/agent_script.py`` (``SAY:`` / ``RUN:`` lines anywhere
    in a user message), one step per request.  The script sees every ``user`` message
    item's text (its text parts joined with newlines), the outputs of the
    ``function_call_output`` items after the newest scripted user message (a string, or its
    text parts), and the function tools (name and ``parameters``).  A text step is an
    Echo-framed message (``max_output_tokens`` applies); a tool step is one
    ``function_call`` item, streamed like ``fake-tools``, with a fresh ``call_id``
    ``call_<hex>`` (item id ``fc_<hex>``) per call.
``fake-agent-think``
    ``fake-agent`` with ``fake-think``'s reasoning item (``encrypted_content``
    ``sig-fake-1``) first; the replay of that item is not checked.
``fake-error-<status>`` (400..599)
    That status with an OpenAI error body; 429 adds ``retry-after`` and the
    ``x-ratelimit-*`` headers.  Same for streaming requests.
``fake-error-429-bare``
    The 429 without any hint of when to retry: no ``retry-after`` or ``x-ratelimit-*``
    headers and no "try again in" in the message.
``fake-slow-<seconds>``
    Waits that long before sending the response headers, then Echo.
``fake-drip-<ms>``
    Streaming: headers at once, then each event written another ``<ms>`` ms later.
    Non-streaming: Echo.
``fake-cut``
    Streaming: ``response.created``, ``response.in_progress``, the message's
    ``output_item.added`` and ``content_part.added`` and the first two word deltas, then
    the connection is closed mid-body (no terminal event, no final zero-length chunk).
    Non-streaming: the first half of the JSON body, then the same close.
``fake-stream-fail``
    Streaming: the same opening and two word deltas as ``fake-cut``, then a
    ``response.failed`` event (``response.status`` "failed", ``response.error``
    ``{"code": "server_error", "message": ...}``, ``output`` []) and a clean end of the
    body.  Non-streaming: 500 ``server_error`` with the same message.
``fake-empty``
    200 with ``content-type: application/json`` and an empty body.

Usage: ``input_tokens`` = words in ``instructions`` plus the text of every message item;
``output_tokens`` = words of the reply (+ reasoning words; + argument pieces for tool
calls); ``input_tokens_details.cached_tokens`` = half the input tokens when the model name
contains ``cached``, else 0; ``input_tokens_details.cache_write_tokens`` (as Azure reports
cache writes) = a quarter of them when it contains ``cache-write``, else absent.  With the
request header ``x-fake-echo-headers: 1`` the Echo text is the JSON of the received headers
(lower-cased names, sorted).

The response object echoes the request's settings (``instructions``, ``max_output_tokens``,
``parallel_tool_calls``, ``reasoning``, ``store``, ``temperature``, ``text``,
``tool_choice``, ``tools``, ``top_p``, ``metadata`` ...) with the API's defaults.

``FakeState.requests`` keeps the last 1000 requests (method, path, query, lower-cased
headers, parsed JSON body, raw bytes, peer); ``record=False`` stores nothing.

Run as a process for benchmarks::

    python -m tests.fakes.responses_upstream --port 8002 [--host 127.0.0.1] [--api-key K]
        [--no-record]

It prints ``listening on http://127.0.0.1:8002/v1`` once ready and uses uvloop if importable.
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
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.agent_script import Turn, next_step, scripted_prompt
from tests.fakes.openai_upstream import MAX_RECORDED, FakeState, RecordedRequest
from tests.fakes.server import BARE_429, FakeServer, run_process

__all__ = [
    "DEFAULT_API_KEY",
    "MAX_RECORDED",
    "REASONING_SIGNATURE",
    "FakeResponses",
    "FakeState",
    "RecordedRequest",
    "create_app",
    "main",
]

DEFAULT_API_KEY = "sk-resp-upstream-test"
REASONING_SIGNATURE = "sig-fake-1"
ECHO_HEADERS_HEADER = "x-fake-echo-headers"
STREAM_FAIL_MESSAGE = "The server had an error while processing your request. Sorry about that!"

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
# One piece per word: optional leading whitespace, the word, and trailing whitespace only at
# the very end, so the pieces always concatenate back to the whole text.
_PIECE_RE = re.compile(r"\s*\S+(?:\s+$)?|\s+$")
# Argument pieces roughly like tokens: runs of word characters and runs of the rest.
_ARG_PIECE_RE = re.compile(r"\w+|\W+")
_DATA_URL_RE = re.compile(r"data:([^;,]*)((?:;[^;,]*)*),(.*)", re.DOTALL)

_MESSAGE_ROLES = ("user", "assistant", "system", "developer")
_INPUT_PART_TYPES = ("input_text", "input_image", "input_file", "input_audio")
_ASSISTANT_PART_TYPES = ("output_text", "refusal")
_AGENT_MODELS = frozenset({"fake-agent", "fake-agent-think"})

_MODEL_IDS = (
    "gpt-4.1-mini",
    "gpt-4.1",
    "o4-mini",
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
    "fake-stream-fail",
    "fake-empty",
)
_MODEL_CREATED = 1_700_000_000

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

STATE_KEY: web.AppKey[FakeState] = web.AppKey("fake_responses_state", FakeState)


# --------------------------------------------------------------------------- small helpers


def _request_id() -> str:
    return "req_" + os.urandom(16).hex()


def _new_id(prefix: str) -> str:
    return prefix + os.urandom(24).hex()


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
    err_type: str = "invalid_request_error",
    *,
    param: str | None = None,
    code: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> web.Response:
    body = orjson.dumps(
        {"error": {"message": message, "type": err_type, "param": param, "code": code}}
    )
    return _json_response(status, body, extra_headers)


def _missing(param: str) -> web.Response:
    return _error_response(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


def _invalid_type(param: str, expected: str, value: Any) -> web.Response:
    return _error_response(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _invalid_value(param: str, value: Any, supported: Sequence[str]) -> web.Response:
    choices = ", ".join(f"'{s}'" for s in supported[:-1]) + f", and '{supported[-1]}'"
    return _error_response(
        400,
        f"Invalid value: {orjson.dumps(value).decode()}. Supported values are: {choices}.",
        param=param,
        code="invalid_value",
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _mask_key(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _words(text: str) -> int:
    return len(text.split())


def _loads_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


# --------------------------------------------------------------------------- reading input


def _is_message(item: dict[str, Any]) -> bool:
    return item.get("type", "message") == "message"


def _content_text(content: Any) -> str:
    """Text of a message's content or of a tool output: a string, or its text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") in ("input_text", "output_text")
            and isinstance(part.get("text"), str)
        )
    return ""


def _lines_of(content: Any) -> str:
    """Text of a content value or tool output with its text parts joined by newlines (for
    the agent script, whose ``SAY:`` / ``RUN:`` patterns are anchored at line starts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") in ("input_text", "output_text", "text")
            and isinstance(part.get("text"), str)
        )
    return ""


def _agent_turn(body: dict[str, Any], items: list[dict[str, Any]]) -> Turn:
    """The request as the agent script sees it (``fake-agent``)."""
    user_texts: list[tuple[int, str]] = []
    results: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        if _is_message(item) and item.get("role") == "user":
            user_texts.append((index, _lines_of(item.get("content"))))
        elif item.get("type") == "function_call_output":
            results.append((index, _lines_of(item.get("output"))))
    prompt = scripted_prompt([text for _, text in user_texts])
    prompt_at = max((i for i, text in user_texts if text == prompt), default=-1)
    tools: list[tuple[str, dict[str, Any]]] = []
    declared = body.get("tools")
    for tool in declared if isinstance(declared, list) else []:
        if isinstance(tool, dict) and tool.get("type") == "function":  # validated: a name
            schema = tool.get("parameters")
            tools.append((tool["name"], schema if isinstance(schema, dict) else {}))
    return Turn(
        user_texts=[text for _, text in user_texts],
        results_after_prompt=[text for i, text in results if i > prompt_at],
        tools=tools,
    )


def _image_note(part: dict[str, Any]) -> str:
    url = part.get("image_url")
    if isinstance(url, str) and url:
        match = _DATA_URL_RE.fullmatch(url)
        if match is None:
            return f" [image: {url}]"
        media_type = match.group(1) or "text/plain"
        payload = match.group(3)
        if ";base64" in match.group(2):
            size = len(base64.b64decode(payload, validate=True))
        else:
            size = len(payload.encode())
        return f" [image: {media_type} {size} bytes]"
    file_id = part.get("file_id")
    if isinstance(file_id, str) and file_id:
        return f" [image: file {file_id}]"
    return ""


def _image_notes(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    return "".join(
        _image_note(part)
        for part in content
        if isinstance(part, dict) and part.get("type") == "input_image"
    )


def _last_user_message(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    for item in reversed(items):
        if _is_message(item) and item.get("role") == "user":
            return item
    return None


def _tool_results(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``function_call_output`` items of the last turn, if the input ends with one."""
    if not items or items[-1].get("type") != "function_call_output":
        return []
    results: list[dict[str, Any]] = []
    for item in reversed(items):
        if _is_message(item):
            break
        if item.get("type") == "function_call_output":
            results.append(item)
    results.reverse()
    return results


def _signature_problem(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> str | None:
    """Why the replayed history lacks the reasoning signature, or None when it is valid."""
    for result in results:
        call_id = result.get("call_id")
        index = next(
            (
                i
                for i in range(len(items) - 1, -1, -1)
                if items[i].get("type") == "function_call" and items[i].get("call_id") == call_id
            ),
            None,
        )
        if index is None:
            return (
                f"No tool call found for function call output with call_id {call_id}: replay "
                "the function_call item, preceded by its reasoning item with the signature "
                f"(encrypted_content '{REASONING_SIGNATURE}')."
            )
        signed = False
        for earlier in reversed(items[:index]):
            if _is_message(earlier):
                break
            if (
                earlier.get("type") == "reasoning"
                and earlier.get("encrypted_content") == REASONING_SIGNATURE
            ):
                signed = True
                break
        if not signed:
            label = items[index].get("id") or call_id
            return (
                f"Item '{label}' of type 'function_call' was provided without its required "
                "'reasoning' item: replay the reasoning item with its signature "
                f"(encrypted_content '{REASONING_SIGNATURE}') before it."
            )
    return None


# --------------------------------------------------------------------------- validation


@dataclass
class _Call:
    """What a Responses request asked for, once validated."""

    body: dict[str, Any]
    model: str
    items: list[dict[str, Any]]
    instructions: str | None
    stream: bool
    limit: int | None
    json_output: bool
    text_format: dict[str, Any]


def _check_item(index: int, item: Any) -> web.Response | None:
    where = f"input[{index}]"
    if not isinstance(item, dict):
        return _invalid_type(where, "an object", item)
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role is None:
            return _missing(f"{where}.role")
        if role not in _MESSAGE_ROLES:
            return _invalid_value(f"{where}.role", role, _MESSAGE_ROLES)
        content = item.get("content")
        if content is None:
            return _missing(f"{where}.content")
        if isinstance(content, str):
            return None
        if not isinstance(content, list):
            return _invalid_type(f"{where}.content", "one of a string or array", content)
        allowed = _ASSISTANT_PART_TYPES if role == "assistant" else _INPUT_PART_TYPES
        for n, part in enumerate(content):
            part_where = f"{where}.content[{n}]"
            if not isinstance(part, dict):
                return _invalid_type(part_where, "an object", part)
            if part.get("type") not in allowed:
                return _invalid_value(f"{part_where}.type", part.get("type"), allowed)
            if part["type"] == "input_image":
                url = part.get("image_url")
                if isinstance(url, str) and url.startswith("data:"):
                    try:
                        _image_note(part)
                    except (binascii.Error, ValueError):
                        return _error_response(
                            400,
                            f"Invalid '{part_where}.image_url'. Expected a base64-encoded data "
                            "URL with an image MIME type (e.g. 'data:image/png;base64,...').",
                            param=f"{part_where}.image_url",
                            code="invalid_value",
                        )
        return None
    required: tuple[str, ...] = ()
    if kind == "function_call":
        required = ("call_id", "name", "arguments")
    elif kind == "function_call_output":
        required = ("call_id", "output")
    elif kind == "reasoning":
        required = ("summary",)
    for name in required:
        if item.get(name) is None:
            return _missing(f"{where}.{name}")
    if kind == "reasoning" and not isinstance(item["summary"], list):
        return _invalid_type(f"{where}.summary", "an array", item["summary"])
    return None


def _validate(body: dict[str, Any]) -> _Call | web.Response:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _missing("model")
    if body.get("previous_response_id") is not None:
        return _error_response(
            400,
            f"Previous response with id '{body['previous_response_id']}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    raw_input = body.get("input")
    items: list[dict[str, Any]]
    if raw_input is None:
        items = []
    elif isinstance(raw_input, str):
        items = [{"type": "message", "role": "user", "content": raw_input}]
    elif isinstance(raw_input, list):
        for index, item in enumerate(raw_input):
            problem = _check_item(index, item)
            if problem is not None:
                return problem
        items = raw_input
    else:
        return _invalid_type("input", "one of a string or array of input items", raw_input)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        return _invalid_type("instructions", "a string", instructions)
    limit = body.get("max_output_tokens")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            return _invalid_type("max_output_tokens", "an integer", limit)
        if limit < 1:
            return _error_response(
                400,
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value "
                f">= 1, but got {limit} instead.",
                param="max_output_tokens",
                code="integer_below_min_value",
            )
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return _invalid_type("tools", "an array", tools)
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict):
                return _invalid_type(f"tools[{index}]", "an object", tool)
            if tool.get("type") == "function" and not isinstance(tool.get("name"), str):
                return _missing(f"tools[{index}].name")
    text = body.get("text")
    text_format: dict[str, Any] = {"type": "text"}
    if text is not None:
        if not isinstance(text, dict):
            return _invalid_type("text", "an object", text)
        fmt = text.get("format")
        if fmt is not None:
            if not isinstance(fmt, dict):
                return _invalid_type("text.format", "an object", fmt)
            kind = fmt.get("type")
            if kind not in ("text", "json_schema", "json_object"):
                return _invalid_value(
                    "text.format.type", kind, ("text", "json_schema", "json_object")
                )
            if kind == "json_schema":
                for name in ("name", "schema"):
                    if fmt.get(name) is None:
                        return _missing(f"text.format.{name}")
            text_format = fmt
    return _Call(
        body=body,
        model=model,
        items=items,
        instructions=instructions,
        stream=body.get("stream") is True,
        limit=limit,
        json_output=text_format.get("type") in ("json_schema", "json_object"),
        text_format=text_format,
    )


# --------------------------------------------------------------------------- output plan


@dataclass
class _Reasoning:
    id: str
    text: str


@dataclass
class _Message:
    id: str
    pieces: list[str]
    complete: bool  # False when max_output_tokens cut it


@dataclass
class _FunctionCall:
    id: str
    call_id: str
    name: str
    arguments: str

    @property
    def pieces(self) -> list[str]:
        return _ARG_PIECE_RE.findall(self.arguments)


_Entry = _Reasoning | _Message | _FunctionCall


@dataclass
class _Plan:
    """The output items of one reply, and what they cost."""

    entries: list[_Entry]
    input_tokens: int
    cached: bool
    cache_write: bool = False

    @property
    def incomplete(self) -> bool:
        return any(isinstance(e, _Message) and not e.complete for e in self.entries)

    def usage(self) -> dict[str, Any]:
        reasoning = sum(_words(e.text) for e in self.entries if isinstance(e, _Reasoning))
        output = reasoning
        for entry in self.entries:
            if isinstance(entry, _Message | _FunctionCall):
                output += len(entry.pieces)
        details = {"cached_tokens": self.input_tokens // 2 if self.cached else 0}
        if self.cache_write:
            details["cache_write_tokens"] = self.input_tokens // 4
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": details,
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": self.input_tokens + output,
        }


def _input_tokens(call: _Call) -> int:
    total = _words(call.instructions or "")
    for item in call.items:
        if _is_message(item):
            total += _words(_content_text(item.get("content")))
    return total


def _last_user_text(call: _Call) -> str:
    message = _last_user_message(call.items)
    return "" if message is None else _content_text(message.get("content"))


def _reply_text(request: web.Request, call: _Call) -> str:
    if request.headers.get(ECHO_HEADERS_HEADER) == "1":
        return orjson.dumps(_headers_dict(request), option=orjson.OPT_SORT_KEYS).decode()
    if call.json_output:
        return orjson.dumps({"echo": _last_user_text(call)}).decode()
    results = _tool_results(call.items)
    if results:
        return "Tool said: " + " | ".join(_content_text(r.get("output")) for r in results)
    message = _last_user_message(call.items)
    if message is None:
        return "Echo: "
    content = message.get("content")
    return "Echo: " + _content_text(content) + _image_notes(content)


def _message(text: str, limit: int | None) -> _Message:
    pieces = _PIECE_RE.findall(text)
    complete = limit is None or len(pieces) <= limit
    return _Message(_new_id("msg_"), pieces if complete else pieces[:limit], complete)


def _reasoning(call: _Call) -> _Reasoning:
    return _Reasoning(_new_id("rs_"), "Thinking about: " + _last_user_text(call))


def _function_calls(body: dict[str, Any]) -> list[_FunctionCall]:
    found: list[tuple[str, str]] = []
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict) or tool.get("type") != "function":
            continue
        params = tool.get("parameters")
        props = params.get("properties") if isinstance(params, dict) else None
        key = next(iter(props), "city") if isinstance(props, dict) and props else "city"
        found.append((tool["name"], key))
        if len(found) == 2:
            break
    if not found:
        found = [("get_weather", "city"), ("get_time", "city")]
    elif len(found) == 1:
        found.append(found[0])
    return [
        _FunctionCall(f"fc_fake_{n}", f"call_fake_{n}", name, orjson.dumps({key: value}).decode())
        for n, ((name, key), value) in enumerate(zip(found, ("Paris", "Tokyo"), strict=True), 1)
    ]


def _agent_entries(call: _Call) -> list[_Entry]:
    """``fake-agent`` / ``fake-agent-think``: the next step of the prompt's script."""
    step = next_step(_agent_turn(call.body, call.items))
    entries: list[_Entry] = [_reasoning(call)] if call.model == "fake-agent-think" else []
    if step.tool is not None:
        arguments = orjson.dumps(step.arguments or {}).decode()
        tag = os.urandom(12).hex()
        entries.append(_FunctionCall(f"fc_{tag}", f"call_{tag}", step.tool, arguments))
    else:
        entries.append(_message(step.text or "", call.limit))
    return entries


def _plan(request: web.Request, call: _Call) -> _Plan | web.Response:
    entries: list[_Entry]
    model = call.model
    tool_turn = bool(_tool_results(call.items))
    if model in _AGENT_MODELS:
        entries = _agent_entries(call)
    elif model == "fake-tools" and not tool_turn:
        entries = list(_function_calls(call.body))
    elif model == "fake-think-tools" and not tool_turn:
        entries = [_reasoning(call), _function_calls(call.body)[0]]
    elif model == "fake-think-tools":
        problem = _signature_problem(call.items, _tool_results(call.items))
        if problem is not None:
            return _error_response(400, problem, param="input")
        entries = [_message(_reply_text(request, call), call.limit)]
    elif model == "fake-think":
        entries = [_reasoning(call), _message(_reply_text(request, call), call.limit)]
    else:
        entries = [_message(_reply_text(request, call), call.limit)]
    return _Plan(entries, _input_tokens(call), "cached" in model, "cache-write" in model)


# --------------------------------------------------------------------------- wire objects


def _output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _summary_part(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


def _item(entry: _Entry, *, done: bool = True) -> dict[str, Any]:
    """The output item of ``entry``: finished, or as ``response.output_item.added`` shows it."""
    if isinstance(entry, _Reasoning):
        return {
            "id": entry.id,
            "type": "reasoning",
            "encrypted_content": REASONING_SIGNATURE if done else None,
            "summary": [_summary_part(entry.text)] if done else [],
        }
    if isinstance(entry, _Message):
        status = ("completed" if entry.complete else "incomplete") if done else "in_progress"
        return {
            "id": entry.id,
            "type": "message",
            "status": status,
            "content": [_output_text_part("".join(entry.pieces))] if done else [],
            "role": "assistant",
        }
    return {
        "id": entry.id,
        "type": "function_call",
        "status": "completed" if done else "in_progress",
        "arguments": entry.arguments if done else "",
        "call_id": entry.call_id,
        "name": entry.name,
    }


class _ResponseMaker:
    """Builds the ``response`` objects of one reply, echoing the request's settings."""

    __slots__ = ("call", "created_at", "id")

    def __init__(self, call: _Call) -> None:
        self.call = call
        self.id = _new_id("resp_")
        self.created_at = int(time.time())

    def response(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: dict[str, Any] | None = None,
        *,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body = self.call.body
        reasoning = body.get("reasoning")
        reasoning = reasoning if isinstance(reasoning, dict) else {}
        text = body.get("text")
        text = text if isinstance(text, dict) else {}
        finished = status in ("completed", "incomplete")
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "completed_at": int(time.time()) if finished else None,
            "error": error,
            "incomplete_details": (
                {"reason": "max_output_tokens"} if status == "incomplete" else None
            ),
            "instructions": self.call.instructions,
            "max_output_tokens": self.call.limit,
            "max_tool_calls": body.get("max_tool_calls"),
            "model": self.call.model,
            "output": output,
            "parallel_tool_calls": _or(body.get("parallel_tool_calls"), True),
            "previous_response_id": None,
            "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": "default",
            "store": _or(body.get("store"), True),
            "temperature": _or(body.get("temperature"), 1.0),
            "text": {
                "format": self.call.text_format,
                "verbosity": _or(text.get("verbosity"), "medium"),
            },
            "tool_choice": _or(body.get("tool_choice"), "auto"),
            "tools": _or(body.get("tools"), []),
            "top_logprobs": _or(body.get("top_logprobs"), 0),
            "top_p": _or(body.get("top_p"), 1.0),
            "truncation": _or(body.get("truncation"), "disabled"),
            "usage": usage,
            "user": body.get("user"),
            "metadata": _or(body.get("metadata"), {}),
        }

    def final(self, plan: _Plan) -> dict[str, Any]:
        status = "incomplete" if plan.incomplete else "completed"
        return self.response(status, [_item(e) for e in plan.entries], plan.usage())


class _Events:
    """Serialises stream events, numbering them from 0."""

    __slots__ = ("sequence",)

    def __init__(self) -> None:
        self.sequence = 0

    def emit(self, event_type: str, **fields: Any) -> bytes:
        data = {"type": event_type, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return b"event: " + event_type.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _opening(events: _Events, maker: _ResponseMaker) -> list[bytes]:
    return [
        events.emit("response.created", response=maker.response("in_progress", [])),
        events.emit("response.in_progress", response=maker.response("in_progress", [])),
    ]


def _message_start(events: _Events, message: _Message, index: int) -> list[bytes]:
    return [
        events.emit(
            "response.output_item.added", output_index=index, item=_item(message, done=False)
        ),
        events.emit(
            "response.content_part.added",
            item_id=message.id,
            output_index=index,
            content_index=0,
            part=_output_text_part(""),
        ),
    ]


def _text_deltas(events: _Events, message: _Message, index: int, pieces: list[str]) -> list[bytes]:
    return [
        events.emit(
            "response.output_text.delta",
            item_id=message.id,
            output_index=index,
            content_index=0,
            delta=piece,
            logprobs=[],
        )
        for piece in pieces
    ]


def _entry_events(events: _Events, entry: _Entry, index: int) -> list[bytes]:
    if isinstance(entry, _Message):
        text = "".join(entry.pieces)
        return [
            *_message_start(events, entry, index),
            *_text_deltas(events, entry, index, entry.pieces),
            events.emit(
                "response.output_text.done",
                item_id=entry.id,
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            ),
            events.emit(
                "response.content_part.done",
                item_id=entry.id,
                output_index=index,
                content_index=0,
                part=_output_text_part(text),
            ),
            events.emit("response.output_item.done", output_index=index, item=_item(entry)),
        ]
    if isinstance(entry, _Reasoning):
        ids = {"item_id": entry.id, "output_index": index, "summary_index": 0}
        return [
            events.emit(
                "response.output_item.added", output_index=index, item=_item(entry, done=False)
            ),
            events.emit("response.reasoning_summary_part.added", **ids, part=_summary_part("")),
            *(
                events.emit("response.reasoning_summary_text.delta", **ids, delta=piece)
                for piece in _PIECE_RE.findall(entry.text)
            ),
            events.emit("response.reasoning_summary_text.done", **ids, text=entry.text),
            events.emit(
                "response.reasoning_summary_part.done", **ids, part=_summary_part(entry.text)
            ),
            events.emit("response.output_item.done", output_index=index, item=_item(entry)),
        ]
    return [
        events.emit(
            "response.output_item.added", output_index=index, item=_item(entry, done=False)
        ),
        *(
            events.emit(
                "response.function_call_arguments.delta",
                item_id=entry.id,
                output_index=index,
                delta=piece,
            )
            for piece in entry.pieces
        ),
        events.emit(
            "response.function_call_arguments.done",
            item_id=entry.id,
            output_index=index,
            name=entry.name,
            arguments=entry.arguments,
        ),
        events.emit("response.output_item.done", output_index=index, item=_item(entry)),
    ]


def _stream_events(maker: _ResponseMaker, plan: _Plan) -> list[bytes]:
    events = _Events()
    out = _opening(events, maker)
    for index, entry in enumerate(plan.entries):
        out.extend(_entry_events(events, entry, index))
    final = maker.final(plan)
    terminal = "response.incomplete" if plan.incomplete else "response.completed"
    out.append(events.emit(terminal, response=final))
    return out


def _broken_stream_start(maker: _ResponseMaker, message: _Message) -> tuple[_Events, list[bytes]]:
    """The opening events and the first two word deltas of ``message``."""
    events = _Events()
    pieces = message.pieces[:2]
    while len(pieces) < 2:
        pieces.append(" ...")
    out = [
        *_opening(events, maker),
        *_message_start(events, message, 0),
        *_text_deltas(events, message, 0, pieces),
    ]
    return events, out


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
            return _error_response(401, _NO_KEY_MESSAGE, code="invalid_api_key")
        provided = header[7:] if header[:7].lower() == "bearer " else header
        return _invalid_key_response(provided)

    # -- routes --------------------------------------------------------------

    async def not_found(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.state.record:
            self._record(request, raw, _loads_or_none(raw))
        return _error_response(404, f"Invalid URL ({request.method} {request.path})")

    async def list_models(self, request: web.Request) -> web.Response:
        if self.state.record:
            self._record(request, b"", None)
        body = orjson.dumps({"object": "list", "data": [_model_object(m) for m in _MODEL_IDS]})
        return self._auth_error(request) or _json_response(200, body)

    async def get_model(self, request: web.Request) -> web.Response:
        if self.state.record:
            self._record(request, b"", None)
        denied = self._auth_error(request)
        if denied is not None:
            return denied
        return _json_response(200, orjson.dumps(_model_object(request.match_info["model"])))

    async def responses(self, request: web.Request) -> web.StreamResponse:
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
            return _error_response(400, _BAD_JSON_MESSAGE)
        call = _validate(body)
        if isinstance(call, web.Response):
            return call
        model = call.model
        if model == "fake-empty":
            return _json_response(200, b"")
        if model == BARE_429:
            return _bare_rate_limit(model)
        if model.startswith("fake-error-"):
            status_text = model[len("fake-error-") :]
            if status_text.isdigit() and 400 <= int(status_text) <= 599:
                return _fake_error(int(status_text), model)
        elif model.startswith("fake-slow-"):
            seconds = _parse_number(model[len("fake-slow-") :])
            if seconds is not None:
                await asyncio.sleep(seconds)
        plan = _plan(request, call)
        if isinstance(plan, web.Response):
            return plan
        maker = _ResponseMaker(call)
        if model == "fake-cut":
            return await _cut(request, call, maker, plan)
        if model == "fake-stream-fail":
            return await _stream_fail(request, call, maker, plan)
        if not call.stream:
            return _json_response(200, orjson.dumps(maker.final(plan)))
        drip: float | None = None
        if model.startswith("fake-drip-"):
            ms = _parse_number(model[len("fake-drip-") :])
            drip = None if ms is None else ms / 1000
        return await _stream(request, _stream_events(maker, plan), drip)


def _model_object(model_id: str) -> dict[str, Any]:
    owner = "fake-upstream" if model_id.startswith("fake-") else "system"
    return {"id": model_id, "object": "model", "created": _MODEL_CREATED, "owned_by": owner}


def _invalid_key_response(provided: str) -> web.Response:
    message = (
        f"Incorrect API key provided: {_mask_key(provided)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    return _error_response(401, message, code="invalid_api_key")


def _fake_error(status: int, model: str) -> web.Response:
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
        return _error_response(status, f"Fake upstream error {status} for model '{model}'.")
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


def _first_message(plan: _Plan) -> _Message:
    message = next((e for e in plan.entries if isinstance(e, _Message)), None)
    return message if message is not None else _message("Echo: ...", None)


async def _cut(
    request: web.Request, call: _Call, maker: _ResponseMaker, plan: _Plan
) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={"x-request-id": _request_id()})
    if call.stream:
        response.headers["Content-Type"] = _SSE
        _, events = _broken_stream_start(maker, _first_message(plan))
        payload = b"".join(events)
    else:
        response.content_type = _JSON
        whole = orjson.dumps(maker.final(plan))
        payload = whole[: len(whole) // 2]
    await response.prepare(request)
    await response.write(payload)
    transport = request.transport
    if transport is not None:
        # close() flushes what was written, then sends FIN: the client sees a body that
        # stops in the middle (no terminal event, no terminating zero-length chunk).
        transport.close()
    return response


async def _stream_fail(
    request: web.Request, call: _Call, maker: _ResponseMaker, plan: _Plan
) -> web.StreamResponse:
    if not call.stream:
        return _error_response(500, STREAM_FAIL_MESSAGE, "server_error")
    events, out = _broken_stream_start(maker, _first_message(plan))
    failed = maker.response(
        "failed", [], error={"code": "server_error", "message": STREAM_FAIL_MESSAGE}
    )
    out.append(events.emit("response.failed", response=failed))
    return await _stream(request, out, None)


# --------------------------------------------------------------------------- public API


def create_app(state: FakeState) -> web.Application:
    """The aiohttp application of a fake Responses upstream backed by ``state``."""
    handlers = _Handlers(state)
    app = web.Application(client_max_size=64 * 1024 * 1024)  # real upstreams take big contexts
    app[STATE_KEY] = state
    app.router.add_post("/v1/responses", handlers.responses)
    app.router.add_get("/v1/models", handlers.list_models)
    app.router.add_get("/v1/models/{model}", handlers.get_model)
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    return app


class FakeResponses(FakeServer):
    """Runs a fake Responses upstream on a real socket: ``async with FakeResponses() as f:``."""

    name = "responses"
    default_key = DEFAULT_API_KEY
    base_path = "/v1"
    state: FakeState

    def make_state(self, api_key: str, record: bool) -> FakeState:
        return FakeState(api_key=api_key, record=record)

    def make_app(self) -> web.Application:
        return create_app(self.state)


def main(argv: Sequence[str] | None = None) -> int:
    return run_process(
        FakeResponses,
        "tests.fakes.responses_upstream",
        "Fake OpenAI Responses API upstream for tests and benchmarks.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
