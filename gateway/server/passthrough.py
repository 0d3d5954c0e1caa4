"""Same-dialect path: the upstream's response goes back unchanged, whole or streamed.

Streams are forwarded chunk by chunk as they arrive. Only the first and last few KiB are kept
(``StreamTap``) so the dialect's parser can read usage at the end without touching every
chunk on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import orjson
from aiohttp import web

from gateway.formats import hub
from gateway.formats.codec import Codec
from gateway.formats.responses.envelope import echo_fields, response_object
from gateway.formats.responses.errors import failure_from_hub
from gateway.formats.sse import SSEDecoder
from gateway.observe.request_log import LogEntry
from gateway.observe.usage import event_chars, note_response, record_usage
from gateway.providers.upstream import UPSTREAM_EXCEPTIONS, describe_failure

_TAP_BYTES = 8192
ERROR_GAP_S = 0.05
_BOUNDARY = re.compile(rb"\r\n\r\n|\n\n|\r\r")
# Upstream headers worth passing on: content type and what clients use to pace themselves.
_PASSED_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_PASSED_NAMES = frozenset({"content-type", "retry-after"})


def passed_headers(upstream: aiohttp.ClientResponse, request_id: str) -> dict[str, str]:
    headers = {"X-Request-Id": request_id}
    for name, value in upstream.headers.items():
        lower = name.lower()
        if lower in _PASSED_NAMES or lower.startswith(_PASSED_PREFIXES):
            headers[name] = value
    return headers


def response_of_body(codec: Codec, body: bytes) -> hub.Response | None:
    try:
        parsed = orjson.loads(body)
        return codec.response_to_hub(parsed) if isinstance(parsed, dict) else None
    except Exception:  # usage is best effort: a body we cannot read is still relayed as is
        return None


class StreamTap:
    """Keeps the head and the tail of a stream, enough to find the usage events."""

    def __init__(self) -> None:
        self.head = b""
        self.tail = b""
        self.size = 0

    def see(self, chunk: bytes) -> None:
        if len(self.head) < _TAP_BYTES:
            self.head += chunk
        self.tail = (self.tail + chunk)[-_TAP_BYTES:]
        self.size += len(chunk)

    def usage(self, codec: Codec) -> hub.Usage | None:
        return self.read(codec)[0]

    def read(self, codec: Codec) -> tuple[hub.Usage | None, int]:
        """The usage the stream reported (None if none), and the characters the model wrote
        as far as the head and tail show, scaled to the whole stream when its middle was not
        kept (for estimates: docs/usage.md)."""
        if self.size <= len(self.head):
            chunks = [self.head]
        else:
            tail = self.tail
            # The tail starts mid-event: skip to the first event boundary (LF or CRLF framing).
            cut = _BOUNDARY.search(tail)
            chunks = [self.head, b"\n\n", tail[cut.end() :] if cut else b""]
        decoder = SSEDecoder()
        parser = codec.stream_parser()
        usage: hub.Usage | None = None
        events: list[hub.Event] = []
        for chunk in chunks:
            for sse in decoder.feed(chunk):
                try:
                    events += parser.feed(sse)
                except Exception:  # events out of context (the middle is missing): skip
                    continue
        with contextlib.suppress(Exception):
            events += parser.close()  # some parsers (Gemini) hold usage until the end
        chars = 0
        for item in events:
            if item["type"] == "usage":
                usage = {**(usage or {}), **item["usage"]}
            else:
                chars += event_chars(item)
        kept = sum(len(chunk) for chunk in chunks)
        if kept < self.size and kept:
            chars = round(chars * self.size / kept)
        return usage, chars


async def relay_body(
    codec: Codec,
    upstream: aiohttp.ClientResponse,
    entry: LogEntry,
    request_id: str,
    body: bytes,
) -> web.Response:
    """``body``: the upstream's, already read (the router checked it before relaying)."""
    entry.status = upstream.status
    if upstream.status == 200:
        note_response(entry, response_of_body(codec, body))
    else:
        entry.error = f"upstream {upstream.status}: {body[:200].decode('utf-8', 'replace')}"
    return web.Response(
        status=upstream.status, body=body, headers=passed_headers(upstream, request_id)
    )


