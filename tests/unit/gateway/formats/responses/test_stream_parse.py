"""Upstream Responses streams → hub events (recorded-style fixtures, cut streams, odd servers)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.responses import CODEC
from gateway.formats.sse import SSEDecoder, SSEEvent
from tests.unit.gateway.formats.responses.support import collect, fixture_bytes, parse_stream

FIXTURES = ("stream_text.sse", "stream_reasoning_tool.sse", "stream_failed.sse")


def test_text_stream() -> None:
    events = parse_stream(fixture_bytes("stream_text.sse"))
    assert events == [
        {"type": "start", "id": "resp_68b0a1text0001", "model": "gpt-4.1-2025-04-14"},
        {"type": "text_delta", "text": "Hello"},
        {"type": "text_delta", "text": "! How"},
        {"type": "text_delta", "text": " can I help"},
        {"type": "text_delta", "text": " you today?"},
        {
            "type": "usage",
            "usage": {"input_tokens": 2100, "output_tokens": 9, "cached_tokens": 2048},
        },
        {"type": "finish", "reason": "stop"},
    ]


def test_reasoning_and_tool_stream() -> None:
    events = parse_stream(fixture_bytes("stream_reasoning_tool.sse"))
    rid = "rs_68b0b2tool0002"
    assert events == [
        {"type": "start", "id": "resp_68b0b2tool0001", "model": "o4-mini-2025-04-16"},
        {"type": "reasoning_delta", "text": "**Planning", "id": rid},
        {"type": "reasoning_delta", "text": " the lookup**", "id": rid},
        {"type": "reasoning_delta", "text": "\n\n", "id": rid},  # second summary part
        {"type": "reasoning_delta", "text": "I need the weather", "id": rid},
        {"type": "reasoning_delta", "text": " for both cities.", "id": rid},
        {"type": "reasoning_signature", "signature": "gAAAAABosig_weather_plan_77e1"},
        {"type": "tool_call_start", "index": 0, "id": "call_P4ris", "name": "get_weather"},
        {"type": "tool_call_delta", "index": 0, "arguments": '{"'},
        {"type": "tool_call_delta", "index": 0, "arguments": 'city":'},
        {"type": "tool_call_delta", "index": 0, "arguments": '"Paris"}'},
        {"type": "tool_call_start", "index": 1, "id": "call_T0kyo", "name": "get_weather"},
        {"type": "tool_call_delta", "index": 1, "arguments": '{"'},
        {"type": "tool_call_delta", "index": 1, "arguments": 'city":'},
        {"type": "tool_call_delta", "index": 1, "arguments": '"Tokyo"}'},
        {
            "type": "usage",
            "usage": {"input_tokens": 320, "output_tokens": 190, "reasoning_tokens": 128},
        },
        {"type": "finish", "reason": "tool_calls"},
    ]


def test_failed_stream_gives_one_error() -> None:
    events = parse_stream(fixture_bytes("stream_failed.sse"))
    assert events[:3] == [
        {"type": "start", "id": "resp_68b0c3fail0001", "model": "gpt-5-2025-08-07"},
        {"type": "text_delta", "text": "Working"},
        {"type": "text_delta", "text": " on it"},
    ]
    assert len(events) == 4  # the error event ends it; response.failed adds nothing
    error = events[3]
    assert error["type"] == "error"
    assert error["error"]["status"] == 429
    assert error["error"]["kind"] == "rate_limit"
    assert error["error"]["code"] == "rate_limit_exceeded"
    assert "try again in 2.8s" in error["error"]["message"]


@pytest.mark.parametrize("name", FIXTURES)
def test_any_chunking_gives_the_same_events(name: str) -> None:
    data = fixture_bytes(name)
    whole = parse_stream(data)
    assert parse_stream(data, chunk=1) == whole  # byte by byte through SSEDecoder
    assert parse_stream(data.replace(b"\n", b"\r\n"), chunk=7) == whole


@settings(max_examples=60, deadline=None, database=None)
@given(st.data())
def test_random_cut_points_give_the_same_events(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(FIXTURES))
    raw = fixture_bytes(name)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), max_size=40)))
    parser = CODEC.stream_parser()
    decoder = SSEDecoder()
    events: list[hub.Event] = []
    for start, end in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        for sse in decoder.feed(raw[start:end]):
            events += parser.feed(sse)
    for sse in decoder.close():
        events += parser.feed(sse)
    assert events == parse_stream(raw)


def test_cut_stream_has_no_finish() -> None:
    data = fixture_bytes("stream_text.sse")
    cut = data[: data.index(b"event: response.output_text.done")]
    events = parse_stream(cut)
    assert events[-1] == {"type": "text_delta", "text": " you today?"}
    assert all(e["type"] != "finish" for e in events)


def _feed(*objects: dict[str, Any], event_names: bool = True) -> list[hub.Event]:
    parser = CODEC.stream_parser()
    out: list[hub.Event] = []
    for obj in objects:
        name = obj.get("type", "") if event_names else ""
        out += parser.feed(SSEEvent(name, orjson.dumps(obj).decode()))
    return out + parser.close()


def test_servers_that_send_whole_items_without_deltas() -> None:
    events = _feed(
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [
                    {"type": "summary_text", "text": "a"},
                    {"type": "summary_text", "text": "b"},
                ],
                "encrypted_content": "enc",
            },
        },
        {
            "type": "response.output_item.done",
            "output_index": 1,
            "item": {
                "type": "message",
                "id": "m1",
                "content": [
                    {"type": "output_text", "text": "Hi"},
                    {"type": "refusal", "refusal": " no"},
                ],
            },
        },
        {
            "type": "response.output_item.done",
            "output_index": 2,
            "item": {
                "type": "function_call",
                "id": "fc1",
                "call_id": "c1",
                "name": "f",
                "arguments": "{}",
            },
        },
        {"type": "response.completed", "response": {"status": "completed"}},
    )
    assert events == [
        {"type": "start", "id": "", "model": ""},
        {"type": "reasoning_delta", "text": "a\n\nb", "id": "rs_1"},
        {"type": "reasoning_signature", "signature": "enc"},
        {"type": "text_delta", "text": "Hi"},
        {"type": "text_delta", "text": " no"},
        {"type": "tool_call_start", "index": 0, "id": "c1", "name": "f"},
        {"type": "tool_call_delta", "index": 0, "arguments": "{}"},
        {"type": "finish", "reason": "tool_calls"},
    ]


def test_arguments_only_in_done_events_and_lookup_by_output_index() -> None:
    events = _feed(
        {"type": "response.created", "response": {"id": "resp_9", "model": "m"}},
        {
            "type": "response.output_item.added",
            "output_index": 3,
            "item": {"type": "function_call", "call_id": "c", "name": "f", "arguments": ""},
        },
        {
            "type": "response.function_call_arguments.done",
            "output_index": 3,
            "arguments": '{"a":1}',
        },
        {
            "type": "response.output_item.done",
            "output_index": 3,
            "item": {"type": "function_call", "call_id": "c", "name": "f", "arguments": '{"a":1}'},
        },
        {
            "type": "response.incomplete",
            "response": {"incomplete_details": {"reason": "content_filter"}, "usage": None},
        },
        {"type": "response.output_text.delta", "delta": "after the end"},
    )
    assert events == [
        {"type": "start", "id": "resp_9", "model": "m"},
        {"type": "tool_call_start", "index": 0, "id": "c", "name": "f"},
        {"type": "tool_call_delta", "index": 0, "arguments": '{"a":1}'},
        {"type": "finish", "reason": "content_filter"},
    ]


def test_error_event_shapes() -> None:
    flat = _feed(
        {
            "type": "error",
            "code": "context_length_exceeded",
            "message": "Too long.",
            "param": None,
            "sequence_number": 4,
        }
    )
    assert flat[1] == {
        "type": "error",
        "error": {
            "status": 400,
            "kind": "invalid_request",
            "message": "Too long.",
            "code": "context_length_exceeded",
        },
    }
    nested = _feed(
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": None,
                "message": "Bad input",
                "param": None,
            },
        }
    )
    assert nested[1]["error"] == {"status": 400, "kind": "invalid_request", "message": "Bad input"}
    bare = _feed({"type": "response.failed", "response": {"status": "failed"}})
    assert bare[1]["error"]["kind"] == "server"
    assert bare[1]["error"]["status"] == 500
    assert bare[1]["error"]["message"] == "The upstream response failed."
    overloaded = _feed(
        {
            "type": "response.failed",
            "response": {"error": {"code": "server_is_overloaded", "message": "Busy"}},
        }
    )
    assert overloaded[1]["error"]["status"] == 503
    image = _feed({"type": "error", "code": "invalid_image_url", "message": "x"})
    assert image[1]["error"]["kind"] == "invalid_request"


def test_ignores_unknown_events_done_markers_and_garbage() -> None:
    parser = CODEC.stream_parser()
    for sse in (
        SSEEvent("", "[DONE]"),
        SSEEvent("", "not json"),
        SSEEvent("", "{broken"),
        SSEEvent("", "[1, 2]"),
        SSEEvent(
            "response.web_search_call.searching", '{"type":"response.web_search_call.searching"}'
        ),
        SSEEvent("", '{"type":"response.output_text.delta","delta":""}'),
        SSEEvent("", '["x"]'),
    ):
        assert parser.feed(sse) in ([], [{"type": "start", "id": "", "model": ""}])
    assert parser.close() == []


def test_event_name_is_a_fallback_for_the_type() -> None:
    parser = CODEC.stream_parser()
    events = parser.feed(SSEEvent("response.output_text.delta", '{"delta":"x"}'))
    assert events[-1] == {"type": "text_delta", "text": "x"}


def test_reasoning_text_from_open_weight_servers() -> None:
    events = _feed(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "reasoning", "id": "rs_a", "summary": []},
        },
        {"type": "response.reasoning_text.delta", "item_id": "rs_a", "delta": "raw"},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                "type": "reasoning",
                "id": "rs_a",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "raw"}],
            },
        },
    )
    assert collect(events)["reasoning"] == [{"text": "raw"}]
