"""Hub events → client OpenAI Chat SSE: well-formed for any event order, readable by the
openai SDK's stream accumulator and by our own parser."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from gateway.formats.sse import KEEPALIVE_COMMENT
from tests.unit.gateway.formats.openai.helpers import check_well_formed, emit, parse_stream

START: hub.Event = {"type": "start", "id": "msg_01abc", "model": "claude-sonnet-4-5"}
USAGE: hub.Event = {
    "type": "usage",
    "usage": {"input_tokens": 100, "output_tokens": 20, "cached_tokens": 60, "reasoning_tokens": 5},
}
ERROR: hub.Event = {
    "type": "error",
    "error": {"status": 529, "kind": "unavailable", "message": "Overloaded", "code": "overloaded"},
}


def text(value: str) -> hub.Event:
    return {"type": "text_delta", "text": value}


def think(value: str) -> hub.Event:
    return {"type": "reasoning_delta", "text": value}


def call(index: int, name: str = "get_weather") -> hub.Event:
    return {"type": "tool_call_start", "index": index, "id": f"toolu_{index}", "name": name}


def args(index: int, piece: str) -> hub.Event:
    return {"type": "tool_call_delta", "index": index, "arguments": piece}


def finish(reason: hub.FinishReason) -> hub.Event:
    return {"type": "finish", "reason": reason}


ORDERS: dict[str, list[hub.Event]] = {
    "plain": [START, text("Hel"), text("lo"), finish("stop"), USAGE],
    "no start": [text("Hello"), finish("stop")],
    "nothing at all": [],
    "only start": [START],
    "usage first": [USAGE, START, text("x"), finish("length")],
    "reasoning then text": [START, think("Let me "), think("think."), text("Answer.")],
    "reasoning after text": [START, text("Answer."), think("Afterthought.")],
    "signatures dropped": [
        START,
        think("a"),
        {"type": "reasoning_signature", "signature": "sig"},
        {"type": "redacted_reasoning", "data": "opaque"},
        text("b"),
        finish("stop"),
    ],
    "parallel tools": [
        START,
        call(0),
        args(0, '{"city":'),
        call(1, "get_time"),
        args(0, '"Paris"}'),
        args(1, '{"city":"Tokyo"}'),
        finish("tool_calls"),
        USAGE,
    ],
    "text after tool calls": [START, call(0), args(0, "{}"), text("Also, some text.")],
    "finish before content": [START, finish("stop"), text("late text"), call(0), args(0, "{}")],
    "deltas before start": [START, args(0, '{"a"'), args(0, ":1}"), call(0, "f"), args(0, "")],
    "sparse hub indexes": [
        call(5, "a"),
        args(5, "{}"),
        call(2, "b"),
        args(2, "{}"),
        finish("tool_calls"),
    ],
    "duplicates": [
        START,
        START,
        call(0),
        call(0),
        text(""),
        think(""),
        finish("length"),
        finish("stop"),
    ],
    "orphan fragment never started": [START, args(7, '{"lost":true}'), text("ok"), finish("stop")],
    "error first": [ERROR],
    "error in the middle": [START, text("partial"), call(0), ERROR, text("never sent")],
    "error after finish": [START, text("done"), finish("stop"), USAGE, ERROR],
    "stop with tool calls": [START, call(0), args(0, "{}"), finish("stop")],
    "finish reason error": [START, text("x"), finish("error")],
    "content filter": [START, text("x"), finish("content_filter")],
}


def expected_view(events: list[hub.Event]) -> dict[str, Any]:
    """What a client should accumulate from these events, computed independently."""
    content = reasoning = ""
    started: dict[int, dict[str, str]] = {}
    waiting: dict[int, str] = {}
    reason: str | None = None
    usage: hub.Usage = {}
    error = None
    for event in events:
        if event["type"] == "text_delta":
            content += event["text"]
        elif event["type"] == "reasoning_delta":
            reasoning += event["text"]
        elif event["type"] == "tool_call_start" and event["index"] not in started:
            started[event["index"]] = {
                "id": event["id"],
                "name": event["name"],
                "arguments": waiting.pop(event["index"], ""),
            }
        elif event["type"] == "tool_call_delta":
            if event["index"] in started:
                started[event["index"]]["arguments"] += event["arguments"]
            else:
                waiting[event["index"]] = waiting.get(event["index"], "") + event["arguments"]
        elif event["type"] == "finish" and reason is None:
            reason = {"error": "stop"}.get(event["reason"], event["reason"])
        elif event["type"] == "usage":
            usage = event["usage"]
        elif event["type"] == "error":
            error = event["error"]
            break
    if reason in (None, "stop") and started:
        reason = "tool_calls"
    return {
        "content": content,
        "reasoning": reasoning,
        "tool_calls": list(started.values()),
        "finish_reason": None if error else reason or "stop",
        "usage": usage,
        "error": error,
    }


def sdk_final(raw: bytes) -> Any:
    """Feed the bytes to the official SDK's ChatCompletionStream accumulator."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=raw)

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    with client.chat.completions.stream(
        model="m", messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for _ in stream:
            pass
        # The accumulated completion (get_final_completion() would also refuse "length").
        return stream.current_completion_snapshot


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("name", list(ORDERS))
def test_any_event_order_gives_a_well_formed_stream(name: str, include_usage: bool) -> None:
    events = ORDERS[name]
    raw = emit(events, {"model": "client-model", "include_usage": include_usage})
    view = check_well_formed(raw, include_usage)
    expected = expected_view(events)
    assert view["content"] == expected["content"]
    assert view["reasoning"] == expected["reasoning"]
    assert view["tool_calls"] == expected["tool_calls"]
    assert view["finish_reason"] == expected["finish_reason"]
    if expected["error"]:
        assert view["error"] == {
            "message": expected["error"]["message"],
            "type": "server_error",
            "param": None,
            "code": expected["error"]["code"],
        }
    elif include_usage:
        usage = expected["usage"]
        assert view["usage"]["prompt_tokens"] == usage.get("input_tokens", 0)
        assert view["usage"]["completion_tokens"] == usage.get("output_tokens", 0)
        assert view["usage"]["prompt_tokens_details"] == {
            "cached_tokens": usage.get("cached_tokens", 0)
        }
    if view["model"] is not None:
        has_start = any(e["type"] == "start" for e in events) and events[0]["type"] != "error"
        assert view["model"] == ("claude-sonnet-4-5" if has_start else "client-model")


@pytest.mark.parametrize("name", list(ORDERS))
def test_our_parser_reads_back_what_we_emit(name: str) -> None:
    events = ORDERS[name]
    raw = emit(events, {"include_usage": True})
    back = parse_stream(raw)
    expected = expected_view(events)
    texts = "".join(e["text"] for e in back if e["type"] == "text_delta")
    assert texts == expected["content"]
    assert (
        "".join(e["text"] for e in back if e["type"] == "reasoning_delta") == expected["reasoning"]
    )
    starts = [e for e in back if e["type"] == "tool_call_start"]
    assert [(s["id"], s["name"]) for s in starts] == [
        (c["id"], c["name"]) for c in expected["tool_calls"]
    ]
    arguments = [""] * len(starts)
    for event in back:
        if event["type"] == "tool_call_delta":
            arguments[event["index"]] += event["arguments"]
    assert arguments == [c["arguments"] for c in expected["tool_calls"]]
    finishes = [e for e in back if e["type"] == "finish"]
    errors = [e for e in back if e["type"] == "error"]
    if expected["error"]:
        assert not finishes and len(errors) == 1 and back[-1] == errors[0]
        assert errors[0]["error"]["message"] == expected["error"]["message"]
    else:
        assert finishes == [{"type": "finish", "reason": expected["finish_reason"]}]
        assert back[-1]["type"] == "usage"


@pytest.mark.parametrize("name", [n for n in ORDERS if not n.startswith("error")])
def test_the_openai_sdk_accumulates_what_we_emit(name: str) -> None:
    events = ORDERS[name]
    expected = expected_view(events)
    final = sdk_final(emit(events, {"include_usage": True}))
    (choice,) = final.choices
    assert (choice.message.content or "") == expected["content"]
    assert choice.finish_reason == expected["finish_reason"]
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        (c["id"], c["name"], c["arguments"]) for c in expected["tool_calls"]
    ]
    if expected["reasoning"]:
        assert choice.message.model_extra["reasoning_content"] == expected["reasoning"]
    assert final.usage is not None
    assert final.usage.prompt_tokens == expected["usage"].get("input_tokens", 0)
    assert final.usage.total_tokens == expected["usage"].get("input_tokens", 0) + expected[
        "usage"
    ].get("output_tokens", 0)


