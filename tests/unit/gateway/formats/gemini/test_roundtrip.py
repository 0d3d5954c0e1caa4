"""Property tests: hub → Gemini → hub keeps every field Gemini can express.

Strategies build only hub values Gemini can carry (docs/dialects/gemini.md, "Known limits"):
e.g. no reasoning text in request history, tool results that are JSON objects, a single
leading system message, alternating turns, JSON Schema in the subset Gemini's Schema has.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.gemini import CODEC
from gateway.formats.gemini.schema import from_gemini, to_gemini
from gateway.formats.sse import SSEDecoder, SSEEvent
from tests.unit.gateway.formats.gemini.support import emit, normalise, parse_stream

SETTINGS = settings(max_examples=150, deadline=None, database=None)

words = st.text(min_size=1, max_size=12)
names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
signatures = st.binary(min_size=1, max_size=24).map(lambda b: base64.b64encode(b).decode())
json_values = st.one_of(st.integers(-1000, 1000), words, st.booleans(), st.none())
json_objects = st.dictionaries(names, json_values, max_size=3)

# JSON Schema in the subset that survives Gemini's Schema ---------------------------------


def _nullable(schema: dict[str, Any], draw_null: bool) -> dict[str, Any]:
    if draw_null:
        schema["type"] = [schema["type"], "null"]
    return schema


@st.composite
def leaf_schemas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "number", "integer", "boolean"]))
    schema: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        schema["description"] = draw(words)
    if kind == "string":
        if draw(st.booleans()):
            schema["enum"] = draw(st.lists(words, min_size=1, max_size=3, unique=True))
        elif draw(st.booleans()):
            schema["format"] = "date-time"
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(1, 50))
    elif kind in ("number", "integer"):
        if draw(st.booleans()):
            schema["format"] = "double" if kind == "number" else "int64"
        if draw(st.booleans()):
            schema["minimum"] = draw(st.integers(-5, 5))
    return _nullable(schema, draw(st.booleans()))


def object_schemas(
    children: st.SearchStrategy[dict[str, Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        properties = draw(st.dictionaries(names, children, min_size=1, max_size=3))
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = draw(st.lists(st.sampled_from(sorted(properties)), unique=True))
        if required:
            schema["required"] = required
        return schema

    return build()


def schemas() -> st.SearchStrategy[dict[str, Any]]:
    def extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        arrays = st.builds(
            lambda items, top: {
                "type": "array",
                "items": items,
                **({"maxItems": top} if top else {}),
            },
            children,
            st.integers(0, 4),
        )
        any_of = st.builds(
            lambda branches, null: {"anyOf": branches + ([{"type": "null"}] if null else [])},
            st.lists(children, min_size=2, max_size=3),
            st.booleans(),
        )
        return st.one_of(arrays, object_schemas(children), any_of)

    return st.recursive(leaf_schemas(), extend, max_leaves=6)


@SETTINGS
@given(schemas())
def test_schema_round_trip(schema: dict[str, Any]) -> None:
    assert from_gemini(to_gemini(schema)) == schema


# Requests ----------------------------------------------------------------------------------

media = st.one_of(
    st.builds(
        lambda t, d: {"type": "image", "media_type": t, "data": d},
        st.sampled_from(["image/png", "image/jpeg", "image/webp"]),
        signatures,
    ),
    st.builds(
        lambda u, t: {"type": "image", "url": u, "media_type": t},
        st.from_regex(r"https://example\.com/[a-z]{1,8}", fullmatch=True),
        st.sampled_from(["image/png", "image/gif"]),
    ),
    st.builds(
        lambda d: {"type": "document", "media_type": "application/pdf", "data": d}, signatures
    ),
    st.builds(
        lambda u: {"type": "document", "url": u, "media_type": "text/plain"},
        st.from_regex(r"gs://bucket/[a-z]{1,8}\.txt", fullmatch=True),
    ),
)
text_parts = words.map(lambda t: {"type": "text", "text": t})


@st.composite
def hub_requests(draw: st.DrawFn) -> hub.Request:
    request: hub.Request = {}
    tool_names = draw(st.lists(names, min_size=0, max_size=3, unique=True))
    tools: list[hub.Tool] = []
    for name in tool_names:
        tool: hub.Tool = {"name": name, "parameters": draw(object_schemas(leaf_schemas()))}
        if draw(st.booleans()):
            tool["description"] = draw(words)
        tools.append(tool)
    messages: list[hub.Message] = []
    if draw(st.booleans()):
        messages.append(
            {"role": "system", "content": draw(st.lists(text_parts, min_size=1, max_size=2))}
        )
    call_count = 0
    last = ""  # the role of the previous turn: the conversation opens with a user turn
    for _ in range(draw(st.integers(1, 6))):
        if last == "assistant":
            role = "user"
        elif last == "user":
            role = "assistant"
        elif messages and messages[-1]["role"] == "tool":  # after results: either side
            role = draw(st.sampled_from(["user", "assistant"]))
        else:
            role = "user"
        if role == "user":
            parts = draw(st.lists(st.one_of(text_parts, media), min_size=1, max_size=3))
            messages.append({"role": "user", "content": parts})
            last = "user"
            continue
        content = draw(st.lists(text_parts, max_size=2))
        calls: list[hub.ToolCall] = []
        if tool_names:
            for _ in range(draw(st.integers(0 if content else 1, 3))):
                call_count += 1
                call: hub.ToolCall = {
                    "id": f"call_{call_count}",
                    "name": draw(st.sampled_from(tool_names)),
                    "arguments": orjson.dumps(draw(json_objects)).decode(),
                }
                if draw(st.booleans()):
                    call["signature"] = draw(signatures)
                calls.append(call)
        if not content and not calls:
            content = [draw(text_parts)]
        message: hub.Message = {"role": "assistant", "content": content}
        # A turn's reasoning signature lands on its last text part, unless the first call
        # (with no signature of its own) takes it.
        if content and (not calls or "signature" in calls[0]) and draw(st.booleans()):
            message["reasoning"] = [{"text": "", "signature": draw(signatures)}]
        if calls:
            message["tool_calls"] = calls
        messages.append(message)
        last = "assistant"
        for call in calls:
            result: hub.Message = {
                "role": "tool",
                "tool_call_id": call["id"],
                "name": call["name"],
                "content": [],
            }
            if draw(st.booleans()):
                result["is_error"] = True
                text = orjson.dumps({"error": draw(words)}).decode()
            else:
                payload = draw(json_objects.filter(lambda d: list(d) != ["error"]))
                text = orjson.dumps(payload).decode()
            result["content"] = [{"type": "text", "text": text}]
            messages.append(result)
            last = "tool"
    request["messages"] = messages
    if tools:
        request["tools"] = tools
        if draw(st.booleans()):
            request["tool_choice"] = draw(
                st.one_of(
                    st.sampled_from(["auto", "none", "required"]),
                    st.sampled_from(tool_names).map(lambda n: {"name": n}),
                )
            )
    if draw(st.booleans()):
        request["temperature"] = draw(st.floats(0, 2, allow_nan=False))
    if draw(st.booleans()):
        request["top_p"] = draw(st.floats(0, 1, allow_nan=False))
    if draw(st.booleans()):
        request["top_k"] = draw(st.integers(1, 100))
    if draw(st.booleans()):
        request["max_tokens"] = draw(st.integers(1, 100_000))
    if draw(st.booleans()):
        request["stop"] = draw(st.lists(words, min_size=1, max_size=3))
    if draw(st.booleans()):
        request["response_format"] = draw(
            st.one_of(
                st.just({"type": "json_object"}),
                object_schemas(leaf_schemas()).map(lambda s: {"type": "json_schema", "schema": s}),
            )
        )
    if draw(st.booleans()):
        request["reasoning"] = draw(
            st.one_of(
                st.just({"enabled": False}),
                st.just({"enabled": True}),
                st.integers(1, 32_000).map(lambda n: {"enabled": True, "budget_tokens": n}),
            )
        )
    return request


@SETTINGS
@given(hub_requests())
def test_request_round_trip(request: hub.Request) -> None:
    body = orjson.loads(orjson.dumps(CODEC.request_from_hub(request)))  # as on the wire
    assert CODEC.request_to_hub(body) == request


# Responses ---------------------------------------------------------------------------------


@st.composite
def hub_responses(draw: st.DrawFn) -> hub.Response:
    reasoning: list[hub.Reasoning] = [
        {"text": draw(st.one_of(st.just(""), words)), "signature": draw(signatures)}
        for _ in range(draw(st.integers(0, 2)))
    ]
    if draw(st.booleans()):
        reasoning.append({"text": draw(words)})  # an unsigned block can only be the last
    content: list[hub.Part] = []
    if draw(st.booleans()):
        content.append({"type": "text", "text": draw(words)})
    if draw(st.booleans()):
        content.append({"type": "image", "media_type": "image/png", "data": draw(signatures)})
    calls: list[hub.ToolCall] = []
    for index in range(draw(st.integers(0, 3))):
        call: hub.ToolCall = {
            "id": f"toolu_{index}",
            "name": draw(names),
            "arguments": orjson.dumps(draw(json_objects)).decode(),
        }
        if draw(st.booleans()):
            call["signature"] = draw(signatures)
        calls.append(call)
    reasons: list[hub.FinishReason] = ["stop", "length", "content_filter", "error"]
    finish: hub.FinishReason = "tool_calls" if calls else draw(st.sampled_from(reasons))
    return {
        "id": draw(words),
        "model": draw(words),
        "content": content,
        "reasoning": reasoning,
        "tool_calls": calls,
        "finish_reason": finish,
        "usage": draw(usages()),
    }


@st.composite
def usages(draw: st.DrawFn) -> hub.Usage:
    inp = draw(st.integers(0, 10_000))
    reasoning = draw(st.integers(0, 500))
    usage: hub.Usage = {"input_tokens": inp, "output_tokens": reasoning + draw(st.integers(0, 500))}
    cached = draw(st.integers(0, inp))
    if cached:
        usage["cached_tokens"] = cached
    if reasoning:
        usage["reasoning_tokens"] = reasoning
    return usage


@SETTINGS
@given(hub_responses())
def test_response_round_trip(response: hub.Response) -> None:
    body = orjson.loads(orjson.dumps(CODEC.response_from_hub(response, {})))
    assert CODEC.response_to_hub(body) == response


# Streams -----------------------------------------------------------------------------------


@st.composite
def hub_streams(draw: st.DrawFn) -> list[hub.Event]:
    events: list[hub.Event] = [{"type": "start", "id": draw(words), "model": draw(words)}]
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "reasoning", "signature"]))
        if kind == "text":
            events.append({"type": "text_delta", "text": draw(words)})
        elif kind == "reasoning":
            events.append({"type": "reasoning_delta", "text": draw(words)})
        else:
            events.append({"type": "reasoning_signature", "signature": draw(signatures)})
    calls = draw(st.integers(0, 3))
    for index in range(calls):
        start: hub.ToolCallStart = {
            "type": "tool_call_start",
            "index": index,
            "id": f"call_{index}",
            "name": draw(names),
        }
        if draw(st.booleans()):
            start["signature"] = draw(signatures)
        events.append(start)
        arguments = orjson.dumps(draw(json_objects)).decode()
        cuts = sorted(draw(st.lists(st.integers(0, len(arguments)), max_size=2)))
        pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]
        events.extend({"type": "tool_call_delta", "index": index, "arguments": p} for p in pieces)
    if draw(st.booleans()):
        status = draw(st.sampled_from([400, 401, 403, 404, 429, 500, 503, 504]))
        events.append(
            {
                "type": "error",
                "error": {
                    "status": status,
                    "kind": hub.kind_for_status(status),
                    "message": draw(words),
                },
            }
        )
        return events
    events.append({"type": "usage", "usage": draw(usages())})
    reasons: list[hub.FinishReason] = ["stop", "length", "content_filter", "error"]
    reason: hub.FinishReason = "tool_calls" if calls else draw(st.sampled_from(reasons))
    events.append({"type": "finish", "reason": reason})
    return events


def expected_after_trip(events: list[hub.Event]) -> list[dict[str, Any]]:
    """Gemini holds calls to the end of the turn; errors come back with their status name."""
    calls = [e for e in events if e["type"] in ("tool_call_start", "tool_call_delta")]
    rest = [e for e in events if e["type"] not in ("tool_call_start", "tool_call_delta")]
    tail = [e for e in rest if e["type"] in ("usage", "finish", "error")]
    body = [e for e in rest if e not in tail]
    expected = normalise([*body, *([] if tail and tail[0]["type"] == "error" else calls), *tail])
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
             404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
             503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}  # fmt: skip
    for item in expected:
        if item["type"] == "error":
            item["error"] = {**item["error"], "code": names[item["error"]["status"]]}
    return expected


@SETTINGS
@given(hub_streams())
def test_stream_round_trip(events: list[hub.Event]) -> None:
    assert normalise(parse_stream(emit(events))) == expected_after_trip(events)


@SETTINGS
@given(hub_streams(), st.data())
def test_stream_chunk_boundaries(events: list[hub.Event], data: st.DataObject) -> None:
    raw = emit(events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    decoder, parser = SSEDecoder(), CODEC.stream_parser()
    got: list[hub.Event] = []
    for piece in pieces:
        for sse in decoder.feed(piece):
            got.extend(parser.feed(sse))
    got.extend(parser.close())
    assert normalise(got) == normalise(parse_stream(raw))


# Errors ------------------------------------------------------------------------------------


@SETTINGS
@given(st.sampled_from([400, 401, 403, 404, 429, 500, 503, 504]), words)
def test_error_round_trip(status: int, message: str) -> None:
    error: hub.Error = {"status": status, "kind": hub.kind_for_status(status), "message": message}
    sent_status, body = CODEC.error_from_hub(error)
    back = CODEC.error_to_hub(sent_status, body)
    assert (back["status"], back["kind"], back["message"]) == (status, error["kind"], message)


# Untrusted bodies --------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "contents", "role", "parts", "text", "thought", "thoughtSignature", "functionCall",
        "functionResponse", "name", "args", "id", "response", "inlineData", "fileData",
        "mimeType", "data", "fileUri", "systemInstruction", "tools", "functionDeclarations",
        "parameters", "parametersJsonSchema", "toolConfig", "functionCallingConfig", "mode",
        "allowedFunctionNames", "generationConfig", "temperature", "topK", "maxOutputTokens",
        "stopSequences", "responseMimeType", "responseSchema", "thinkingConfig",
        "thinkingBudget", "thinkingLevel", "candidates", "content", "finishReason",
        "usageMetadata", "promptTokenCount", "error", "code", "status", "details",
        "promptFeedback", "type", "properties", "items", "required", "anyOf", "enum", "$ref",
        "allOf",
    ]
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=4),
    st.sampled_from(["model", "STOP", "ANY", "OBJECT", "application/json", "#/$defs/a"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(_KEYS, c, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(_KEYS, _JSON, max_size=5))
def test_untrusted_bodies_never_raise(body: dict[str, Any]) -> None:
    request = CODEC.request_to_hub(body)
    CODEC.request_from_hub(request)
    CODEC.response_to_hub(body)
    parser = CODEC.stream_parser()
    parser.feed(SSEEvent("", orjson.dumps(body).decode()))
    parser.close()
    CODEC.error_to_hub(400, orjson.dumps(body))
