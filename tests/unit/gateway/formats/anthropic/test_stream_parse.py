"""Upstream Anthropic SSE → hub events, including cut streams and arbitrary chunking."""

from __future__ import annotations

import pytest

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from gateway.formats.sse import SSEDecoder, SSEEvent
from tests.unit.gateway.formats.anthropic.support import fixture_bytes, parse_stream

SIGNATURE = (
    "EqQBCkgIBxABGAIqQM1vZ3Rh7Yb0yKxg8wQ2m0x3nqkz1Gd6Q0fIYh6Yc7dP2m4VtWc9f1j8sHk4QpW3zq0"
    "yLrN5aBcDeFgHiJkLmNoPqRsTuVwXyZ"
)
STREAMS = ("stream_text.sse", "stream_thinking_tools.sse", "stream_error.sse")


def test_text_stream() -> None:
    assert parse_stream(fixture_bytes("stream_text.sse")) == [
        {
            "type": "start",
            "id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
            "model": "claude-sonnet-4-5-20250929",
        },
        {"type": "text_delta", "text": "Hello"},
        {"type": "text_delta", "text": "! Ça va? 👋"},
        {"type": "usage", "usage": {"input_tokens": 25, "output_tokens": 15}},
        {"type": "finish", "reason": "stop"},
    ]


def test_thinking_and_parallel_tool_stream() -> None:
    assert parse_stream(fixture_bytes("stream_thinking_tools.sse")) == [
        {
            "type": "start",
            "id": "msg_01EcWa7Xk9X3pcWbVtNxYAan",
            "model": "claude-sonnet-4-5-20250929",
        },
        {"type": "reasoning_delta", "text": "The user wants the weather in two cities."},
        {"type": "reasoning_delta", "text": " I'll call get_weather twice, in parallel."},
        {"type": "reasoning_signature", "signature": SIGNATURE},
        {"type": "text_delta", "text": "Checking both cities."},
        # Anthropic block 2 is hub tool call 0: tool indexes count tool calls only
        {
            "type": "tool_call_start",
            "index": 0,
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "name": "get_weather",
        },
        {"type": "tool_call_delta", "index": 0, "arguments": '{"location": "San Fra'},
        {"type": "tool_call_delta", "index": 0, "arguments": 'ncisco, CA", "unit": "c'},
        {"type": "tool_call_delta", "index": 0, "arguments": 'elsius"}'},
        {
            "type": "tool_call_start",
            "index": 1,
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up7",
            "name": "get_weather",
        },
        {"type": "tool_call_delta", "index": 1, "arguments": '{"location": "New York, NY"}'},
        {
            "type": "usage",
            "usage": {
                "input_tokens": 9672,
                "output_tokens": 160,
                "cached_tokens": 8000,
                "cache_creation_tokens": 1200,
            },
        },
        {"type": "finish", "reason": "tool_calls"},
    ]


def test_error_event_ends_the_stream() -> None:
    events = parse_stream(fixture_bytes("stream_error.sse"))
    assert events[-1] == {
        "type": "error",
        "error": {
            "status": 529,
            "kind": "unavailable",
            "message": "Overloaded",
            "code": "overloaded_error",
        },
    }
    assert [e["type"] for e in events] == ["start", "text_delta", "error"]


@pytest.mark.parametrize("name", STREAMS)
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_chunking_gives_the_same_events(name: str, newline: bytes) -> None:
    data = fixture_bytes(name)
    expected = parse_stream(data)
    data = data.replace(b"\n", newline)
    for size in (1, 2, 3, 7, 64):
        decoder, parser = SSEDecoder(), CODEC.stream_parser()
        events: list[hub.Event] = []
        for start in range(0, len(data), size):
            for sse in decoder.feed(data[start : start + size]):
                events += parser.feed(sse)
        events += [e for sse in decoder.close() for e in parser.feed(sse)] + parser.close()
        assert events == expected, (name, newline, size)


def test_a_cut_stream_gets_usage_but_no_finish() -> None:
    data = fixture_bytes("stream_thinking_tools.sse")
    cut = data[: data.index(b"event: message_delta")]
    events = parse_stream(cut)
    assert events[-1] == {
        "type": "usage",
        "usage": {
            "input_tokens": 9672,
            "output_tokens": 2,
            "cached_tokens": 8000,
            "cache_creation_tokens": 1200,
        },
    }
    assert not any(e["type"] == "finish" for e in events)
    # even with the message_delta seen: message_stop is the terminal event
    cut = data[: data.index(b"event: message_stop")]
    assert not any(e["type"] == "finish" for e in parse_stream(cut))
    assert CODEC.stream_parser().close() == []


def feed(*payloads: str) -> list[hub.Event]:
    parser = CODEC.stream_parser()
    events = [e for p in payloads for e in parser.feed(SSEEvent("", p))]
    return events + parser.close()


def test_redacted_thinking_server_tools_and_citations() -> None:
    events = feed(
        '{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"abc"}}',
        '{"type":"content_block_stop","index":0}',
        '{"type":"content_block_start","index":1,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}',
        '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"query\\":1}"}}',
        '{"type":"content_block_stop","index":1}',
        '{"type":"content_block_start","index":2,"content_block":{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]}}',
        '{"type":"content_block_start","index":3,"content_block":{"type":"text","text":"Sure"}}',
        '{"type":"content_block_delta","index":3,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}',
        '{"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}',
        '{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"###"},"usage":{"output_tokens":3,"output_tokens_details":{"thinking_tokens":2}}}',
        '{"type":"message_stop"}',
    )
    assert events == [
        {"type": "redacted_reasoning", "data": "abc"},
        {"type": "text_delta", "text": "Sure"},
        {"type": "tool_call_start", "index": 0, "id": "t", "name": "f"},
        {"type": "tool_call_delta", "index": 0, "arguments": '{"a":1}'},
        {"type": "usage", "usage": {"input_tokens": 0, "output_tokens": 3, "reasoning_tokens": 2}},
        {"type": "finish", "reason": "stop", "stop_sequence": "###"},
    ]


def test_noise_is_ignored() -> None:
    assert (
        feed(
            "",
            "not json",
            "[1, 2]",
            '{"type":"ping"}',
            '{"type":"some_future_event"}',
            '{"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"x"}}',
            '{"type":"content_block_start","index":"0","content_block":{}}',
            '{"type":"content_block_delta","index":[0],"delta":{"type":"text_delta"}}',
        )
        == []
    )


def test_nothing_after_the_terminal_event() -> None:
    parser = CODEC.stream_parser()
    parser.feed(SSEEvent("message_stop", '{"type":"message_stop"}'))
    assert parser.feed(SSEEvent("", '{"type":"message_stop"}')) == [] and parser.close() == []


def test_error_event_without_details() -> None:
    events = feed(
        '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
        '{"type":"message_stop"}',
    )
    assert events == [
        {
            "type": "error",
            "error": {
                "status": 500,
                "kind": "server",
                "message": "Internal server error",
                "code": "api_error",
            },
        }
    ]
    assert feed('{"type":"error"}')[0]["type"] == "error"
