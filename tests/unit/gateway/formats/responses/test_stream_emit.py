"""Hub events → a Responses stream for the client: lifecycle, awkward orders, the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.responses import CODEC
from gateway.formats.sse import KEEPALIVE_COMMENT
from tests.unit.gateway.formats.responses.support import (
    check_lifecycle,
    collect,
    emit_stream,
    parse_stream,
    sdk_client,
)

REQUEST: hub.Request = {
    "model": "client-model",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "tools": [{"name": "get_weather", "parameters": {"type": "object"}}],
    "reasoning": {"enabled": True, "effort": "low", "summary": "auto"},
}

# What an Anthropic upstream gives for thinking, text and two tool calls.
TURN: list[hub.Event] = [
    {"type": "start", "id": "msg_01XYZ", "model": "claude-sonnet-4-5"},
    {"type": "reasoning_delta", "text": "Two cities, "},
    {"type": "reasoning_delta", "text": "two calls."},
    {"type": "reasoning_signature", "signature": "EqQBCkgsig"},
    {"type": "text_delta", "text": "Checking "},
    {"type": "text_delta", "text": "both."},
    {"type": "tool_call_start", "index": 0, "id": "toolu_A", "name": "get_weather"},
    {"type": "tool_call_delta", "index": 0, "arguments": '{"city":'},
    {"type": "tool_call_delta", "index": 0, "arguments": '"Paris"}'},
    {"type": "tool_call_start", "index": 1, "id": "toolu_B", "name": "get_weather"},
    {"type": "tool_call_delta", "index": 1, "arguments": '{"city":"Tokyo"}'},
    {"type": "usage", "usage": {"input_tokens": 50, "output_tokens": 30, "cached_tokens": 10}},
    {"type": "finish", "reason": "tool_calls"},
]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("response.") for e in events]


def test_full_lifecycle() -> None:
    events = check_lifecycle(emit_stream(TURN, REQUEST))
    assert types(events) == [
        "created",
        "in_progress",
        "output_item.added",  # reasoning
        "reasoning_summary_part.added",
        "reasoning_summary_text.delta",
        "reasoning_summary_text.delta",
        "reasoning_summary_text.done",
        "reasoning_summary_part.done",
        "output_item.done",
        "output_item.added",  # message
        "content_part.added",
        "output_text.delta",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "output_item.added",  # first call, streamed live
        "function_call_arguments.delta",
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
        "output_item.added",  # second call
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
        "completed",
    ]
    final = events[-1]["response"]
    assert final["id"] == "resp_msg_01XYZ"
    assert final["model"] == "claude-sonnet-4-5"
    assert final["status"] == "completed"
    assert final["output"][0]["encrypted_content"] == "EqQBCkgsig"
    assert [i.get("call_id") for i in final["output"][2:]] == ["toolu_A", "toolu_B"]
    assert final["usage"]["input_tokens_details"]["cached_tokens"] == 10
    assert final["reasoning"] == {"effort": "low", "summary": "auto"}


def test_emitted_stream_parses_back_to_the_same_turn() -> None:
    back = parse_stream(emit_stream(TURN, REQUEST))
    assert back[0] == {"type": "start", "id": "resp_msg_01XYZ", "model": "claude-sonnet-4-5"}
    assert collect(back) == collect(TURN)


def test_official_sdk_accumulates_the_stream() -> None:
    client = sdk_client(emit_stream(TURN, REQUEST), chunk=5)
    with client.responses.stream(model="client-model", input="hi") as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert seen[0] == "response.created" and seen[-1] == "response.completed"
    assert final.output_text == "Checking both."
    calls = [(i.call_id, i.arguments) for i in final.output if i.type == "function_call"]
    assert calls == [("toolu_A", '{"city":"Paris"}'), ("toolu_B", '{"city":"Tokyo"}')]
    assert final.usage is not None and final.usage.total_tokens == 80


def test_sdk_raw_event_iteration() -> None:
    client = sdk_client(emit_stream(TURN, REQUEST))
    events = list(client.responses.create(model="client-model", input="hi", stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "Checking both."
    assert [e.sequence_number for e in events] == list(range(len(events)))


def _run(events: list[hub.Event]) -> list[dict[str, Any]]:
    data = emit_stream(events, REQUEST)
    checked = check_lifecycle(data)
    back = collect(parse_stream(data))
    sent = collect(events)
    if checked[-1]["type"] != "response.failed":
        assert back["text"] == sent["text"]
        assert [c["arguments"] for c in back["calls"]] == [c["arguments"] for c in sent["calls"]]
        for ours, theirs in zip(back["calls"], sent["calls"], strict=True):
            if theirs["id"]:  # a call that never started gets a generated id
                assert ours == theirs
    return checked


def test_text_only_without_start_or_finish() -> None:
    events = _run([{"type": "text_delta", "text": "Hi"}])
    assert types(events)[-1] == "completed"
    assert events[-1]["response"]["id"].startswith("resp_")
    assert events[-1]["response"]["model"] == "client-model"
    assert events[-1]["response"]["usage"]["total_tokens"] == 0


def test_empty_stream_still_completes() -> None:
    events = _run([])
    assert types(events) == ["created", "in_progress", "completed"]
    assert events[-1]["response"]["output"] == []


def test_text_after_a_tool_call_waits_for_the_call() -> None:
    events = _run(
        [
            {"type": "tool_call_start", "index": 0, "id": "c0", "name": "f"},
            {"type": "tool_call_delta", "index": 0, "arguments": '{"a"'},
            {"type": "text_delta", "text": "meanwhile"},
            {"type": "tool_call_delta", "index": 0, "arguments": ":1}"},
            {"type": "finish", "reason": "tool_calls"},
        ]
    )
    output = events[-1]["response"]["output"]
    assert [i["type"] for i in output] == ["function_call", "message"]
    assert output[0]["arguments"] == '{"a":1}'
    assert output[1]["content"][0]["text"] == "meanwhile"


def test_interleaved_tool_fragments_stay_with_their_call() -> None:
    events = _run(
        [
            {"type": "tool_call_start", "index": 0, "id": "c0", "name": "f"},
            {"type": "tool_call_start", "index": 1, "id": "c1", "name": "g"},
            {"type": "tool_call_delta", "index": 1, "arguments": "[1"},
            {"type": "tool_call_delta", "index": 0, "arguments": "[0"},
            {"type": "tool_call_delta", "index": 1, "arguments": "]"},
            {"type": "tool_call_delta", "index": 0, "arguments": "]"},
            {"type": "tool_call_start", "index": 0, "id": "dup", "name": "dup"},  # ignored
        ]
    )
    output = events[-1]["response"]["output"]
    assert [(i["call_id"], i["name"], i["arguments"]) for i in output] == [
        ("c0", "f", "[0]"),
        ("c1", "g", "[1]"),
    ]


def test_fragments_before_their_start() -> None:
    events = _run(
        [
            {"type": "tool_call_delta", "index": 0, "arguments": "{}"},
            {"type": "tool_call_start", "index": 0, "id": "late", "name": "f"},
            {"type": "tool_call_delta", "index": 1, "arguments": "{}"},  # never started
        ]
    )
    output = events[-1]["response"]["output"]
    assert output[0]["call_id"] == "late" and output[0]["arguments"] == "{}"
    assert output[1]["call_id"].startswith("call_") and output[1]["name"] == ""


def test_reasoning_after_text_and_signature_alone() -> None:
    events = _run(
        [
            {"type": "text_delta", "text": "a"},
            {"type": "reasoning_delta", "text": "late thought"},
            {"type": "text_delta", "text": "b"},
            {"type": "reasoning_signature", "signature": "only-sig"},
            {"type": "redacted_reasoning", "data": "opaque"},
            {"type": "text_delta", "text": ""},
            {"type": "reasoning_delta", "text": ""},
        ]
    )
    output = events[-1]["response"]["output"]
    assert [i["type"] for i in output] == ["message", "reasoning", "message", "reasoning"]
    assert output[1]["summary"] == [{"type": "summary_text", "text": "late thought"}]
    assert "encrypted_content" not in output[1]
    assert output[3] == {
        "id": output[3]["id"],
        "type": "reasoning",
        "summary": [],
        "encrypted_content": "only-sig",
    }


def test_upstream_reasoning_items_stay_apart() -> None:
    events = _run(
        [
            {"type": "reasoning_delta", "text": "one", "id": "rs_1"},
            {"type": "reasoning_delta", "text": "two", "id": "rs_2"},
            {"type": "reasoning_delta", "text": " more"},
        ]
    )
    output = events[-1]["response"]["output"]
    assert [(i["id"], i["summary"][0]["text"]) for i in output] == [
        ("rs_1", "one"),
        ("rs_2", "two more"),
    ]


def test_error_before_anything() -> None:
    error: hub.Error = {"status": 429, "kind": "rate_limit", "message": "Slow down."}
    events = _run([{"type": "error", "error": error}])
    assert types(events) == ["created", "in_progress", "error", "failed"]
    assert events[2] == {
        "type": "error",
        "sequence_number": 2,
        "code": "rate_limit_exceeded",
        "message": "Slow down.",
        "param": None,
    }
    failed = events[3]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "rate_limit_exceeded", "message": "Slow down."}
    assert failed["usage"] is None


def test_error_mid_tool_call_never_completes_the_call() -> None:
    error: hub.Error = {
        "status": 502,
        "kind": "unavailable",
        "code": "upstream_stream_interrupted",
        "message": "cut",
    }
    events = _run(
        [
            {"type": "text_delta", "text": "ok"},
            {"type": "tool_call_start", "index": 0, "id": "c0", "name": "exec_command"},
            {"type": "tool_call_delta", "index": 0, "arguments": '{"cmd":"rm -'},
            {"type": "tool_call_start", "index": 1, "id": "c1", "name": "f"},
            {"type": "error", "error": error},
            {"type": "text_delta", "text": "ignored"},
            {"type": "finish", "reason": "stop"},
        ]
    )
    dones = [e["item"]["type"] for e in events if e["type"] == "response.output_item.done"]
    assert dones == ["message"]  # Codex CLI runs calls on output_item.done: never a cut one
    # the error event keeps the hub code; response.error gets the SDK enum value Codex retries
    assert events[-2]["code"] == "upstream_stream_interrupted"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert [i["type"] for i in events[-1]["response"]["output"]] == ["message"]


@pytest.mark.parametrize(
    ("kind", "code", "failure"),
    [
        ("invalid_request", "context_length_exceeded", "context_length_exceeded"),  # Codex: fatal
        ("rate_limit", "insufficient_quota", "insufficient_quota"),  # Codex: fatal
        ("rate_limit", None, "rate_limit_exceeded"),  # Codex: retried after "try again in"
        ("authentication", "invalid_api_key", "invalid_prompt"),  # Codex: shown, not retried
        ("not_found", None, "invalid_prompt"),
        ("unavailable", "server_is_overloaded", "server_error"),  # Codex: retried
        ("timeout", None, "server_error"),
        ("invalid_request", "invalid_image_url", "invalid_image_url"),
    ],
)
def test_failure_codes(kind: hub.ErrorKind, code: str | None, failure: str) -> None:
    error: hub.Error = {"status": 400, "kind": kind, "message": "m"}
    if code:
        error["code"] = code
    events = _run([{"type": "error", "error": error}])
    assert events[-2]["code"] == (code or failure)
    assert events[-1]["response"]["error"] == {"code": failure, "message": "m"}


@pytest.mark.parametrize("usage_first", [True, False])
def test_terminal_waits_for_usage(usage_first: bool) -> None:
    usage: hub.Event = {"type": "usage", "usage": {"input_tokens": 7, "output_tokens": 3}}
    finish: hub.Event = {"type": "finish", "reason": "stop"}
    emitter = CODEC.stream_emitter(REQUEST)
    first, second = (usage, finish) if usage_first else (finish, usage)
    emitter.feed({"type": "text_delta", "text": "x"})
    out1 = emitter.feed(first)
    out2 = emitter.feed(second)
    assert (b"response.completed" in out1) is False
    assert b"response.completed" in out2
    assert b'"total_tokens":10' in out2
    assert emitter.close() == b""
    assert emitter.feed({"type": "text_delta", "text": "late"}) == b""


def test_finish_without_usage_completes_on_close() -> None:
    emitter = CODEC.stream_emitter(REQUEST)
    out = emitter.feed({"type": "text_delta", "text": "x"})
    out += emitter.feed({"type": "finish", "reason": "stop"})
    assert b"response.output_item.done" in out and b"response.completed" not in out
    out += emitter.feed({"type": "text_delta", "text": "after finish"})
    tail = emitter.close()
    assert b'"total_tokens":0' in tail
    check_lifecycle(out + tail)


@pytest.mark.parametrize(
    ("reason", "detail"), [("length", "max_output_tokens"), ("content_filter", "content_filter")]
)
def test_incomplete_ending(reason: hub.FinishReason, detail: str) -> None:
    events = _run([{"type": "text_delta", "text": "cut"}, {"type": "finish", "reason": reason}])
    assert types(events)[-1] == "incomplete"
    response = events[-1]["response"]
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": detail}
    assert response["output"][0]["status"] == "incomplete"


def test_finish_error_fails_without_completing_items() -> None:
    events = _run(
        [
            {"type": "tool_call_start", "index": 0, "id": "c0", "name": "f"},
            {"type": "finish", "reason": "error"},
        ]
    )
    assert types(events)[-2:] == ["error", "failed"]
    assert "output_item.done" not in types(events)


def test_close_guesses_tool_calls() -> None:
    events = _run([{"type": "tool_call_start", "index": 0, "id": "c", "name": "f"}])
    assert types(events)[-1] == "completed"


def test_keepalive_is_a_comment() -> None:
    emitter = CODEC.stream_emitter({})
    assert emitter.keepalive() == KEEPALIVE_COMMENT
    assert emitter.keepalive().startswith(b":")


def test_start_after_content_is_ignored() -> None:
    events = _run(
        [
            {"type": "text_delta", "text": "x"},
            {"type": "start", "id": "late", "model": "late-model"},
        ]
    )
    assert events[-1]["response"]["model"] == "client-model"
    assert "late" not in events[-1]["response"]["id"]


def test_request_echo_in_lifecycle_events() -> None:
    request: hub.Request = {
        "model": "m",
        "tools": [{"name": "f", "parameters": {"type": "object"}, "strict": True}],
        "tool_choice": {"name": "f"},
        "parallel_tool_calls": False,
        "response_format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}},
        "max_tokens": 64,
    }
    created = check_lifecycle(emit_stream([], request))[0]["response"]
    assert created["tool_choice"] == {"type": "function", "name": "f"}
    assert created["tools"][0]["strict"] is True
    assert created["parallel_tool_calls"] is False
    assert created["text"]["format"]["name"] == "x"
    assert created["max_output_tokens"] == 64
    assert created["status"] == "in_progress"


# Any order of any events ----------------------------------------------------------------------


def _event_strategy() -> st.SearchStrategy[hub.Event]:
    small_text = st.text(alphabet='ab "{}:\\é\n', max_size=6)
    index = st.integers(0, 3)
    return st.one_of(
        st.builds(lambda t: {"type": "text_delta", "text": t}, small_text),
        st.builds(
            lambda t, i: {"type": "reasoning_delta", "text": t, **({"id": i} if i else {})},
            small_text,
            st.sampled_from(["", "rs_x", "rs_y"]),
        ),
        st.builds(
            lambda s: {"type": "reasoning_signature", "signature": s},
            st.text(min_size=1, max_size=4),
        ),
        st.builds(lambda d: {"type": "redacted_reasoning", "data": d}, st.text(max_size=3)),
        st.builds(
            lambda i, n: {"type": "tool_call_start", "index": i, "id": f"call_{i}", "name": n},
            index,
            st.sampled_from(["f", "g"]),
        ),
        st.builds(
            lambda i, a: {"type": "tool_call_delta", "index": i, "arguments": a}, index, small_text
        ),
        st.builds(
            lambda u: {"type": "usage", "usage": u},
            st.fixed_dictionaries(
                {"input_tokens": st.integers(0, 99), "output_tokens": st.integers(0, 99)}
            ),
        ),
        st.builds(
            lambda r: {"type": "finish", "reason": r},
            st.sampled_from(["stop", "length", "tool_calls", "content_filter", "error"]),
        ),
        st.just({"type": "start", "id": "up_1", "model": "upstream-model"}),
        st.just({"type": "error", "error": {"status": 500, "kind": "server", "message": "boom"}}),
    )


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(_event_strategy(), max_size=25))
def test_any_event_order_gives_a_well_formed_stream(events: list[hub.Event]) -> None:
    data = emit_stream(events, REQUEST)
    checked = check_lifecycle(data)
    # The first finish or error decides how the stream ends; what came before it is kept.
    end = next((i for i, e in enumerate(events) if e["type"] in ("finish", "error")), len(events))
    last = events[end] if end < len(events) else None
    if last is not None and (last["type"] == "error" or last.get("reason") == "error"):
        assert checked[-1]["type"] == "response.failed"
        return
    before = events[: end + 1]
    back = collect(parse_stream(data))
    assert back["text"] == collect(before)["text"]
    args: dict[int, str] = {}
    for event in before:
        if event["type"] in ("tool_call_start", "tool_call_delta"):
            args[event["index"]] = args.get(event["index"], "") + event.get("arguments", "")
    assert sorted(c["arguments"] for c in back["calls"]) == sorted(args.values())


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(_event_strategy(), max_size=15))
def test_official_sdk_accepts_any_order(events: list[hub.Event]) -> None:
    data = emit_stream(events, REQUEST)
    client = sdk_client(data)
    with client.responses.stream(model="client-model", input="hi") as stream:
        seen = [event.type for event in stream]
        if seen[-1] == "response.completed":
            stream.get_final_response()
    assert seen[0] == "response.created"
    assert seen[-1] in ("response.completed", "response.incomplete", "response.failed")


def test_codex_style_next_turn_replays_what_the_stream_gave() -> None:
    """Codex keeps every output_item.done item and sends them back with the tool results:
    the hub must get the same reasoning (with its signature) and calls as the upstream sent."""
    client = sdk_client(emit_stream(TURN, REQUEST))
    with client.responses.stream(model="client-model", input="hi") as stream:
        done = [e.item for e in stream if e.type == "response.output_item.done"]
    items = [item.model_dump(exclude_none=True) for item in done]
    for item in items:
        item.pop("id", None)  # Codex sends no ids
        item.pop("status", None)
    outputs = [
        {"type": "function_call_output", "call_id": call_id, "output": "sunny"}
        for call_id in ("toolu_A", "toolu_B")
    ]
    request = CODEC.request_to_hub({"input": [{"role": "user", "content": "hi"}, *items, *outputs]})
    assistant = request["messages"][1]
    assert assistant["reasoning"] == [{"text": "Two cities, two calls.", "signature": "EqQBCkgsig"}]
    assert assistant["content"] == [{"type": "text", "text": "Checking both."}]
    assert [(c["id"], c["arguments"]) for c in assistant["tool_calls"]] == [
        ("toolu_A", '{"city":"Paris"}'),
        ("toolu_B", '{"city":"Tokyo"}'),
    ]
    assert [m["name"] for m in request["messages"][2:]] == ["get_weather", "get_weather"]