@pytest.mark.parametrize("name", [n for n in ORDERS if n.startswith("error")])
def test_the_openai_sdk_raises_on_an_emitted_error(name: str) -> None:
    with pytest.raises(openai.APIError, match="Overloaded"):
        sdk_final(emit(ORDERS[name]))


def test_exact_bytes_of_a_short_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.formats.openai_chat.stream_emit.created_now", lambda: 1700000000)
    raw = emit(
        [START, text("Hi"), call(0), args(0, "{}"), think("r"), finish("tool_calls"), USAGE],
        {"include_usage": True},
    )
    head = (
        b'data: {"id":"chatcmpl-msg_01abc","object":"chat.completion.chunk",'
        b'"created":1700000000,"model":"claude-sonnet-4-5",'
    )
    tail = b',"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
    choice = b'"choices":[{"index":0,"delta":'
    assert raw.split(b"\n\n")[:-1] == [
        line.rstrip(b"\n")
        for line in (
            head + choice + b'{"role":"assistant","content":"","refusal":null}' + tail,
            head + choice + b'{"content":"Hi"}' + tail,
            head
            + choice
            + b'{"tool_calls":[{"index":0,"id":"toolu_0","type":"function",'
            + b'"function":{"name":"get_weather","arguments":""}}]}'
            + tail,
            head + choice + b'{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}' + tail,
            head + choice + b'{"reasoning_content":"r"}' + tail,
            head + choice + b'{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}\n\n',
            head + b'"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,'
            b'"total_tokens":120,"prompt_tokens_details":{"cached_tokens":60},'
            b'"completion_tokens_details":{"reasoning_tokens":5}}}\n\n',
            b"data: [DONE]\n\n",
        )
    ]


