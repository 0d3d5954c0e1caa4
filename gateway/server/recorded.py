"""A response as its client received it, kept to answer a repeat of the same request.

Recorded: status, content type, Retry-After (errors only), the body bytes exactly as sent
(a stream's whole SSE text) and the tokens from the log entry. A streamed answer counts only
when it ended properly: its own dialect's parser sees a finish and no error in the bytes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiohttp import web

from gateway.formats import hub
from gateway.formats.codec import Codec
from gateway.formats.sse import SSEDecoder
from gateway.observe.request_log import LogEntry

REPLAY_HEADER = "X-Switchboard-Replay"
_SSE = "text/event-stream"
_HEAD_BYTES = 8192
_LAST_EVENTS = 6
_SEPARATORS = (b"\n\n", b"\r\n\r\n", b"\r\r")


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
    """True when the SSE text ``body`` ends with a finish and holds no error, in ``codec``'s
    dialect.

    A same-dialect stream is relayed unparsed, so an upstream's in-stream error event (or a
    stream that stopped early but cleanly) shows only here. A long stream is read from its
    first events and its last ``_LAST_EVENTS`` (whole, however large: a Responses stream ends
    with the whole response): the finish, and any error that ended the stream, are there.
    """
    sep = _separator(body)
    head_end = _boundary_before(body, sep, _HEAD_BYTES)
    tail_start = _last_events_start(body, sep)
    chunks = [body] if tail_start <= head_end else [body[:head_end], body[tail_start:]]
    decoder = SSEDecoder()
    parser = codec.stream_parser()
    events: list[hub.Event] = []
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            try:
                events += parser.feed(sse)
            except Exception:  # out of context (the middle is left out): skip
                continue
    with contextlib.suppress(Exception):
        events += parser.close()
    finished = False
    for event in events:
        if event["type"] == "error":
            return False
        finished = finished or event["type"] == "finish"
    return finished


def _separator(body: bytes) -> bytes:
    """The stream's event boundary: the first one found (a stream keeps one framing)."""
    found = [(at, sep) for sep in _SEPARATORS if (at := body.find(sep, 0, _HEAD_BYTES)) >= 0]
    return min(found)[1] if found else b"\n\n"


def _boundary_before(body: bytes, sep: bytes, end: int) -> int:
    """Where the event after the last boundary before ``end`` starts (0: none)."""
    at = body.rfind(sep, 0, end)
    return at + len(sep) if at >= 0 else 0


def _last_events_start(body: bytes, sep: bytes) -> int:
    end = len(body.rstrip(b"\r\n"))
    start = end
    for _ in range(_LAST_EVENTS):
        start = _boundary_before(body, sep, end)
        if start == 0:
            return 0
        end = start - len(sep)  # the next search stops before this boundary
    return start


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
