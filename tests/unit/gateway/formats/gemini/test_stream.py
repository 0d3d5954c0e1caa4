"""Gemini streams: parsing recorded SSE, and emitting well-formed streams from any hub order."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from gateway.formats import hub
from gateway.formats.gemini import CODEC, GeminiStreamEmitter
from gateway.formats.gemini.wire import is_base64
from gateway.formats.sse import SSEEvent
from tests.unit.gateway.formats.gemini.support import (
    emit,
    load_bytes,
    normalise,
    parse_stream,
    sse_chunks,
)

RECORDED = [
    "stream_text.sse",
    "stream_thoughts.sse",
    "stream_function_calls.sse",
    "stream_error.sse",
    "stream_cut.sse",
    "stream_prompt_blocked.sse",
]
SIG = base64.b64encode(b"sig-1").decode()
SIG2 = base64.b64encode(b"sig-2").decode()


# Parsing recorded streams ------------------------------------------------------------------


def test_text_stream() -> None:
    events = parse_stream(load_bytes("stream_text.sse"))
    assert events[0] == {
        "type": "start",
        "id": "l0AhabDsM4WzmtkP3c_WsAo",
        "model": "gemini-2.5-flash",
    }
    assert normalise(events) == [
        {
            "type": "text_delta",
            "text": "The capital of France is Paris. It sits on the Seine and has about 2.1 "
            "million inhabitants — « la Ville Lumière ».",
        },
        {"type": "usage", "usage": {"input_tokens": 9, "output_tokens": 27}},
        {"type": "finish", "reason": "stop"},
    ]


def test_thought_stream_signature_closes_reasoning_before_text() -> None:
    raw = load_bytes("stream_thoughts.sse")
    signature = sse_chunks(raw)[1]["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    kinds = [e["type"] for e in normalise(parse_stream(raw))]
    assert kinds == ["reasoning_delta", "reasoning_signature", "text_delta", "usage", "finish"]
    events = normalise(parse_stream(raw))
    assert events[1] == {"type": "reasoning_signature", "signature": signature}
    assert events[3]["usage"] == {
        "input_tokens": 14,
        "output_tokens": 24 + 48,
        "cached_tokens": 8,
        "reasoning_tokens": 48,
    }


def test_function_call_stream() -> None:
    raw = load_bytes("stream_function_calls.sse")
    wire = sse_chunks(raw)[1]["candidates"][0]["content"]["parts"]
    events = parse_stream(raw)
    starts = [e for e in events if e["type"] == "tool_call_start"]
    deltas = [e for e in events if e["type"] == "tool_call_delta"]
    assert [(s["index"], s["name"]) for s in starts] == [(0, "get_weather"), (1, "get_weather")]
    assert starts[0]["signature"] == wire[0]["thoughtSignature"]
    assert "signature" not in starts[1]
    assert starts[0]["id"] != starts[1]["id"]
    assert [orjson.loads(d["arguments"]) for d in deltas] == [
        {"city": "Paris", "unit": "celsius"},
        {"city": "Tokyo", "unit": "celsius"},
    ]
    assert events[-1] == {"type": "finish", "reason": "tool_calls"}


def test_error_chunk_ends_the_stream() -> None:
    events = parse_stream(load_bytes("stream_error.sse"))
    assert events[-1] == {
        "type": "error",
        "error": {
            "status": 503,
            "kind": "unavailable",
            "message": "The model is overloaded. Please try again later.",
            "code": "UNAVAILABLE",
        },
    }
    assert not [e for e in events if e["type"] in ("finish", "usage")]


def test_cut_stream_gets_no_invented_finish() -> None:
    events = parse_stream(load_bytes("stream_cut.sse"))
    assert [e["type"] for e in events] == ["start", "text_delta", "text_delta", "usage"]


def test_blocked_prompt_is_content_filter() -> None:
    events = parse_stream(load_bytes("stream_prompt_blocked.sse"))
    assert events[-1] == {"type": "finish", "reason": "content_filter"}


@pytest.mark.parametrize("name", RECORDED)
def test_any_chunk_boundary_gives_the_same_events(name: str) -> None:
    raw = load_bytes(name)
    whole = normalise(parse_stream(raw), blank_ids=True)
    for step in (1, 2, 3, 7, 64):
        assert normalise(parse_stream(raw, step=step), blank_ids=True) == whole


def test_parser_ignores_junk_and_close_is_idempotent() -> None:
    parser = CODEC.stream_parser()
    assert parser.feed(SSEEvent("", "")) == []
    assert parser.feed(SSEEvent("", "[DONE]")) == []
    assert parser.feed(SSEEvent("", "not json")) == []
    events = parser.feed(SSEEvent("", '{"candidates": [{"content": {"parts": [{"text": "a"}]}}]}'))
    assert [e["type"] for e in events] == ["start", "text_delta"]
    assert parser.close() == []
    assert parser.close() == []


def test_error_chunk_without_google_shape() -> None:
    parser = CODEC.stream_parser()
    [error] = parser.feed(SSEEvent("", '{"error": "backend went away"}'))
    assert error == {
        "type": "error",
        "error": {"status": 500, "kind": "server", "message": "backend went away"},
    }
    assert parser.close() == []


def test_parser_accepts_a_json_array_event() -> None:
    parser = CODEC.stream_parser()
    data = orjson.dumps(
        [
            {"candidates": [{"content": {"parts": [{"text": "a"}]}}]},
            {"candidates": [{"content": {"parts": [{"text": "b"}]}, "finishReason": "STOP"}]},
        ]
    ).decode()
    events = parser.feed(SSEEvent("", data)) + parser.close()
    assert [e["type"] for e in events] == ["start", "text_delta", "text_delta", "finish"]


def test_finish_is_held_until_close_and_last_usage_wins() -> None:
    parser = CODEC.stream_parser()
    chunk = {
        "candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
    }
    later = {
        "candidates": [
            {"content": {"parts": [{"text": "", "thoughtSignature": SIG}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2},
    }
    events = parser.feed(SSEEvent("", orjson.dumps(chunk).decode()))
    assert "finish" not in [e["type"] for e in events]
    events += parser.feed(SSEEvent("", orjson.dumps(later).decode())) + parser.close()
    assert [e["type"] for e in events] == [
        "start", "text_delta", "reasoning_signature", "usage", "finish",
    ]  # fmt: skip
    assert events[3] == {"type": "usage", "usage": {"input_tokens": 1, "output_tokens": 2}}


# Emitting: well-formed whatever the order --------------------------------------------------


def check_well_formed(raw: bytes) -> list[dict[str, Any]]:
    """Gemini's stream rules: only data events; one responseId; only the last chunk has a
    finishReason and usage (or the stream ends on an error chunk); signatures are base64;
    calls are whole objects with distinct ids."""
    chunks = sse_chunks(raw)
    assert chunks, "a stream always says something"
    last = chunks[-1]
    body = chunks if "error" not in last else chunks[:-1]
    ids = {c["responseId"] for c in body}
    assert len(ids) <= 1
    call_ids: list[str] = []
    for index, chunk in enumerate(body):
        assert next(iter(chunk)) == "candidates"
        [candidate] = chunk["candidates"]
        assert candidate["content"]["role"] == "model"
        is_last = index == len(chunks) - 1
        assert ("finishReason" in candidate) == is_last
        if "usageMetadata" in chunk:
            assert is_last
        for part in candidate["content"]["parts"]:
            if "thoughtSignature" in part:
                assert is_base64(part["thoughtSignature"])
            if "functionCall" in part:
                assert isinstance(part["functionCall"]["args"], dict)
                call_ids.append(part["functionCall"]["id"])
    assert len(call_ids) == len(set(call_ids))
    if "error" in last:
        assert list(last) == ["error"]
        assert set(last["error"]) == {"code", "message", "status"}
    return chunks


def start() -> hub.Event:
    return {"type": "start", "id": "resp-7", "model": "gemini-2.5-pro"}


def text(value: str) -> hub.Event:
    return {"type": "text_delta", "text": value}


def think(value: str) -> hub.Event:
    return {"type": "reasoning_delta", "text": value}


def call(index: int, name: str, call_id: str, signature: str | None = None) -> hub.Event:
    event: hub.ToolCallStart = {
        "type": "tool_call_start",
        "index": index,
        "id": call_id,
        "name": name,
    }
    if signature:
        event["signature"] = signature
    return event


def args(index: int, fragment: str) -> hub.Event:
    return {"type": "tool_call_delta", "index": index, "arguments": fragment}


def finish(reason: hub.FinishReason) -> hub.Event:
    return {"type": "finish", "reason": reason}


def usage(inp: int, out: int) -> hub.Event:
    return {"type": "usage", "usage": {"input_tokens": inp, "output_tokens": out}}


ERROR: hub.Event = {
    "type": "error",
    "error": {"status": 529, "kind": "unavailable", "message": "Overloaded"},
}

AWKWARD: dict[str, list[hub.Event]] = {
    "plain": [start(), text("Hel"), text("lo"), usage(3, 2), finish("stop")],
    "no start": [text("Hi")],
    "nothing at all": [],
    "finish before usage": [start(), text("a"), finish("length"), usage(1, 1)],
    "usage first": [usage(5, 6), start(), text("a"), finish("stop")],
    "text after tool calls": [
        start(),
        call(0, "f", "c1"),
        args(0, '{"a":'),
        args(0, "1}"),
        text("then text"),
        finish("tool_calls"),
    ],
    "reasoning after text": [
        start(),
        text("answer"),
        think("late thought"),
        {"type": "reasoning_signature", "signature": SIG},
        text("more"),
        finish("stop"),
    ],
    "signature with nothing after": [
        think("t"),
        {"type": "reasoning_signature", "signature": SIG},
        finish("stop"),
    ],
    "two signatures in a row": [
        {"type": "reasoning_signature", "signature": SIG},
        {"type": "reasoning_signature", "signature": SIG2},
        text("x"),
    ],
    "non-base64 signature": [
        think("t"),
        {"type": "reasoning_signature", "signature": "sig-fake-1"},
        text("x"),
    ],
    "interleaved parallel calls": [
        call(0, "f", "c1", SIG),
        call(1, "g", "c2"),
        args(1, '{"b"'),
        args(0, '{"a"'),
        args(1, ":2}"),
        args(0, ":1}"),
        usage(1, 1),
        finish("tool_calls"),
    ],
    "repeated start": [call(0, "f", "c1"), args(0, '{"a"'), call(0, "", "c1"), args(0, ":1}")],
    "delta without start": [args(3, '{"x": true}'), finish("tool_calls")],
    "truncated arguments": [call(0, "f", "c1"), args(0, '{"a": "unfinis'), finish("length")],
    "close with open call": [start(), call(0, "f", "c1"), args(0, "{}")],
    "error first": [ERROR],
    "error mid text": [start(), text("partial"), ERROR, text("ignored")],
    "error after call start": [call(0, "f", "c1"), args(0, '{"a"'), ERROR],
    "error after finish": [text("x"), finish("stop"), ERROR],
    "redacted reasoning": [{"type": "redacted_reasoning", "data": "opaque"}, text("x")],
    "finish twice": [text("x"), finish("stop"), finish("length"), usage(1, 1)],
}


@pytest.mark.parametrize("name", list(AWKWARD))
def test_emitter_is_well_formed_in_any_order(name: str) -> None:
    check_well_formed(emit(AWKWARD[name]))


@pytest.mark.parametrize("name", list(AWKWARD))
def test_json_array_framing_in_any_order(name: str) -> None:
    raw = emit(AWKWARD[name], json_array=True)
    assert raw.startswith(b"[") and raw.endswith(b"\n]")
    chunks = orjson.loads(raw)
    assert chunks == sse_chunks(emit(AWKWARD[name])) or _same_but_ids(chunks, AWKWARD[name])


def _same_but_ids(chunks: list[dict[str, Any]], events: list[hub.Event]) -> bool:
    """Generated ids differ between two runs: compare with them blanked."""
    other = sse_chunks(emit(events))
    blank = orjson.loads(orjson.dumps(chunks).replace(b"resp_", b"").replace(b"call_", b""))
    for chunk in [*blank, *other]:
        chunk.pop("responseId", None)
        for candidate in chunk.get("candidates", ()):
            for part in candidate["content"]["parts"]:
                part.get("functionCall", {}).pop("id", None)
    return len(blank) == len(other) and all(
        a.get("candidates") == b.get("candidates") for a, b in zip(blank, other, strict=True)
    )


def test_plain_stream_bytes() -> None:
    raw = emit(AWKWARD["plain"])
    assert raw == (
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],'
        b'"modelVersion":"gemini-2.5-pro","responseId":"resp-7"}\r\n\r\n'
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"index":0}],'
        b'"modelVersion":"gemini-2.5-pro","responseId":"resp-7"}\r\n\r\n'
        b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]},'
        b'"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,'
        b'"candidatesTokenCount":2,"totalTokenCount":5},"modelVersion":"gemini-2.5-pro",'
        b'"responseId":"resp-7"}\r\n\r\n'
    )


def test_json_array_bytes() -> None:
    raw = emit([start(), text("a"), finish("stop")], json_array=True)
    assert raw.startswith(b'[{"candidates":')
    assert raw.count(b"\n,\r\n") == 1
    assert raw.endswith(b'"responseId":"resp-7"}\n]')


def test_error_shapes() -> None:
    sse = emit(AWKWARD["error mid text"])
    # Bare JSON, not a data: event: how Google sends a mid-stream error, and the only form
    # Gemini CLI's SDK raises on.
    assert sse.endswith(
        b'\r\n\r\n{"error":{"code":503,"message":"Overloaded","status":"UNAVAILABLE"}}\n'
    )
    array = emit([ERROR], json_array=True)
    assert array == b'[{"error":{"code":503,"message":"Overloaded","status":"UNAVAILABLE"}}\n]'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "text after tool calls",
            [
                {"type": "text_delta", "text": "then text"},
                {"type": "tool_call_start", "index": 0, "id": "c1", "name": "f"},
                {"type": "tool_call_delta", "index": 0, "arguments": {"a": 1}},
                {"type": "finish", "reason": "tool_calls"},
            ],
        ),
        (
            "reasoning after text",
            [
                {"type": "text_delta", "text": "answer"},
                {"type": "reasoning_delta", "text": "late thought"},
                {"type": "reasoning_signature", "signature": SIG},
                {"type": "text_delta", "text": "more"},
                {"type": "finish", "reason": "stop"},
            ],
        ),
        (
            "signature with nothing after",
            [
                {"type": "reasoning_delta", "text": "t"},
                {"type": "reasoning_signature", "signature": SIG},
                {"type": "finish", "reason": "stop"},
            ],
        ),
        (
            "two signatures in a row",
            [
                {"type": "reasoning_signature", "signature": SIG},
                {"type": "reasoning_signature", "signature": SIG2},
                {"type": "text_delta", "text": "x"},
                {"type": "finish", "reason": "stop"},
            ],
        ),
        (
            "non-base64 signature",
            [
                {"type": "reasoning_delta", "text": "t"},
                {"type": "text_delta", "text": "x"},
                {"type": "finish", "reason": "stop"},
            ],
        ),
        (
            "interleaved parallel calls",
            [
                {"type": "tool_call_start", "index": 0, "id": "c1", "name": "f", "signature": SIG},
                {"type": "tool_call_delta", "index": 0, "arguments": {"a": 1}},
                {"type": "tool_call_start", "index": 1, "id": "c2", "name": "g"},
                {"type": "tool_call_delta", "index": 1, "arguments": {"b": 2}},
                {"type": "usage", "usage": {"input_tokens": 1, "output_tokens": 1}},
                {"type": "finish", "reason": "tool_calls"},
            ],
        ),
        (
            "repeated start",
            [
                {"type": "tool_call_start", "index": 0, "id": "c1", "name": "f"},
                {"type": "tool_call_delta", "index": 0, "arguments": {"a": 1}},
                {"type": "finish", "reason": "tool_calls"},
            ],
        ),
        (
            "truncated arguments",
            [
                {"type": "tool_call_start", "index": 0, "id": "c1", "name": "f"},
                {"type": "tool_call_delta", "index": 0, "arguments": {}},
                {"type": "finish", "reason": "length"},
            ],
        ),
        (
            "error mid text",
            [
                {"type": "text_delta", "text": "partial"},
                {
                    "type": "error",
                    "error": {
                        "status": 503,
                        "kind": "unavailable",
                        "message": "Overloaded",
                        "code": "UNAVAILABLE",
                    },
                },
            ],
        ),
        ("nothing at all", [{"type": "finish", "reason": "stop"}]),
        (
            "finish twice",
            [
                {"type": "text_delta", "text": "x"},
                {"type": "usage", "usage": {"input_tokens": 1, "output_tokens": 1}},
                {"type": "finish", "reason": "stop"},
            ],
        ),
    ],
)
def test_emitted_stream_parses_back(name: str, expected: list[dict[str, Any]]) -> None:
    assert normalise(parse_stream(emit(AWKWARD[name]))) == expected


def test_close_is_idempotent_and_feed_after_close_is_silent() -> None:
    emitter = GeminiStreamEmitter({"model": "m"})
    emitter.feed(text("x"))
    assert emitter.close()
    assert emitter.close() == b""
    assert emitter.feed(text("late")) == b""
    assert emitter.keepalive() == b""


def test_keepalive_bytes() -> None:
    assert GeminiStreamEmitter({}).keepalive() == b"\r\n"
    assert GeminiStreamEmitter({}, json_array=True).keepalive() == b"\n"


def test_codec_entry_points() -> None:
    raw = CODEC.array_stream_emitter({}).close()
    assert orjson.loads(raw)[0]["candidates"][0]["finishReason"] == "STOP"
    assert CODEC.stream_emitter({}).close().startswith(b"data: ")


def test_recorded_streams_survive_parse_emit_parse() -> None:
    for name in RECORDED:
        first = parse_stream(load_bytes(name))
        again = parse_stream(emit(first))
        if first[-1]["type"] in ("finish", "error"):
            assert normalise(again) == normalise(first), name
        else:  # a cut stream: the emitter still ends it, with the best reason it has
            assert normalise(again)[:-1] == normalise(first), name
            assert normalise(again)[-1] == {"type": "finish", "reason": "stop"}