def test_without_include_usage_no_usage_key_anywhere() -> None:
    raw = emit([START, text("x"), USAGE, finish("stop")], {"include_usage": False})
    assert b'"usage"' not in raw
    assert raw.endswith(b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')


def test_close_is_idempotent_and_feed_after_end_is_silent() -> None:
    emitter = CODEC.stream_emitter({})
    emitter.feed(text("a"))
    first = emitter.close()
    assert first.endswith(b"data: [DONE]\n\n")
    assert emitter.close() == b""
    assert emitter.feed(text("b")) == b""
    errored = CODEC.stream_emitter({})
    assert errored.feed(ERROR).startswith(b'data: {"error":')
    assert errored.close() == b""
    assert emitter.keepalive() == KEEPALIVE_COMMENT


def test_hub_ids_are_kept_when_already_openai_ids() -> None:
    raw = emit([{"type": "start", "id": "chatcmpl-abc", "model": "gpt-4o"}, text("x")])
    assert check_well_formed(raw, False)["id"] == "chatcmpl-abc"


# Random event sequences: whatever arrives, the stream stays well-formed and readable.
_events = st.one_of(
    st.builds(lambda t: text(t), st.text(max_size=5)),
    st.builds(lambda t: think(t), st.text(max_size=5)),
    st.builds(lambda i: call(i, f"tool{i}"), st.integers(0, 3)),
    st.builds(lambda i, a: args(i, a), st.integers(0, 3), st.text(max_size=5)),
    st.sampled_from(["stop", "length", "tool_calls", "content_filter", "error"]).map(finish),
    st.just(USAGE),
    st.just(START),
    st.just({"type": "reasoning_signature", "signature": "s"}),
    st.just(ERROR),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_events, max_size=12), st.booleans())
def test_random_event_orders_are_well_formed(events: list[hub.Event], include_usage: bool) -> None:
    raw = emit(events, {"include_usage": include_usage})
    view = check_well_formed(raw, include_usage)
    expected = expected_view(events)
    assert view["content"] == expected["content"]
    assert view["tool_calls"] == expected["tool_calls"]
    assert view["finish_reason"] == expected["finish_reason"]
