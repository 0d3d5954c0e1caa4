"""Upstream OpenAI Chat streams → hub events: recorded streams, any chunk boundaries, cuts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from gateway.formats.sse import SSEEvent
from tests.unit.gateway.formats.openai.helpers import fixture_bytes, merge_deltas, parse_stream

STREAMS = [
    "stream_text.txt",
    "stream_parallel_tools.txt",
    "stream_reasoning_content.txt",
    "stream_think_tags.txt",
    "stream_error.txt",
    "stream_cut.txt",
]
GPT = {
    "type": "start",
    "id": "chatcmpl-C3kQ9lWmP0aZ7xT2vB5nR8yU1eH4",
    "model": "gpt-4.1-2025-04-14",
}


def _feed(chunks: list[dict[str, Any] | str], close: bool = True) -> list[hub.Event]:
    parser = CODEC.stream_parser()
    out: list[hub.Event] = []
    for chunk in chunks:
        data = chunk if isinstance(chunk, str) else json.dumps(chunk)
        out.extend(parser.feed(SSEEvent("", data)))
    if close:
        out.extend(parser.close())
    return out


def _delta(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def test_text_stream() -> None:
    events = parse_stream(fixture_bytes("stream_text.txt"))
    assert events[0] == GPT
    assert [e["text"] for e in events if e["type"] == "text_delta"] == [  # type: ignore[typeddict-item]
        "Hello", "!", " How", " can", " I", " help", "?",
    ]  # fmt: skip
    assert events[-2:] == [
        {"type": "finish", "reason": "stop"},
        {
            "type": "usage",
            "usage": {
                "input_tokens": 1117,
                "output_tokens": 7,
                "cached_tokens": 1024,
                "reasoning_tokens": 0,
            },
        },
    ]


def test_parallel_tool_call_stream() -> None:
    events = parse_stream(fixture_bytes("stream_parallel_tools.txt"))
    assert events[:3] == [
        GPT,
        {
            "type": "tool_call_start",
            "index": 0,
            "id": "call_Qf1mZ0s8YdP3kL2nT7vB9xWc",
            "name": "get_weather",
        },
        {"type": "tool_call_delta", "index": 0, "arguments": '{"'},
    ]
    assert merge_deltas(events)[1:6] == [
        {
            "type": "tool_call_start",
            "index": 0,
            "id": "call_Qf1mZ0s8YdP3kL2nT7vB9xWc",
            "name": "get_weather",
        },
        {"type": "tool_call_delta", "index": 0, "arguments": '{"city":"Paris"}'},
        {
            "type": "tool_call_start",
            "index": 1,
            "id": "call_Rb5nX2t4HcJ8mK1pU6wE0yZa",
            "name": "get_time",
        },
        {"type": "tool_call_delta", "index": 1, "arguments": '{"city":"Tokyo"}'},
        {"type": "finish", "reason": "tool_calls"},
    ]
    assert sum(1 for e in events if e["type"] == "tool_call_delta") == 10  # fragments kept


def test_reasoning_content_stream() -> None:
    assert merge_deltas(parse_stream(fixture_bytes("stream_reasoning_content.txt"))) == [
        {
            "type": "start",
            "id": "a7b3c1d2-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
            "model": "deepseek-reasoner",
        },
        {"type": "reasoning_delta", "text": "Compare tenths: 1 < 8."},
        {"type": "text_delta", "text": "9.8 is greater."},
        {"type": "finish", "reason": "stop"},
        {
            "type": "usage",
            "usage": {
                "input_tokens": 19,
                "output_tokens": 11,
                "cached_tokens": 0,
                "reasoning_tokens": 7,
            },
        },
    ]


def test_think_tags_split_across_deltas() -> None:
    events = parse_stream(fixture_bytes("stream_think_tags.txt"))
    assert merge_deltas(events) == [
        {"type": "start", "id": "chatcmpl-think-7d1e", "model": "deepseek-r1-distill-llama-70b"},
        {"type": "reasoning_delta", "text": "\nThe user greets me.\n"},
        {"type": "text_delta", "text": "Hello!"},
        {"type": "finish", "reason": "stop"},
    ]
    assert not any("<" in e.get("text", "") for e in events if e["type"] == "text_delta")  # type: ignore[union-attr]


def test_error_inside_a_stream() -> None:
    assert merge_deltas(parse_stream(fixture_bytes("stream_error.txt"))) == [
        GPT,
        {"type": "text_delta", "text": "Partial"},
        {
            "type": "error",
            "error": {
                "status": 500,
                "kind": "server",
                "message": (
                    "The server had an error while processing your request. Sorry about that!"
                ),
            },
        },
    ]


def test_cut_stream_has_no_finish() -> None:
    events = merge_deltas(parse_stream(fixture_bytes("stream_cut.txt")))
    assert events == [GPT, {"type": "text_delta", "text": "Echo: hello"}]


@pytest.mark.parametrize("name", STREAMS)
@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_any_chunk_boundaries_give_the_same_parse(name: str, step: int) -> None:
    raw = fixture_bytes(name)
    whole = parse_stream(raw)
    assert parse_stream(raw, step) == whole
    assert parse_stream(raw.replace(b"\n", b"\r\n"), step) == whole  # CRLF upstreams too


def test_done_without_finish_reason_finishes() -> None:
    events = _feed(
        [_delta({"role": "assistant", "content": "hi"}), "[DONE]", _delta({"content": "late"})]
    )
    assert events[-1] == {"type": "finish", "reason": "stop"}
    assert [e["type"] for e in events] == ["start", "text_delta", "finish"]
    tools = _feed(
        [
            _delta(
                {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}
                    ]
                }
            ),
            "[DONE]",
        ]
    )
    assert tools[-1] == {"type": "finish", "reason": "tool_calls"}


def test_finish_stop_after_tool_calls_means_tool_calls() -> None:
    events = _feed(
        [
            _delta(
                {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}
                    ]
                }
            ),
            _delta({}, "stop"),
            _delta({}, "stop"),  # a repeated finish is not repeated
        ]
    )
    assert [e for e in events if e["type"] == "finish"] == [
        {"type": "finish", "reason": "tool_calls"}
    ]


def test_tool_call_name_arriving_late_and_missing_ids() -> None:
    events = _feed(
        [
            _delta(
                {
                    "tool_calls": [
                        {
                            "index": 3,
                            "id": "call_x",
                            "type": "function",
                            "function": {"arguments": '{"a"'},
                        }
                    ]
                }
            ),
            _delta(
                {"tool_calls": [{"index": 3, "function": {"name": "lookup", "arguments": ":1}"}}]}
            ),
            _delta(
                {"tool_calls": [{"function": {"name": "second", "arguments": "{}"}}]}
            ),  # no index, no id
            _delta({"function_call": {"name": "ignored_name_repeat", "arguments": ""}}),
            _delta({}, "tool_calls"),
        ]
    )
    starts = [e for e in events if e["type"] == "tool_call_start"]
    assert starts[0] == {"type": "tool_call_start", "index": 0, "id": "call_x", "name": "lookup"}
    assert starts[1]["index"] == 1 and starts[1]["name"] == "second"
    assert starts[1]["id"].startswith("call_")
    assert len(starts) == 2  # the legacy delta at position 0 is the second call (upstream index 0)
    deltas = merge_deltas([e for e in events if e["type"] == "tool_call_delta"])
    assert deltas == [
        {"type": "tool_call_delta", "index": 0, "arguments": '{"a":1}'},
        {"type": "tool_call_delta", "index": 1, "arguments": "{}"},
    ]


def test_unnamed_tool_call_is_flushed_at_finish() -> None:
    events = _feed(
        [
            _delta({"tool_calls": [{"index": 0, "id": "c", "function": {"arguments": "{}"}}]}),
            _delta({}, "stop"),
        ]
    )
    assert events[1:] == [
        {"type": "tool_call_start", "index": 0, "id": "c", "name": ""},
        {"type": "tool_call_delta", "index": 0, "arguments": "{}"},
        {"type": "finish", "reason": "tool_calls"},
    ]


def test_usage_repeated_on_every_chunk_is_reported_once_at_the_end() -> None:
    events = _feed(
        [
            _delta({"content": "a"}, usage={"prompt_tokens": 5, "completion_tokens": 1}),
            _delta({"content": "b"}, usage={"prompt_tokens": 5, "completion_tokens": 2}),
            _delta({}, "length", usage={"prompt_tokens": 5, "completion_tokens": 3}),
            "[DONE]",
        ]
    )
    assert [e for e in events if e["type"] == "usage"] == [
        {"type": "usage", "usage": {"input_tokens": 5, "output_tokens": 3}}
    ]
    assert events[-2] == {"type": "finish", "reason": "length"}


def test_cut_stream_still_reports_usage_and_held_text() -> None:
    events = _feed([_delta({"content": " <th"}, usage={"prompt_tokens": 2})])
    assert events == [
        {"type": "start", "id": "chatcmpl-1", "model": "m"},
        {"type": "text_delta", "text": " <th"},
        {"type": "usage", "usage": {"input_tokens": 2}},
    ]
    parser = CODEC.stream_parser()
    parser.feed(SSEEvent("", json.dumps(_delta({"content": "<think>half a thought</thi"}))))
    assert parser.close() == [{"type": "reasoning_delta", "text": "</thi"}]
    assert parser.close() == []


def test_error_first_and_odd_lines() -> None:
    events = _feed(
        [
            "",
            "not json",
            "[1, 2]",
            {
                "error": {
                    "message": "Rate limit reached for gpt-4o",
                    "type": "tokens",
                    "code": "rate_limit_exceeded",
                }
            },
            _delta({"content": "after the error"}),
        ]
    )
    assert events == [
        {
            "type": "error",
            "error": {
                "status": 429,
                "kind": "rate_limit",
                "message": "Rate limit reached for gpt-4o",
                "code": "rate_limit_exceeded",
            },
        }
    ]


def test_refusal_and_extra_choices() -> None:
    events = _feed(
        [
            _delta({"refusal": "I can't"}),
            {"id": "x", "choices": [{"index": 1, "delta": {"content": "second choice"}}]},
            _delta({"reasoning": "router reasoning", "content": None}),
            _delta({}, "content_filter"),
        ]
    )
    assert events[1:] == [
        {"type": "text_delta", "text": "I can't"},
        {"type": "reasoning_delta", "text": "router reasoning"},
        {"type": "finish", "reason": "content_filter"},
    ]


def test_start_comes_from_the_first_chunk_even_without_id() -> None:
    assert _feed([{"choices": []}])[0] == {"type": "start", "id": "", "model": ""}
