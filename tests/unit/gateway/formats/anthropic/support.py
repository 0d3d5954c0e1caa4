"""Shared helpers: fixtures, SSE parsing, a well-formedness checker for Anthropic streams,
and the official SDK's stream accumulator fed from a fake HTTP response."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import orjson

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from gateway.formats.sse import SSEDecoder, SSEEvent

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "anthropic"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sse_events(data: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    return decoder.feed(data) + decoder.close()


def parse_stream(data: bytes) -> list[hub.Event]:
    parser = CODEC.stream_parser()
    events = [event for sse in sse_events(data) for event in parser.feed(sse)]
    return events + parser.close()


def emit(events: list[hub.Event], request: hub.Request | None = None) -> bytes:
    emitter = CODEC.stream_emitter(request or {"model": "claude-test"})
    out = b"".join(emitter.feed(event) for event in events)
    return out + emitter.close()


_DELTA_FOR_BLOCK = {
    "text": {"text_delta"},
    "thinking": {"thinking_delta", "signature_delta"},
    "tool_use": {"input_json_delta"},
    "redacted_thinking": set(),
}


def check_well_formed(data: bytes) -> list[dict[str, Any]]:
    """Assert the Anthropic stream rules a strict client relies on; return the payloads."""
    payloads: list[dict[str, Any]] = []
    for sse in sse_events(data):
        payload = orjson.loads(sse.data)
        assert sse.event == payload["type"], f"event name {sse.event!r} ≠ {payload['type']!r}"
        if payload["type"] != "ping":
            payloads.append(payload)
    kinds = [p["type"] for p in payloads]
    if kinds and kinds[-1] == "error":
        assert kinds.count("error") == 1
        assert "message_stop" not in kinds and "message_delta" not in kinds
        body = payloads[-1]
        assert set(body) == {"type", "error"} and set(body["error"]) == {"type", "message"}
        payloads = payloads[:-1]
        kinds = kinds[:-1]
        if not kinds:
            return payloads
    else:
        assert kinds[-2:] == ["message_delta", "message_stop"], kinds
        assert kinds.count("message_delta") == 1 and kinds.count("message_stop") == 1
    assert kinds[0] == "message_start" and kinds.count("message_start") == 1, kinds
    message = payloads[0]["message"]
    assert message["id"].startswith("msg_") and message["content"] == []
    assert message["role"] == "assistant" and message["type"] == "message"
    open_block: dict[str, Any] | None = None
    next_index = 0
    for payload in payloads[1:]:
        kind = payload["type"]
        if kind == "content_block_start":
            assert open_block is None, "a block opened before the previous one closed"
            assert payload["index"] == next_index, "block indexes must be 0, 1, 2, …"
            open_block = payload["content_block"]
            if open_block["type"] == "tool_use":
                assert open_block["input"] == {} and open_block["id"]
            next_index += 1
        elif kind == "content_block_delta":
            assert open_block is not None and payload["index"] == next_index - 1
            assert payload["delta"]["type"] in _DELTA_FOR_BLOCK[open_block["type"]]
        elif kind == "content_block_stop":
            assert open_block is not None and payload["index"] == next_index - 1
            open_block = None
        elif kind == "message_delta":
            assert open_block is None, "message_delta with a block still open"
            assert payload["delta"]["stop_reason"] in (
                "end_turn",
                "max_tokens",
                "stop_sequence",
                "tool_use",
                "refusal",
            )
            assert isinstance(payload["usage"]["output_tokens"], int)
        elif kind == "message_stop":
            pass
        else:
            raise AssertionError(f"unexpected event {kind}")
    return payloads


def sdk_final_message(data: bytes) -> anthropic.types.Message:
    """Run ``data`` through the official SDK's streaming helper and accumulator."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=data)

    client = anthropic.Anthropic(
        api_key="test",
        base_url="http://anthropic.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    with client.messages.stream(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        return stream.get_final_message()


def sdk_error(status: int, body: bytes) -> anthropic.APIStatusError:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers={"content-type": "application/json"}, content=body)

    client = anthropic.Anthropic(
        api_key="test",
        base_url="http://anthropic.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    try:
        client.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    except anthropic.APIStatusError as exc:
        return exc
    raise AssertionError("no error raised")
