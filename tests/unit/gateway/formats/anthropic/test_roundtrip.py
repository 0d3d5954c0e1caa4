"""Property tests: hub → Anthropic wire → hub keeps every field Anthropic can express.

The strategies build hub values restricted to what the dialect can say (one leading system
message, alternating turns, signed reasoning, object tool arguments, …); anything generated
must come back equal.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from gateway.formats.sse import SSEEvent
from tests.unit.gateway.formats.anthropic.errors_table import DOCUMENTED
from tests.unit.gateway.formats.anthropic.support import emit, parse_stream

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text the API accepts in a block: not empty, not only whitespace.
text = st.text(min_size=1, max_size=20).filter(lambda s: not s.isspace())
ident = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
cache = st.sampled_from([{"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}])
b64 = st.binary(min_size=1, max_size=24).map(lambda b: base64.b64encode(b).decode())


def with_cache(part: dict[str, Any], control: dict[str, Any] | None) -> Any:
    return {**part, "cache_control": control} if control else part


maybe_cache = st.none() | cache
text_part = st.builds(lambda t, c: with_cache({"type": "text", "text": t}, c), text, maybe_cache)
image_part = st.one_of(
    st.builds(
        lambda m, d, c: with_cache({"type": "image", "media_type": m, "data": d}, c),
        st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"]),
        b64,
        maybe_cache,
    ),
    st.builds(
        lambda u, c: with_cache({"type": "image", "url": "https://img.test/" + u}, c),
        ident,
        maybe_cache,
    ),
)


def _document(kind: str, payload: str, title: str | None, control: Any) -> Any:
    part: dict[str, Any] = {"type": "document"}
    if kind == "pdf":
        part.update(media_type="application/pdf", data=payload)
    elif kind == "text":
        part.update(media_type="text/plain", data=base64.b64encode(payload.encode()).decode())
    else:
        part["url"] = "https://doc.test/" + payload
    if title is not None:
        part["title"] = title
    return with_cache(part, control)


document_part = st.builds(
    _document, st.sampled_from(["pdf", "text", "url"]), ident, st.none() | text, maybe_cache
)
user_part = st.one_of(text_part, image_part, document_part)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
arguments = st.dictionaries(st.text(max_size=8), json_value, max_size=4).map(
    lambda d: orjson.dumps(d).decode()
)
reasoning_item = st.one_of(
    st.builds(lambda t, s: {"text": t, "signature": s}, st.text(max_size=20), text),
    st.builds(lambda d: {"text": "", "redacted": d}, text),
)


@st.composite
def conversations(draw: st.DrawFn) -> list[hub.Message]:
    messages: list[hub.Message] = []
    if draw(st.booleans()):
        messages.append(
            {"role": "system", "content": draw(st.lists(text_part, min_size=1, max_size=3))}
        )
    counter = 0
    messages.append({"role": "user", "content": draw(st.lists(user_part, min_size=1, max_size=3))})
    for _ in range(draw(st.integers(0, 4))):
        assistant: hub.Message = {"role": "assistant", "content": []}
        reasoning = draw(st.lists(reasoning_item, max_size=2))
        content = draw(st.lists(text_part, max_size=2))
        calls: list[hub.ToolCall] = []
        for _ in range(draw(st.integers(0, 3))):
            counter += 1
            calls.append(
                {"id": f"toolu_{counter:04d}", "name": draw(ident), "arguments": draw(arguments)}
            )
        if not (reasoning or content or calls):
            content = [{"type": "text", "text": "ok"}]
        assistant["content"] = content
        if reasoning:
            assistant["reasoning"] = reasoning
        if calls:
            assistant["tool_calls"] = calls
        messages.append(assistant)
        for call in calls:
            result: hub.Message = {
                "role": "tool",
                "tool_call_id": call["id"],
                "name": call["name"],
                "content": draw(st.lists(user_part, max_size=2)),
            }
            if draw(st.booleans()):
                result["is_error"] = True
            messages.append(result)
        if not calls or draw(st.booleans()):
            messages.append(
                {"role": "user", "content": draw(st.lists(user_part, min_size=1, max_size=2))}
            )
    return messages


@given(conversations())
@SETTINGS
def test_conversations_round_trip(messages: list[hub.Message]) -> None:
    request: hub.Request = {"model": "claude-sonnet-4-5", "messages": messages}
    body = CODEC.request_from_hub(request)
    roles = [m["role"] for m in body["messages"]]
    assert roles[0] == "user" and all(a != b for a, b in itertools.pairwise(roles))
    assert CODEC.request_to_hub(body) == {**request, "max_tokens": 4096}


tool = st.builds(
    lambda d, props, strict: {
        k: v
        for k, v in {
            "description": d,
            "strict": strict,
            "parameters": {"type": "object", "properties": props},
        }.items()
        if v is not None
    },
    st.none() | text,
    st.dictionaries(ident, st.just({"type": "string"}), max_size=3),
    st.none() | st.booleans(),
)
EFFORTS = ["low", "medium", "high", "xhigh", "max"]


@st.composite
def settings_requests(draw: st.DrawFn) -> hub.Request:
    model = draw(st.sampled_from(["claude-sonnet-4-5-20250929", "claude-opus-4-7"]))
    request: hub.Request = {
        "model": model,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    names = draw(st.lists(ident, unique=True, max_size=3))
    if names:
        request["tools"] = [{"name": n, **draw(tool)} for n in names]
        choice = draw(st.sampled_from(["auto", "required", "none", "named", None]))
        if choice is not None:
            request["tool_choice"] = (
                {"name": draw(st.sampled_from(names))} if choice == "named" else choice
            )
            if choice != "none" and draw(st.booleans()):
                request["parallel_tool_calls"] = draw(st.booleans())
    forced = request.get("tool_choice") not in (None, "auto", "none")
    thinking = draw(st.sampled_from(["none", "off", "off+effort", "on"]))
    if thinking == "off":
        request["reasoning"] = {"enabled": False}
    elif thinking == "off+effort":
        request["reasoning"] = {"enabled": False, "effort": draw(st.sampled_from(EFFORTS))}
    elif thinking == "on" and not forced:
        if model == "claude-opus-4-7":
            reasoning: hub.ReasoningConfig = {"enabled": True}
            effort = draw(st.none() | st.sampled_from(EFFORTS))
            if effort:
                reasoning["effort"] = effort
        else:
            reasoning = {"enabled": True, "budget_tokens": draw(st.integers(1024, 60000))}
        request["reasoning"] = reasoning
    on = request.get("reasoning", {}).get("enabled") is True
    budget = request.get("reasoning", {}).get("budget_tokens", 0)
    request["max_tokens"] = draw(st.integers(budget + 1, 200000))
    if not on and model != "claude-opus-4-7":
        for name, value in (
            ("temperature", st.floats(0, 1)),
            ("top_p", st.floats(0, 1)),
            ("top_k", st.integers(1, 500)),
        ):
            if draw(st.booleans()):
                request[name] = draw(value)  # type: ignore[literal-required]
    if draw(st.booleans()):
        request["stop"] = draw(st.lists(text, min_size=1, max_size=3))
    if draw(st.booleans()):
        request["stream"] = draw(st.booleans())
    if draw(st.booleans()):
        request["user"] = draw(text)
    if draw(st.booleans()):
        request["response_format"] = {
            "type": "json_schema",
            "schema": {"type": "object", "properties": {draw(ident): {"type": "integer"}}},
        }
    return request


@given(settings_requests())
@SETTINGS
def test_request_settings_round_trip(request: hub.Request) -> None:
    assert CODEC.request_to_hub(CODEC.request_from_hub(request)) == request


usage = st.builds(
    lambda inp, out, cached, created, reasoning: {
        k: v
        for k, v in {
            "input_tokens": inp + (cached or 0) + (created or 0),
            "output_tokens": out,
            "cached_tokens": cached,
            "cache_creation_tokens": created,
            "reasoning_tokens": reasoning,
        }.items()
        if v is not None
    },
    st.integers(0, 10**6),
    st.integers(0, 10**5),
    st.none() | st.integers(1, 10**6),
    st.none() | st.integers(1, 10**6),
    st.none() | st.integers(1, 10**5),
)


@st.composite
def responses(draw: st.DrawFn) -> hub.Response:
    calls = [
        {"id": "toolu_" + draw(ident), "name": draw(ident), "arguments": draw(arguments)}
        for _ in range(draw(st.integers(0, 3)))
    ]
    response: hub.Response = {
        "id": "msg_" + draw(ident),
        "model": draw(ident),
        "content": [{"type": "text", "text": t} for t in draw(st.lists(text, max_size=3))],
        "reasoning": draw(st.lists(reasoning_item, max_size=3)),
        "tool_calls": calls,  # type: ignore[typeddict-item]
        "finish_reason": "tool_calls"
        if calls
        else draw(st.sampled_from(["stop", "length", "content_filter"])),
        "usage": draw(usage),
    }
    if response["finish_reason"] == "stop" and draw(st.booleans()):
        response["stop_sequence"] = draw(text)
    return response


@given(responses())
@SETTINGS
def test_responses_round_trip(response: hub.Response) -> None:
    assert CODEC.response_to_hub(CODEC.response_from_hub(response, {})) == response


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[hub.Event], list[hub.Event]]:
    """(hub events in, hub events expected back after emit → parse)."""
    response = draw(responses())
    chunks = st.lists(text, min_size=1, max_size=3)
    content: list[hub.Event] = []
    for item in response["reasoning"]:
        if "redacted" in item:
            content.append({"type": "redacted_reasoning", "data": item["redacted"]})
            continue
        if item["text"]:
            content += [{"type": "reasoning_delta", "text": t} for t in draw(chunks)]
        content.append({"type": "reasoning_signature", "signature": item["signature"]})
    content += [{"type": "text_delta", "text": t} for t in draw(st.lists(text, max_size=4))]
    for index, call in enumerate(response["tool_calls"]):
        content.append(
            {"type": "tool_call_start", "index": index, "id": call["id"], "name": call["name"]}
        )
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(call["arguments"]) - 1)), max_size=3)))
        pieces = [
            call["arguments"][a:b]
            for a, b in zip([0, *cuts], [*cuts, len(call["arguments"])], strict=True)
        ]
        content += [
            {"type": "tool_call_delta", "index": index, "arguments": p} for p in pieces if p
        ]
    finish: hub.FinishEvent = {"type": "finish", "reason": response["finish_reason"]}
    if "stop_sequence" in response:
        finish["stop_sequence"] = response["stop_sequence"]
    start: hub.StartEvent = {"type": "start", "id": response["id"], "model": response["model"]}
    used: hub.UsageEvent = {"type": "usage", "usage": response["usage"]}
    return [start, *content, finish, used], [start, *content, used, finish]


@given(streams())
@SETTINGS
def test_streams_round_trip(case: tuple[list[hub.Event], list[hub.Event]]) -> None:
    events, expected = case
    assert parse_stream(emit(events)) == expected


@given(st.sampled_from(DOCUMENTED), text)
@SETTINGS
def test_errors_round_trip(row: tuple[int, str, hub.ErrorKind], message: str) -> None:
    status, kind, hub_kind = row
    error: hub.Error = {"status": status, "kind": hub_kind, "message": message, "code": kind}
    assert CODEC.error_to_hub(*CODEC.error_from_hub(error)) == error


# Robustness: whatever JSON comes in, reading never raises ------------------------------------

_keys = st.sampled_from(
    [
        "type",
        "role",
        "content",
        "text",
        "source",
        "data",
        "media_type",
        "url",
        "id",
        "name",
        "input",
        "tool_use_id",
        "is_error",
        "thinking",
        "signature",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "max_tokens",
        "metadata",
        "user_id",
        "output_config",
        "effort",
        "format",
        "schema",
        "budget_tokens",
        "stop_sequences",
        "cache_control",
        "title",
        "usage",
        "index",
        "delta",
        "content_block",
        "message",
        "error",
        "partial_json",
        "stop_reason",
    ]
)
_words = st.sampled_from(
    [
        "text",
        "image",
        "document",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "base64",
        "url",
        "enabled",
        "adaptive",
        "auto",
        "any",
        "tool",
        "user",
        "assistant",
        "content_block_start",
        "content_block_delta",
        "message_start",
        "message_delta",
        "message_stop",
        "error",
        "text_delta",
        "input_json_delta",
        "signature_delta",
    ]
)
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),  # what orjson reads as integers
    st.floats(allow_nan=False),
    _words,
    st.text(max_size=5),
)
wild_json = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=30,
)


@given(st.dictionaries(_keys, wild_json, max_size=8))
@SETTINGS
def test_reading_any_json_never_raises(body: dict[str, Any]) -> None:
    request = CODEC.request_to_hub(body)
    CODEC.request_from_hub(request)
    response = CODEC.response_to_hub(body)
    CODEC.response_from_hub(response, request)
    CODEC.error_to_hub(500, orjson.dumps(body))
    parser = CODEC.stream_parser()
    for value in (body, *body.values()):
        parser.feed(SSEEvent("", orjson.dumps(value).decode()))
    parser.close()
