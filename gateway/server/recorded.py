"""A response as its client received it, kept to answer a repeat of the same request.

Recorded: status, content type, Retry-After (errors only), the body bytes exactly as sent
(a stream's whole SSE text) and the tokens from the log entry. A streamed answer counts only
when it ended properly: its own dialect's parser sees a finish and no error in the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.formats.codec import Codec
from gateway.formats.sse import SSEDecoder
from gateway.observe.request_log import LogEntry

REPLAY_HEADER = "X-Switchboard-Replay"
_SSE = "text/event-stream"


@dataclass(frozen=True, slots=True)
class Recorded:
    status: int
    content_type: str
    body: bytes
    tokens_in: int | None = None
    tokens_out: int | None = None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def tokens(self) -> int:
        return (self.tokens_in or 0) + (self.tokens_out or 0)


def record_of(
    response: web.StreamResponse | None, entry: LogEntry, codec: Codec
) -> Recorded | None:
    """The complete answer ``response`` gave, or None (none, cut, failed or too large)."""
    if response is None:
        return None
    content_type = response.headers.get("Content-Type", "application/json")
    if isinstance(response, web.Response):
        body = response.body
        if not isinstance(body, bytes):
            return None
    else:
        capture = entry.capture
        if capture is None or capture.overflowed or entry.error is not None:
            return None
        if response.status != 200:
            return None
        body = capture.body()
        if not stream_finished(codec, body):
            return None
    return Recorded(
        response.status,
        content_type,
        body,
        entry.tokens_in,
        entry.tokens_out,
        response.headers.get("Retry-After"),
    )


def stream_finished(codec: Codec, body: bytes) -> bool:
    """True when the SSE text ``body`` holds a finish and no error, in ``codec``'s dialect.

    A same-dialect stream is relayed unparsed, so an upstream's in-stream error event (or a
    stream that stopped early but cleanly) shows only here.
    """
    decoder = SSEDecoder()
    parser = codec.stream_parser()
    finished = False
    try:
        events = [e for sse in (*decoder.feed(body), *decoder.close()) for e in parser.feed(sse)]
        events += parser.close()
    except Exception:  # unreadable: not worth replaying
        return False
    for event in events:
        if event["type"] == "error":
            return False
        finished = finished or event["type"] == "finish"
    return finished


def replay_response(recorded: Recorded, entry: LogEntry, header: str, value: str) -> web.Response:
    """``recorded`` again, for the request logged in ``entry`` (marked as replayed)."""
    entry.status = recorded.status
    entry.tokens_in, entry.tokens_out = recorded.tokens_in, recorded.tokens_out
    if not recorded.ok:
        entry.error = f"{value}: {recorded.body[:200].decode('utf-8', 'replace')}"
    headers = {
        "Content-Type": recorded.content_type,
        "X-Request-Id": entry.request_id,
        header: value,
    }
    if recorded.content_type.startswith(_SSE):
        headers["Cache-Control"] = "no-cache"
    if recorded.retry_after is not None:
        headers["Retry-After"] = recorded.retry_after
    return web.Response(status=recorded.status, body=recorded.body, headers=headers)
