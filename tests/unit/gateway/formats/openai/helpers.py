"""Shared helpers for the OpenAI Chat codec tests: fixtures, SSE plumbing, and a checker
that an emitted stream is a well-formed Chat Completions stream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openai.types.chat import ChatCompletionChunk

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from gateway.formats.sse import SSEDecoder, SSEEvent

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "openai"


def fixture_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sse_events(raw: bytes, step: int = 0) -> list[SSEEvent]:
    """Decode SSE bytes, whole (step 0) or ``step`` bytes at a time."""
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    if step <= 0:
        events.extend(decoder.feed(raw))
    else:
        for start in range(0, len(raw), step):
            events.extend(decoder.feed(raw[start : start + step]))
    events.extend(decoder.close())
    return events


def parse_stream(raw: bytes, step: int = 0) -> list[hub.Event]:
    parser = CODEC.stream_parser()
    out: list[hub.Event] = []
    for event in sse_events(raw, step):
        out.extend(parser.feed(event))
    out.extend(parser.close())
    return out


def emit(events: list[hub.Event], request: hub.Request | None = None) -> bytes:
    emitter = CODEC.stream_emitter(request or {})
    out = b"".join(emitter.feed(event) for event in events)
    return out + emitter.close()


def merge_deltas(events: list[hub.Event]) -> list[hub.Event]:
    """Adjacent text / reasoning / same-index argument deltas joined, so streams cut at
    different places compare equal."""
    merged: list[hub.Event] = []
    for event in events:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last["type"] == event["type"]
            and event["type"] in ("text_delta", "reasoning_delta")
        ):
            merged[-1] = {**last, "text": last["text"] + event["text"]}  # type: ignore[typeddict-item]
        elif (
            last is not None
            and last["type"] == "tool_call_delta"
            and event["type"] == "tool_call_delta"
            and last["index"] == event["index"]
        ):
            merged[-1] = {**last, "arguments": last["arguments"] + event["arguments"]}
        else:
            merged.append(event)
    return merged


def check_well_formed(raw: bytes, include_usage: bool) -> dict[str, Any]:
    """Assert the OpenAI stream rules and return what a client would accumulate:
    {"id", "model", "content", "reasoning", "tool_calls", "finish_reason", "usage", "error"}.
    Every chunk must validate as the SDK's ChatCompletionChunk."""
    events = sse_events(raw)
    assert raw.endswith(b"\n\n")
    datas = [event.data for event in events]
    result: dict[str, Any] = {
        "content": "",
        "reasoning": "",
        "tool_calls": [],
        "finish_reason": None,
        "usage": None,
        "error": None,
    }
    ids: set[str] = set()
    models: set[str] = set()
    created: set[int] = set()
    finished = usage_seen = done = False
    for position, data in enumerate(datas):
        assert not done, "nothing may follow [DONE]"
        if data == "[DONE]":
            done = True
            continue
        payload = json.loads(data)
        if "error" in payload:
            assert position == len(datas) - 1, "an error ends the stream"
            assert set(payload["error"]) == {"message", "type", "param", "code"}
            result["error"] = payload["error"]
            continue
        ChatCompletionChunk.model_validate(payload)
        assert payload["object"] == "chat.completion.chunk"
        ids.add(payload["id"])
        models.add(payload["model"])
        created.add(payload["created"])
        assert payload["id"].startswith("chatcmpl-")
        if include_usage:
            assert "usage" in payload
        else:
            assert "usage" not in payload
        if not payload["choices"]:
            assert include_usage and finished and not usage_seen
            usage_seen = True
            result["usage"] = payload["usage"]
            continue
        assert payload["usage"] is None if include_usage else True
        assert not finished, "no delta after the finish chunk"
        (choice,) = payload["choices"]
        assert choice["index"] == 0
        delta = choice["delta"]
        if position == 0:
            assert delta == {"role": "assistant", "content": "", "refusal": None}
        else:
            assert "role" not in delta
        if choice["finish_reason"] is not None:
            assert delta == {}
            finished = True
            result["finish_reason"] = choice["finish_reason"]
            continue
        result["content"] += delta.get("content") or ""
        result["reasoning"] += delta.get("reasoning_content") or ""
        for call in delta.get("tool_calls", []):
            calls = result["tool_calls"]
            if call["index"] == len(calls):
                assert call["id"] and call["type"] == "function" and call["function"]["name"]
                assert call["function"]["arguments"] == ""
                calls.append({"id": call["id"], "name": call["function"]["name"], "arguments": ""})
            else:
                assert call["index"] < len(calls), "tool indexes are announced in order"
                assert set(call) == {"index", "function"}
                calls[call["index"]]["arguments"] += call["function"]["arguments"]
    assert len(ids) <= 1 and len(models) <= 1 and len(created) <= 1
    if result["error"] is None:
        assert done and datas[-1] == "[DONE]" and datas.count("[DONE]") == 1
        assert finished, "a finished stream has a finish chunk"
        assert usage_seen == include_usage
    else:
        assert "[DONE]" not in datas
    result["id"] = next(iter(ids), None)
    result["model"] = next(iter(models), None)
    return result
