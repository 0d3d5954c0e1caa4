"""Property tests: hub → OpenAI Chat wire → hub keeps every field this dialect can express.

Strategies build only what OpenAI Chat can carry (see docs/dialects/openai.md, "Known
limits"): no signatures, no cache_control, no is_error, one reasoning block, one text part
for system/assistant/tool content, text that does not itself open with "<think>".
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from tests.unit.gateway.formats.openai.helpers import merge_deltas, parse_stream, sse_events

SETTINGS = settings(max_examples=150, deadline=None)


def wire(value: dict[str, Any]) -> dict[str, Any]:
    """Through real JSON, as it would travel."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return loaded


texts = st.text(min_size=1, max_size=30).filter(lambda t: not t.lstrip().startswith("<think>"))
names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,20}", fullmatch=True)
ids = st.from_regex(r"(call|toolu)_[A-Za-z0-9]{4,24}", fullmatch=True)
base64 = st.from_regex(r"[A-Za-z0-9+/]{4,40}={0,2}", fullmatch=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
arguments = st.dictionaries(names, json_values, max_size=3).map(lambda d: orjson.dumps(d).decode())
schemas = st.fixed_dictionaries(
    {"type": st.just("object")},
    optional={
        "properties": st.dictionaries(
            names,
            st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "boolean"])}),
            max_size=3,
        ),
        "additionalProperties": st.booleans(),
    },
)


def text_part(text: str) -> hub.TextPart:
    return {"type": "text", "text": text}


image_parts = st.one_of(
    st.builds(
        lambda mt, data, detail: {"type": "image", "media_type": mt, "data": data, **detail},
        st.sampled_from(["image/png", "image/jpeg", "image/webp", "image/gif"]),
        base64,
        st.sampled_from([{}, {"detail": "low"}, {"detail": "high"}, {"detail": "auto"}]),
    ),
    st.builds(
        lambda path, detail: {"type": "image", "url": "https://example.com/" + path, **detail},
        st.from_regex(r"[a-z0-9]{1,12}\.(png|jpg)", fullmatch=True),
        st.sampled_from([{}, {"detail": "low"}]),
    ),
)
document_parts = st.builds(
    lambda data, title: {
        "type": "document",
        "media_type": "application/pdf",
        "data": data,
        "title": title,
    },
    base64,
    st.from_regex(r"[a-z]{1,10}\.pdf", fullmatch=True),
)
user_contents = st.one_of(
    st.just([]),
    texts.map(lambda t: [text_part(t)]),
    st.lists(st.one_of(texts.map(text_part), image_parts, document_parts), min_size=2, max_size=4),
)
tool_calls = st.lists(
    st.builds(lambda i, n, a: {"id": i, "name": n, "arguments": a}, ids, names, arguments),
    max_size=3,
    unique_by=lambda call: call["id"],
)


@st.composite
def conversations(draw: st.DrawFn) -> list[hub.Message]:
    messages: list[hub.Message] = []
    for _ in range(draw(st.integers(0, 6))):
        role = draw(st.sampled_from(["system", "user", "assistant"]))
        if role == "system":
            messages.append({"role": "system", "content": [text_part(draw(texts))]})
        elif role == "user":
            messages.append({"role": "user", "content": draw(user_contents)})
        else:
            calls = draw(tool_calls)
            message: hub.Message = {
                "role": "assistant",
                "content": [text_part(draw(texts))] if draw(st.booleans()) or not calls else [],
            }
            if draw(st.booleans()):
                message["reasoning"] = [{"text": draw(texts)}]
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
            for call in calls:  # every call answered; the result names the function
                result: hub.Message = {
                    "role": "tool",
                    "content": draw(
                        st.sampled_from([[], [text_part("ok")]])
                        | texts.map(lambda t: [text_part(t)])
                    ),
                    "tool_call_id": call["id"],
                    "name": call["name"],
                }
                messages.append(result)
    return messages