async def relay_stream(
    request: web.Request,
    codec: Codec,
    upstream: aiohttp.ClientResponse,
    entry: LogEntry,
    request_id: str,
    started: float,
    first: bytes,
) -> web.StreamResponse:
    response = web.StreamResponse(
        status=upstream.status, headers=passed_headers(upstream, request_id)
    )
    response.headers["Cache-Control"] = "no-cache"
    entry.status = upstream.status
    await response.prepare(request)
    tap = StreamTap()
    try:
        async for chunk in chunks_from(first, upstream):
            if entry.ttfb_ms is None:
                entry.ttfb_ms = (time.perf_counter() - started) * 1000
            try:
                await response.write(chunk)
            except ConnectionResetError:
                entry.error = "client disconnected"
                _record_tap(entry, tap, codec)
                return response
            tap.see(chunk)
            if entry.capture is not None:  # the answer may be replayed (server/replays.py)
                entry.capture.add(chunk)
    except UPSTREAM_EXCEPTIONS as exc:
        _record_tap(entry, tap, codec)
        _, reason = describe_failure(exc)
        entry.error = f"stream interrupted: upstream {reason}"
        error: hub.Error = {
            "status": 502,
            "kind": "unavailable",
            "code": "upstream_stream_interrupted",
            "message": f"The upstream stream was interrupted: upstream {reason}.",
        }
        await asyncio.sleep(ERROR_GAP_S)  # a write of its own (see translated.ERROR_GAP_S)
        await write_quietly(response, stream_error_event(codec, error, tap))
        return response
    _record_tap(entry, tap, codec)
    await response.write_eof()
    return response


def _record_tap(entry: LogEntry, tap: StreamTap, codec: Codec) -> None:
    usage, chars = tap.read(codec)
    record_usage(entry, usage)
    entry.output_chars = chars


async def chunks_from(first: bytes, upstream: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The stream's chunks, starting with ``first`` (read early to check the stream is alive)."""
    yield first
    async for chunk in upstream.content.iter_any():
        yield chunk


def stream_error_event(codec: Codec, error: hub.Error, tap: StreamTap | None = None) -> bytes:
    """The dialect's in-stream error event, for a stream whose earlier events we did not
    produce ourselves (so no emitter state: just the error, in the dialect's framing)."""
    _, body = codec.error_from_hub(error)
    if codec.dialect == "anthropic":
        return b"event: error\ndata: " + body + b"\n\n"
    if codec.dialect == "responses":
        return responses_failure(error, tap)
    if codec.dialect == "gemini":
        return body + b"\n"  # bare JSON, as Google sends a mid-stream error (see stream_out)
    return b"data: " + body + b"\n\n"  # OpenAI Chat  # OpenAI Chat and Gemini (SSE)


_SEQUENCE = re.compile(rb'"sequence_number":\s*(\d+)')
_RESPONSE_ID = re.compile(rb'"id":\s*"(resp_[^"]+)"')
_MODEL = re.compile(rb'"model":\s*"([^"]*)"')


def responses_failure(error: hub.Error, tap: StreamTap | None) -> bytes:
    """``error`` then ``response.failed`` (Codex CLI reads the reason from the latter),
    continuing the upstream's sequence numbers and response id as far as the tap saw them."""
    head, tail = (tap.head, tap.tail) if tap else (b"", b"")
    numbers = _SEQUENCE.findall(tail) or _SEQUENCE.findall(head)
    sequence = int(numbers[-1]) + 1 if numbers else 0
    rid = _RESPONSE_ID.search(head)
    model = _MODEL.search(head)
    # As the translated path: the error event keeps the hub code, response.failed carries a
    # code of the API's enum (Codex CLI decides from it whether to retry).
    failure, code = failure_from_hub(error)
    failed = response_object(
        rid=rid.group(1).decode() if rid else "resp_" + uuid.uuid4().hex,
        created_at=int(time.time()),
        model=model.group(1).decode() if model else "",
        status="failed",
        output=[],
        usage=None,
        echo=echo_fields({}),
        error=failure,
    )
    first = {
        "type": "error",
        "code": code,
        "message": error["message"],
        "param": None,
        "sequence_number": sequence,
    }
    second = {"type": "response.failed", "sequence_number": sequence + 1, "response": failed}
    return (
        b"event: error\ndata: " + orjson.dumps(first) + b"\n\nevent: response.failed\n"
        b"data: " + orjson.dumps(second) + b"\n\n"
    )


async def write_quietly(response: web.StreamResponse, data: bytes) -> None:
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        if data:
            await response.write(data)
        await response.write_eof()
