"""Hub events → Anthropic SSE for clients: well-formed whatever the order of hub events."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from gateway.formats.anthropic.stream_emit import PING
from tests.unit.gateway.formats.anthropic.support import (
    check_well_formed,
    emit,
    fixture_bytes,
    parse_stream,
    sdk_final_message,
)

START: hub.StartEvent = {"type": "start", "id": "chatcmpl-1", "model": "gpt-up"}
TEXT: hub.TextDelta = {"type": "text_delta", "text": "Hello"}
THINK: hub.ReasoningDelta = {"type": "reasoning_delta", "text": "hmm"}
SIGN: hub.ReasoningSignature = {"type": "reasoning_signature", "signature": "sig"}
REDACTED: hub.RedactedReasoning = {"type": "redacted_reasoning", "data": "opaque"}
USAGE: hub.UsageEvent = {
    "type": "usage",
    "usage": {"input_tokens": 50, "output_tokens": 9, "cached_tokens": 20},
}
STOP: hub.FinishEvent = {"type": "finish", "reason": "stop"}
ERROR: hub.ErrorEvent = {
    "type": "error",
    "error": {"status": 502, "kind": "unavailable", "message": "upstream went away"},
}


def call(index: int, call_id: str = "", name: str = "f") -> hub.ToolCallStart:
    return {
        "type": "tool_call_start",
        "index": index,
        "id": call_id or f"call_{index}",
        "name": name,
    }


def args(index: int, fragment: str) -> hub.ToolCallDelta:
    return {"type": "tool_call_delta", "index": index, "arguments": fragment}


def blocks(data: bytes) -> list[dict[str, Any]]:
    """The content blocks a client ends up with (from the SDK accumulator)."""
    return [
        block.model_dump(exclude_none=True, exclude={"parsed_output"})
        for block in sdk_final_message(data).content
    ]


def test_fixture_streams_survive_parse_then_emit() -> None:
    for name in ("stream_text.sse", "stream_thinking_tools.sse"):
        events = parse_stream(fixture_bytes(name))
        data = emit(events)
        check_well_formed(data)
        assert parse_stream(data) == events
        original = sdk_final_message(fixture_bytes(name))
        assert sdk_final_message(data) == original


def test_ordinary_openai_shaped_stream() -> None:
    data = emit(
        [
            START,
            TEXT,
            call(0, "call_a"),
            args(0, '{"ci'),
            args(0, 'ty":"Paris"}'),
            call(1, "call_b"),
            args(1, "{}"),
            STOP,
            USAGE,
        ]
    )
    payloads = check_well_formed(data)
    assert payloads[0]["message"]["id"] == "msg_chatcmpl-1"
    assert payloads[0]["message"]["model"] == "gpt-up"
    assert payloads[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert payloads[-2]["usage"] == {
        "input_tokens": 30,
        "output_tokens": 9,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 20,
    }
    final = sdk_final_message(data)
    assert final.stop_reason == "tool_use" and final.usage.input_tokens == 30
    assert blocks(data) == [
        {"type": "text", "text": "Hello"},
        {"type": "tool_use", "id": "call_a", "name": "f", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_b", "name": "f", "input": {}},
    ]


AWKWARD: dict[str, list[hub.Event]] = {
    "no start": [TEXT, STOP],
    "nothing at all": [],
    "only usage": [USAGE],
    "text after tool calls": [START, call(0), args(0, "{}"), TEXT, STOP],
    "reasoning after text": [START, TEXT, THINK, SIGN, TEXT],
    "signature without reasoning text": [SIGN, TEXT],
    "reasoning never signed": [THINK, TEXT, THINK],
    "redacted between": [THINK, REDACTED, THINK, SIGN, call(0), STOP],
    "usage before finish": [START, USAGE, TEXT, STOP],
    "finish, then usage": [START, TEXT, STOP, USAGE],
    "finish twice": [TEXT, STOP, {"type": "finish", "reason": "length"}, USAGE],
    "events after finish": [TEXT, STOP, TEXT, call(0), USAGE],
    "start twice": [START, TEXT, {"type": "start", "id": "x", "model": "y"}, TEXT],
    "start late": [TEXT, START],
    "tool delta before its start": [args(0, '{"a":'), args(0, "1}"), STOP],
    "tool start repeated": [
        call(0, "c1", "f"),
        args(0, '{"a"'),
        call(0, "c1", ""),
        args(0, ":1}"),
        STOP,
    ],
    "interleaved tool deltas": [
        call(0),
        args(0, '{"a":'),
        call(1),
        args(1, '{"b":'),
        args(0, "1}"),
        args(1, "2}"),
        call(2),
        args(2, "{}"),
        STOP,
    ],
    "tool call with no arguments": [call(0), call(1), args(1, '{"x":1}'), STOP],
    "empty deltas": [
        {"type": "text_delta", "text": ""},
        {"type": "reasoning_delta", "text": ""},
        args(0, ""),
        STOP,
    ],
    "stop sequence": [TEXT, {"type": "finish", "reason": "stop", "stop_sequence": "END"}],
    "length": [TEXT, {"type": "finish", "reason": "length"}, USAGE],
    "content filter": [{"type": "finish", "reason": "content_filter"}],
}


@pytest.mark.parametrize("name", list(AWKWARD))
def test_awkward_orders_stay_well_formed(name: str) -> None:
    data = emit(AWKWARD[name])
    check_well_formed(data)
    sdk_final_message(data)  # the official accumulator takes it without complaint


def test_interleaved_tool_calls_are_held_back_not_reopened() -> None:
    data = emit(AWKWARD["interleaved tool deltas"])
    assert blocks(data) == [
        {"type": "tool_use", "id": "call_0", "name": "f", "input": {"a": 1}},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"b": 2}},
        {"type": "tool_use", "id": "call_2", "name": "f", "input": {}},
    ]
    events = parse_stream(data)
    calls = [e for e in events if e["type"] == "tool_call_start"]
    assert [c["index"] for c in calls] == [0, 1, 2]


def test_sequential_tool_calls_stream_live() -> None:
    emitter = CODEC.stream_emitter({})
    emitter.feed(call(0))
    emitter.feed(args(0, '{"a":1}'))
    # the earlier call is complete JSON: the next one opens at once, no holding back
    assert b"content_block_start" in emitter.feed(call(1))
    assert b"input_json_delta" in emitter.feed(args(1, '{"b"'))


def test_held_call_goes_live_as_soon_as_the_open_one_completes() -> None:
    emitter = CODEC.stream_emitter({})
    emitter.feed(call(0))
    emitter.feed(args(0, '{"a":'))
    assert emitter.feed(call(1)) == b""  # held: call 0 is mid-JSON
    assert emitter.feed(args(1, "{}")) == b""
    out = emitter.feed(args(0, "1}"))  # call 0 complete: close it, write call 1
    assert out.count(b"event: content_block_stop") == 1 and b'"partial_json":"{}"' in out


def test_repeated_start_and_missing_start() -> None:
    assert blocks(emit(AWKWARD["tool start repeated"])) == [
        {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}}
    ]
    made_up = blocks(emit(AWKWARD["tool delta before its start"]))
    assert made_up[0]["id"].startswith("toolu_") and made_up[0]["input"] == {"a": 1}


def test_reasoning_blocks_and_signatures() -> None:
    data = emit(
        [
            THINK,
            {"type": "reasoning_delta", "text": " more"},
            SIGN,
            REDACTED,
            THINK,
            SIGN,
            TEXT,
            STOP,
        ]
    )
    assert blocks(data) == [
        {"type": "thinking", "thinking": "hmm more", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Hello"},
    ]


@pytest.mark.parametrize("position", range(6))
def test_error_at_any_point_ends_the_stream(position: int) -> None:
    events: list[hub.Event] = [START, THINK, TEXT, call(0), args(0, '{"a"'), STOP]
    events.insert(position, ERROR)
    emitter = CODEC.stream_emitter({})
    data = b"".join(emitter.feed(e) for e in events)
    assert emitter.close() == b"" and emitter.keepalive() == b""
    payloads = check_well_formed(data)
    assert data.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"upstream went away"}}\n\n'
    )
    assert all(p["type"] not in ("message_stop", "message_delta") for p in payloads)
    with pytest.raises(anthropic.APIStatusError):
        sdk_final_message(data)


def test_close_without_finish_ends_with_the_best_reason() -> None:
    payloads = check_well_formed(emit([START, TEXT]))
    assert payloads[-2]["delta"]["stop_reason"] == "end_turn"
    payloads = check_well_formed(emit([START, call(0), args(0, "{")]))
    assert payloads[-2]["delta"]["stop_reason"] == "tool_use"


def test_close_is_idempotent_and_nothing_follows_the_end() -> None:
    emitter = CODEC.stream_emitter({"model": "m"})
    first = emitter.feed(TEXT) + emitter.close()
    assert first.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert emitter.close() == b"" and emitter.feed(TEXT) == b"" and emitter.feed(ERROR) == b""


def test_message_start_uses_the_request_model_and_known_usage() -> None:
    emitter = CODEC.stream_emitter({"model": "claude-alias"})
    emitter.feed(USAGE)
    payloads = check_well_formed(emitter.feed(TEXT) + emitter.close())
    message = payloads[0]["message"]
    assert message["model"] == "claude-alias" and message["id"].startswith("msg_")
    assert message["usage"]["input_tokens"] == 30 and message["usage"]["output_tokens"] == 0


def test_keepalive_is_a_ping_event() -> None:
    emitter = CODEC.stream_emitter({})
    assert emitter.keepalive() == PING == b'event: ping\ndata: {"type": "ping"}\n\n'
    # a ping before message_start is fine for the SDK (it skips pings)
    sdk_final_message(PING + emitter.feed(TEXT) + emitter.keepalive() + emitter.close())


def test_usage_with_reasoning_tokens_reaches_the_client() -> None:
    data = emit(
        [
            TEXT,
            STOP,
            {
                "type": "usage",
                "usage": {
                    "input_tokens": 10,
                    "output_tokens": 8,
                    "reasoning_tokens": 5,
                    "cache_creation_tokens": 4,
                },
            },
        ]
    )
    usage = sdk_final_message(data).usage
    assert (usage.input_tokens, usage.output_tokens) == (6, 8)
    assert usage.cache_creation_input_tokens == 4 and usage.output_tokens_details is not None
    assert usage.output_tokens_details.thinking_tokens == 5


# Any order at all -------------------------------------------------------------------------------

_text = st.text(max_size=8)
_event: st.SearchStrategy[hub.Event] = st.one_of(
    st.builds(lambda i, m: {"type": "start", "id": i, "model": m}, _text, _text),
    st.builds(lambda t: {"type": "text_delta", "text": t}, _text),
    st.builds(lambda t: {"type": "reasoning_delta", "text": t}, _text),
    st.builds(lambda s: {"type": "reasoning_signature", "signature": s}, _text),
    st.builds(lambda d: {"type": "redacted_reasoning", "data": d}, _text),
    st.builds(call, st.integers(0, 3), _text, _text),
    st.builds(args, st.integers(0, 3), st.sampled_from(["", "{", '"a"', ":", "1", "}", "{}"])),
    st.builds(
        lambda r: {"type": "finish", "reason": r},
        st.sampled_from(["stop", "length", "tool_calls", "content_filter", "error"]),
    ),
    st.builds(
        lambda n: {"type": "usage", "usage": {"input_tokens": n, "output_tokens": n}},
        st.integers(0, 10**6),
    ),
    st.just(ERROR),
)


@given(st.lists(_event, max_size=25))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_event_order_is_well_formed(events: list[hub.Event]) -> None:
    data = emit(events)
    check_well_formed(data)
    assert parse_stream(data)  # our own parser reads it back
    if not any(e["type"] == "error" for e in events):
        try:
            sdk_final_message(data)
        except ValueError as exc:
            # random fragments are not JSON: the SDK may refuse the arguments, never the events
            assert "Unable to parse tool parameter JSON" in str(exc)