@st.composite
def requests(draw: st.DrawFn) -> hub.Request:
    request: hub.Request = {
        "model": draw(st.sampled_from(["gpt-4o", "gpt-5", "o3-mini", "deepseek-chat", "qwen3:8b"])),
        "messages": draw(conversations()),
    }
    tools = draw(
        st.lists(
            st.builds(
                lambda n, d, p, s: {"name": n, "parameters": p, **d, **s},
                names,
                st.sampled_from([{}, {"description": "Does a thing."}]),
                schemas,
                st.sampled_from([{}, {"strict": True}, {"strict": False}]),
            ),
            max_size=4,
            unique_by=lambda tool: tool["name"],
        )
    )
    if tools:
        request["tools"] = tools
        if draw(st.booleans()):
            request["tool_choice"] = draw(
                st.sampled_from(["auto", "none", "required", {"name": tools[0]["name"]}])
            )
        if draw(st.booleans()):
            request["parallel_tool_calls"] = draw(st.booleans())
    optional: dict[str, st.SearchStrategy[Any]] = {
        "max_tokens": st.integers(1, 200_000),
        "temperature": st.floats(0, 2, allow_nan=False),
        "top_p": st.floats(0, 1, allow_nan=False),
        "stop": st.lists(texts, min_size=1, max_size=4),
        "response_format": st.one_of(
            st.just({"type": "text"}),
            st.just({"type": "json_object"}),
            st.builds(
                lambda n, s, strict: {"type": "json_schema", "name": n, "schema": s, **strict},
                names,
                schemas,
                st.sampled_from([{}, {"strict": True}, {"strict": False}]),
            ),
        ),
        "reasoning": st.sampled_from(["minimal", "low", "medium", "high"]).map(
            lambda e: {"effort": e}
        ),
        "user": texts,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            request[key] = draw(strategy)  # type: ignore[literal-required]
    stream = draw(st.sampled_from([None, False, True]))
    if stream is not None:
        request["stream"] = stream
        if stream:
            request["include_usage"] = True  # always asked upstream
    return request


@SETTINGS
@given(requests())
def test_request_round_trip(request: hub.Request) -> None:
    original = copy.deepcopy(request)
    body = wire(CODEC.request_from_hub(request))
    assert request == original, "request_from_hub must not mutate its input"
    assert CODEC.request_to_hub(body) == request


@st.composite
def responses(draw: st.DrawFn) -> hub.Response:
    calls = draw(tool_calls)
    reasons = ["tool_calls", "length"] if calls else ["stop", "length", "content_filter"]
    return {
        "id": draw(st.sampled_from(["chatcmpl-", "msg_", "resp_", ""]))
        + draw(st.text("abc123", max_size=8)),
        "model": draw(names),
        "content": [text_part(draw(texts))] if draw(st.booleans()) else [],
        "reasoning": [{"text": draw(texts)}] if draw(st.booleans()) else [],
        "tool_calls": calls,
        "finish_reason": draw(st.sampled_from(reasons)),
        "usage": {
            "input_tokens": draw(st.integers(0, 10**6)),
            "output_tokens": draw(st.integers(0, 10**6)),
            "cached_tokens": draw(st.integers(0, 10**6)),
            "reasoning_tokens": draw(st.integers(0, 10**6)),
        },
    }


@SETTINGS
@given(responses())
def test_response_round_trip(response: hub.Response) -> None:
    body = wire(CODEC.response_from_hub(response, {"model": "fallback", "messages": []}))
    back = CODEC.response_to_hub(body)
    expected = dict(response)
    expected["id"] = body["id"]
    assert body["id"].startswith("chatcmpl-") and body["id"].endswith(response["id"])
    if response["id"].startswith("chatcmpl-"):
        assert body["id"] == response["id"]
    assert back == expected


@st.composite
def event_streams(draw: st.DrawFn) -> list[hub.Event]:
    """Hub events in any interleaving a parser may produce: start, then reasoning, text and
    tool-call events mixed (each call started before its fragments), finish, usage."""
    events: list[hub.Event] = [
        {
            "type": "start",
            "id": "chatcmpl-" + draw(st.text("xyz0", min_size=1)),
            "model": draw(names),
        }
    ]
    started = 0
    leading_text = ""
    only_text_so_far = True
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["text", "reasoning", "call", "args"]))
        if kind == "text":
            piece = draw(st.text(min_size=1, max_size=8))
            if only_text_so_far and (leading_text + piece).lstrip().startswith("<th"):
                continue  # would be read as inline <think> reasoning
            if only_text_so_far:
                leading_text += piece
            events.append({"type": "text_delta", "text": piece})
            continue
        only_text_so_far = False
        if kind == "reasoning":
            events.append(
                {"type": "reasoning_delta", "text": draw(st.text(min_size=1, max_size=8))}
            )
        elif kind == "call":
            events.append(
                {"type": "tool_call_start", "index": started, "id": draw(ids), "name": draw(names)}
            )
            started += 1
        elif started:
            events.append(
                {
                    "type": "tool_call_delta",
                    "index": draw(st.integers(0, started - 1)),
                    "arguments": draw(st.text(min_size=1, max_size=8)),
                }
            )
    reason = draw(
        st.sampled_from(
            ["tool_calls", "length"] if started else ["stop", "length", "content_filter"]
        )
    )
    events.append({"type": "finish", "reason": reason})
    events.append(
        {
            "type": "usage",
            "usage": {
                "input_tokens": draw(st.integers(0, 10**6)),
                "output_tokens": draw(st.integers(0, 10**6)),
                "cached_tokens": draw(st.integers(0, 10**6)),
                "reasoning_tokens": draw(st.integers(0, 10**6)),
            },
        }
    )
    return events


@SETTINGS
@given(event_streams(), st.integers(1, 40))
def test_stream_round_trip(events: list[hub.Event], step: int) -> None:
    emitter = CODEC.stream_emitter({"model": "client-model", "include_usage": True})
    raw = b"".join(emitter.feed(event) for event in events) + emitter.close()
    back = parse_stream(raw)
    assert merge_deltas(back) == merge_deltas(events)
    assert parse_stream(raw, step) == back  # chunk boundaries anywhere
    assert len(sse_events(raw)) == len(sse_events(raw, 1))
