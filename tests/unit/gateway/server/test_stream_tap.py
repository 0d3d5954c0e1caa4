"""Usage of a pass-through stream, read from its first and last 8 KiB only."""

from __future__ import annotations

import orjson

from gateway.formats.codec import codec_for
from gateway.server.passthrough import StreamTap


def gemini_chunk(text: str, prompt: int, candidates: int, finish: bool = False) -> bytes:
    candidate: dict[str, object] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    if finish:
        candidate["finishReason"] = "STOP"
    body = {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates,
        },
    }
    return b"data: " + orjson.dumps(body) + b"\r\n\r\n"


def feed(tap: StreamTap, data: bytes, size: int = 700) -> None:
    for start in range(0, len(data), size):
        tap.see(data[start : start + size])


def test_short_gemini_stream_with_crlf_framing() -> None:
    tap = StreamTap()
    feed(tap, gemini_chunk("Hello", 5, 1) + gemini_chunk(" world", 5, 2, finish=True))
    usage = tap.usage(codec_for("gemini"))
    assert usage is not None
    assert (usage["input_tokens"], usage["output_tokens"]) == (5, 2)


def test_long_gemini_stream_reads_the_last_chunk() -> None:
    chunks = [gemini_chunk(f" word{i}", 9, i + 1, finish=i == 399) for i in range(400)]
    data = b"".join(chunks)
    assert len(data) > 40_000  # far more than head + tail
    tap = StreamTap()
    feed(tap, data)
    usage = tap.usage(codec_for("gemini"))
    assert usage is not None
    assert (usage["input_tokens"], usage["output_tokens"]) == (9, 400)


def test_anthropic_input_from_the_head_and_output_from_the_tail() -> None:
    def event(kind: str, body: dict[str, object]) -> bytes:
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"

    data = event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "m",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 42, "output_tokens": 1},
            },
        },
    )
    data += event(
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    for i in range(1000):
        data += event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": f" w{i}"},
            },
        )
    data += event("content_block_stop", {"type": "content_block_stop", "index": 0})
    data += event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 1000},
        },
    )
    data += event("message_stop", {"type": "message_stop"})
    tap = StreamTap()
    feed(tap, data, size=333)
    usage = tap.usage(codec_for("anthropic"))
    assert usage is not None
    assert (usage["input_tokens"], usage["output_tokens"]) == (42, 1000)
