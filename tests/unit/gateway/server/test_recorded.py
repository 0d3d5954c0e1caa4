"""What counts as a complete answer worth replaying, and how it is replayed."""

from __future__ import annotations

import pytest
from aiohttp import web

from gateway.formats import hub
from gateway.formats.codec import codec_for
from gateway.observe.capture import Capture
from gateway.observe.request_log import LogEntry
from gateway.server.recorded import Recorded, record_of, replay_response, stream_finished

DIALECTS = ["openai", "anthropic", "gemini", "responses"]
REQUEST: hub.Request = {
    "model": "m",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "stream": True,
}


def stream(dialect: str, *tail: hub.Event, words: int = 1) -> bytes:
    """An SSE stream in ``dialect``: start, ``words`` text deltas, ``tail``, then close()."""
    emitter = codec_for(dialect).stream_emitter(REQUEST)
    events: list[hub.Event] = [
        {"type": "start", "id": "x1", "model": "m"},
        *({"type": "text_delta", "text": f" word{i}"} for i in range(words)),
        *tail,
    ]
    return b"".join(emitter.feed(e) for e in events) + (emitter.close() if tail else b"")


FINISHED: tuple[hub.Event, ...] = (
    {"type": "finish", "reason": "stop"},
    {"type": "usage", "usage": {"input_tokens": 3, "output_tokens": 1}},
)
FAILED: hub.Event = {
    "type": "error",
    "error": {"status": 529, "kind": "unavailable", "message": "overloaded"},
}


@pytest.mark.parametrize("words", [1, 3000], ids=["short", "long"])
@pytest.mark.parametrize("framing", ["lf", "crlf"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_stream_counts_only_when_it_finished_without_error(
    dialect: str, framing: str, words: int
) -> None:
    def framed(data: bytes) -> bytes:
        return data.replace(b"\n", b"\r\n") if framing == "crlf" else data

    codec = codec_for(dialect)
    finished = framed(stream(dialect, *FINISHED, words=words))
    assert len(finished) > 100_000 if words > 1 else len(finished) < 8192
    assert stream_finished(codec, finished)
    assert not stream_finished(codec, framed(stream(dialect, words=words)))  # cut before its end
    assert not stream_finished(codec, framed(stream(dialect, FAILED, words=words)))
    assert not stream_finished(codec, b"")


def test_a_long_stream_is_checked_from_its_ends_only() -> None:
    codec = codec_for("anthropic")
    data = stream("anthropic", *FINISHED, words=3000)
    middle = len(data) // 2
    garbled = data[:middle] + b"event: nonsense\ndata: {not json\n\n" + data[middle:]
    assert stream_finished(codec, garbled)  # the middle is never parsed


def entry(**fields: object) -> LogEntry:
    log = LogEntry(0.0, "req-1", "openai")
    for name, value in fields.items():
        setattr(log, name, value)
    return log


def test_a_whole_response_is_recorded_with_its_tokens_and_retry_after() -> None:
    response = web.Response(
        status=429,
        body=b'{"error":{}}',
        content_type="application/json",
        headers={"Retry-After": "7"},
    )
    recorded = record_of(response, entry(tokens_in=None), codec_for("openai"))
    assert recorded == Recorded(429, "application/json", b'{"error":{}}', None, None, "7")
    assert not recorded.ok
    ok = record_of(web.Response(body=b"{}"), entry(tokens_in=5, tokens_out=2), codec_for("openai"))
    assert ok is not None and ok.ok and ok.tokens == 7


def test_no_response_is_not_recorded() -> None:
    assert record_of(None, entry(), codec_for("openai")) is None


def captured(data: bytes, limit: int = 1 << 20) -> Capture:
    capture = Capture(limit)
    for start in range(0, len(data), 100):
        capture.add(data[start : start + 100])
    return capture


def sse_response(status: int = 200) -> web.StreamResponse:
    return web.StreamResponse(status=status, headers={"Content-Type": "text/event-stream"})


def test_a_stream_is_recorded_from_its_capture_when_complete() -> None:
    data = stream("openai", *FINISHED)
    recorded = record_of(
        sse_response(),
        entry(capture=captured(data), tokens_in=3, tokens_out=1),
        codec_for("openai"),
    )
    assert recorded == Recorded(200, "text/event-stream", data, 3, 1, None)


@pytest.mark.parametrize(
    ("why", "fields", "status"),
    [
        ("no capture", {}, 200),
        ("cut", {"capture": captured(stream("openai"))}, 200),
        ("overflowed", {"capture": captured(stream("openai", *FINISHED), limit=200)}, 200),
        (
            "client went away",
            {"capture": captured(stream("openai", *FINISHED)), "error": "client disconnected"},
            200,
        ),
        ("not 200", {"capture": captured(stream("openai", *FINISHED))}, 206),
    ],
)
def test_an_incomplete_stream_is_not_recorded(
    why: str, fields: dict[str, object], status: int
) -> None:
    assert record_of(sse_response(status), entry(**fields), codec_for("openai")) is None, why


def test_a_capture_past_its_limit_drops_everything() -> None:
    capture = Capture(10)
    capture.add(b"12345")
    capture.add(b"67890")
    assert (capture.body(), capture.overflowed) == (b"1234567890", False)
    capture.add(b"x")
    assert (capture.body(), capture.overflowed, capture.size) == (b"", True, 11)
    capture.add(b"y")
    assert capture.body() == b""


def test_a_replay_carries_the_body_the_marker_and_this_request_id() -> None:
    log = entry(request_id="req-2")
    recorded = Recorded(200, "text/event-stream; charset=utf-8", b"data: x\n\n", 4, 5)
    response = replay_response(recorded, log, "X-Switchboard-Replay", "shared")
    assert response.status == 200 and response.body == b"data: x\n\n"
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["X-Switchboard-Replay"] == "shared"
    assert response.headers["X-Request-Id"] == "req-2"
    assert response.headers["Cache-Control"] == "no-cache"
    assert (log.status, log.tokens_in, log.tokens_out, log.error) == (200, 4, 5, None)


def test_a_replayed_error_keeps_its_status_retry_after_and_is_logged_as_an_error() -> None:
    log = entry()
    recorded = Recorded(429, "application/json", b'{"error":"slow down"}', retry_after="3")
    response = replay_response(recorded, log, "X-Switchboard-Replay", "shared")
    assert (response.status, response.headers["Retry-After"]) == (429, "3")
    assert "Cache-Control" not in response.headers
    assert (log.status, log.error) == (429, 'shared: {"error":"slow down"}')
