"""Helpers for the Gemini codec tests: fixtures, stream feeding, event normalisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini import CODEC, GeminiStreamEmitter
from gateway.formats.sse import SSEDecoder

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "gemini"


def load_json(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def load_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_stream(raw: bytes, *, step: int | None = None, close: bool = True) -> list[hub.Event]:
    """Gemini SSE bytes → hub events, fed in ``step``-byte pieces (all at once by default)."""
    decoder = SSEDecoder()
    parser = CODEC.stream_parser()
    events: list[hub.Event] = []
    pieces = [raw] if step is None else [raw[i : i + step] for i in range(0, len(raw), step)]
    for piece in pieces:
        for sse in decoder.feed(piece):
            events.extend(parser.feed(sse))
    for sse in decoder.close():
        events.extend(parser.feed(sse))
    if close:
        events.extend(parser.close())
    return events


def emit(events: list[hub.Event], request: hub.Request | None = None, **kwargs: Any) -> bytes:
    """Hub events → Gemini stream bytes (SSE unless ``json_array=True``), closed."""
    emitter = GeminiStreamEmitter(request or {"model": "gemini-2.5-flash"}, **kwargs)
    out = b"".join(emitter.feed(event) for event in events)
    return out + emitter.close()


def sse_chunks(raw: bytes) -> list[dict[str, Any]]:
    """The JSON chunks of an SSE body (checks the framing on the way). A mid-stream error
    ends the body as one bare JSON line, as Google sends it."""
    error = None
    if not raw.endswith(b"\r\n\r\n"):
        cut = raw.rfind(b"\r\n\r\n")
        cut = cut + 4 if cut >= 0 else 0
        raw, error = raw[:cut], raw[cut:]
        assert error.startswith(b'{"error":') and error.endswith(b"}\n"), error
    chunks = []
    for block in raw.split(b"\r\n\r\n")[:-1]:
        assert block.startswith(b"data: "), block
        chunks.append(orjson.loads(block[len(b"data: ") :]))
    if error is not None:
        chunks.append(orjson.loads(error))
    return chunks


def normalise(events: list[hub.Event], *, blank_ids: bool = False) -> list[dict[str, Any]]:
    """Events with what a stream cannot preserve folded away: adjacent text (and reasoning)
    deltas joined, a tool call's argument fragments joined and parsed, start dropped (and
    tool-call ids blanked with ``blank_ids``: generated ones differ run to run)."""
    out: list[dict[str, Any]] = []
    for event in events:
        item: dict[str, Any] = dict(event)
        kind = item["type"]
        if kind == "start":
            continue
        if kind in ("text_delta", "reasoning_delta"):
            if not item["text"]:
                continue
            item.pop("id", None)
            if out and out[-1]["type"] == kind:
                out[-1]["text"] += item["text"]
                continue
        if kind == "tool_call_start" and blank_ids:
            item["id"] = ""
        previous = out[-1] if out else None
        if (
            kind == "tool_call_delta"
            and previous is not None
            and previous["type"] == "tool_call_delta"
            and previous["index"] == item["index"]
        ):
            previous["arguments"] += item["arguments"]
            continue
        out.append(item)
    for item in out:
        if item["type"] == "tool_call_delta":
            text = item["arguments"].strip()
            item["arguments"] = orjson.loads(text) if text else {}
    return out
