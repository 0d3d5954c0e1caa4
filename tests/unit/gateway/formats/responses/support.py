"""Helpers for the Responses codec tests: fixtures, stream plumbing, a lifecycle checker and
the official SDK fed from a fake transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import openai
import orjson
import pydantic
from openai.types.responses import Response, ResponseStreamEvent

from gateway.formats import hub
from gateway.formats.responses import CODEC
from gateway.formats.sse import SSEDecoder, SSEEvent

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "responses"
STREAM_EVENT = pydantic.TypeAdapter(ResponseStreamEvent)
BEYOND_SDK_ENUM = ("context_length_exceeded", "insufficient_quota", "usage_not_included")


def fixture_json(name: str) -> dict[str, Any]:
    data = orjson.loads((FIXTURES / name).read_bytes())
    assert isinstance(data, dict)
    return data


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sse_events(data: bytes, chunk: int | None = None) -> list[SSEEvent]:
    decoder = SSEDecoder()
    if chunk is None:
        events = decoder.feed(data)
    else:
        events = []
        for start in range(0, len(data), chunk):
            events += decoder.feed(data[start : start + chunk])
    return events + decoder.close()


def parse_stream(data: bytes, chunk: int | None = None) -> list[hub.Event]:
    parser = CODEC.stream_parser()
    out: list[hub.Event] = []
    for event in sse_events(data, chunk):
        out += parser.feed(event)
    return out + parser.close()


def emit_stream(events: list[hub.Event], request: hub.Request | None = None) -> bytes:
    emitter = CODEC.stream_emitter(request or {"model": "client-model"})
    data = b"".join(emitter.feed(event) for event in events) + emitter.close()
    assert emitter.close() == b"", "close() must be idempotent"
    return data


def wire_events(data: bytes) -> list[dict[str, Any]]:
    """The JSON of every SSE event, checking that ``event:`` repeats the JSON type."""
    out = []
    for sse in sse_events(data):
        obj = orjson.loads(sse.data)
        assert sse.event == obj["type"], (sse.event, obj["type"])
        out.append(obj)
    return out


def collect(events: list[hub.Event]) -> dict[str, Any]:
    """What a stream of hub events says, independent of how it was cut into deltas."""
    text: list[str] = []
    blocks: list[dict[str, str]] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    result: dict[str, Any] = {"finish": None, "usage": {}, "error": None}
    for event in events:
        kind = event["type"]
        if kind == "text_delta":
            text.append(event["text"])
        elif kind == "reasoning_delta":
            reasoning.append(event["text"])
        elif kind == "reasoning_signature":
            blocks.append({"text": "".join(reasoning), "signature": event["signature"]})
            reasoning = []
        elif kind == "tool_call_start":  # a repeated start does not open a second call
            calls.setdefault(event["index"], {"id": "", "name": "", "arguments": ""})
            if not calls[event["index"]]["id"]:
                calls[event["index"]].update(id=event["id"], name=event["name"])
        elif kind == "tool_call_delta":
            calls.setdefault(event["index"], {"id": "", "name": "", "arguments": ""})
            calls[event["index"]]["arguments"] += event["arguments"]
        elif kind == "finish":
            result["finish"] = event["reason"]
        elif kind == "usage":
            result["usage"] = event["usage"]
        elif kind == "error":
            result["error"] = event["error"]
    if "".join(reasoning):
        blocks.append({"text": "".join(reasoning)})
    result["text"] = "".join(text)
    result["reasoning"] = blocks
    result["calls"] = [calls[i] for i in sorted(calls)]
    return result


def check_lifecycle(data: bytes) -> list[dict[str, Any]]:
    """Assert the emitted bytes are a well-formed Responses stream; return its events.

    Rules: created then in_progress first; sequence numbers 0, 1, 2 …; one output item at a
    time (added, its own events, done) with output indexes 0, 1, 2 …; the *.done texts equal
    the deltas; exactly one terminal event, last, whose output lists the finished items; every
    event validates against the SDK's models (except the failure codes in BEYOND_SDK_ENUM).
    """
    events = wire_events(data)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "response.created"
    assert events[1]["type"] == "response.in_progress"
    rid = events[0]["response"]["id"]
    terminal = events[-1]
    assert terminal["type"] in ("response.completed", "response.incomplete", "response.failed")
    finished: list[dict[str, Any]] = []
    open_item: dict[str, Any] | None = None
    buffer = ""
    for event in events[2:-1]:
        kind = event["type"]
        assert kind not in ("response.created", "response.in_progress", "response.completed")
        if kind == "error":
            assert terminal["type"] == "response.failed"
            assert event is events[-2]
            continue
        if kind == "response.output_item.added":
            assert open_item is None, "items interleave"
            assert event["output_index"] == len(finished)
            open_item, buffer = event["item"], ""
            continue
        assert open_item is not None, f"{kind} outside an item"
        assert event["output_index"] == len(finished)
        if kind != "response.output_item.done":
            assert event["item_id"] == open_item["id"]
        if kind in (
            "response.output_text.delta",
            "response.function_call_arguments.delta",
            "response.reasoning_summary_text.delta",
        ):
            buffer += event["delta"]
        elif kind in ("response.output_text.done", "response.reasoning_summary_text.done"):
            assert event["text"] == buffer
        elif kind == "response.function_call_arguments.done":
            assert event["arguments"] == buffer
        elif kind == "response.output_item.done":
            item = event["item"]
            assert (item["type"], item["id"]) == (open_item["type"], open_item["id"])
            if item["type"] == "message":
                assert "".join(p["text"] for p in item["content"]) == buffer
            elif item["type"] == "function_call":
                assert item["arguments"] == buffer
                assert item["call_id"] == open_item["call_id"]
            else:
                assert "".join(p["text"] for p in item["summary"]) == buffer
            finished.append(item)
            open_item = None
    if terminal["type"] != "response.failed":
        assert open_item is None, "an item was left open"
        usage = terminal["response"]["usage"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert terminal["response"]["output"] == finished
    for event in events:
        if "response" in event:
            assert event["response"]["id"] == rid
        error = event.get("response", {}).get("error") or {}
        if error.get("code") in BEYOND_SDK_ENUM:
            continue  # real failure codes the API sends outside the SDK's enum
        STREAM_EVENT.validate_python(event)
    return events


def sdk_client(
    body: bytes,
    status: int = 200,
    content_type: str = "text/event-stream",
    chunk: int | None = None,
) -> openai.OpenAI:
    """An OpenAI client whose every request is answered with ``body`` (optionally in small
    chunks, to exercise the SDK's own SSE decoder on our bytes)."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        content: Any = body
        if chunk:
            content = iter([body[i : i + chunk] for i in range(0, len(body), chunk)])
        return httpx2.Response(status, headers={"content-type": content_type}, content=content)

    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        max_retries=0,
        _strict_response_validation=True,
    )


def validate_response(body: dict[str, Any]) -> Response:
    return Response.model_validate(body)
