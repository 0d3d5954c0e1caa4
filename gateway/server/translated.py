"""Cross-dialect path: the upstream's response is translated through the hub, whole or
streamed chunk by chunk, into a well-formed response of the client's dialect."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiohttp
import orjson
from aiohttp import web

from gateway.formats import hub
from gateway.formats.codec import Codec, StreamEmitter
from gateway.formats.replay import ReplayCache, TurnRecorder
from gateway.formats.sse import SSEDecoder
from gateway.observe.request_log import LogEntry
from gateway.observe.usage import event_chars, note_response, record_usage
from gateway.providers.upstream import UPSTREAM_EXCEPTIONS, describe_failure
from gateway.server.errors import GatewayError
from gateway.server.passthrough import chunks_from, write_quietly


async def translate_body(
    client: Codec,
    upstream_codec: Codec,
    upstream: aiohttp.ClientResponse,
    hub_request: hub.Request,
    entry: LogEntry,
    request_id: str,
    replay: ReplayCache,
    body: bytes,
) -> web.Response:
    try:
        parsed = orjson.loads(body)
        if not isinstance(parsed, dict):
            raise ValueError("not a JSON object")
        response = upstream_codec.response_to_hub(parsed)
    except Exception as exc:  # any unreadable 200 is the upstream's fault, not the client's
        raise GatewayError(
            502,
            "The upstream answered 200 with a response that could not be "
            f"read ({type(exc).__name__}: {str(exc)[:120]}).",
            code="upstream_invalid_response",
        ) from None
    replay.remember(response["reasoning"], response["tool_calls"])
    entry.status = 200
    note_response(entry, response)
    out = client.response_from_hub(response, hub_request)
    return web.Response(
        body=orjson.dumps(out),
        content_type="application/json",
        headers={"X-Request-Id": request_id},
    )


async def translate_stream(
    request: web.Request,
    client_emitter: StreamEmitter,
    content_type: str,
    upstream_codec: Codec,
    upstream: aiohttp.ClientResponse,
    entry: LogEntry,
    request_id: str,
    started: float,
    replay: ReplayCache,
    keepalive_s: float,
    first: bytes,
) -> web.StreamResponse:
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "X-Request-Id": request_id,
        },
    )
    entry.status = 200
    await response.prepare(request)
    state = _StreamState(entry, replay)
    writer = _Writer(response, entry, started)
    pinger = asyncio.create_task(writer.keep_alive(client_emitter.keepalive, keepalive_s))
    parser = upstream_codec.stream_parser()
    decoder = SSEDecoder()
    out = _Output(client_emitter, state, writer)
    try:
        async for chunk in chunks_from(first, upstream):
            for sse in decoder.feed(chunk):
                for event in parser.feed(sse):
                    await out.emit(event)
            if not await out.flush():
                return response
        for sse in decoder.close():
            for event in parser.feed(sse):
                await out.emit(event)
        for event in parser.close():
            await out.emit(event)
        if not state.ended:
            await out.emit(state.interrupted("the upstream ended the stream before it finished"))
    except UPSTREAM_EXCEPTIONS as exc:
        _, reason = describe_failure(exc)
        await out.emit(state.interrupted(f"upstream {reason}"))
    finally:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
    if state.ended and state.failed is None:
        state.recorder.finish(replay)
    await out.flush()
    if await writer.write(client_emitter.close()):  # (a turn of tool calls may all be here)
        await write_quietly(response, b"")
    return response


# Gemini's JavaScript SDK (inside Gemini CLI) recognises a mid-stream error only when one
# network read holds nothing but the error: it is written alone, a moment after the rest.
ERROR_GAP_S = 0.05


class _Output:
    """Emitted bytes waiting for the next write; an error event gets a write of its own."""

    def __init__(self, emitter: StreamEmitter, state: _StreamState, writer: _Writer) -> None:
        self._emitter = emitter
        self._state = state
        self._writer = writer
        self._pending: list[bytes] = []

    async def emit(self, event: hub.Event) -> None:
        if not self._state.see(event):
            return
        if event["type"] == "error":
            await self.flush()
            await asyncio.sleep(ERROR_GAP_S)
            await self._writer.write(self._emitter.feed(event))
            return
        self._pending.append(self._emitter.feed(event))

    async def flush(self) -> bool:
        """False when the client went away."""
        data = b"".join(self._pending)
        self._pending.clear()
        return await self._writer.write(data)


_INTERRUPTED = "The upstream stream was interrupted: "


class _StreamState:
    """Watches the hub events going by: usage for the log, the end, the turn for replay."""

    def __init__(self, entry: LogEntry, replay: ReplayCache) -> None:
        self.entry = entry
        self.recorder = TurnRecorder()
        self.ended = False
        self.failed: str | None = None

    def see(self, event: hub.Event) -> bool:
        if self.ended and event["type"] != "usage":
            return False  # nothing after the end or an error reaches the client
        if event["type"] == "usage":
            record_usage(self.entry, event["usage"])
        elif event["type"] == "finish":
            self.ended = True
        elif event["type"] == "error":
            self.ended = True
            self.failed = event["error"]["message"]
            reason = self.failed.removeprefix(_INTERRUPTED).rstrip(".")
            interrupted = event["error"].get("code") == "upstream_stream_interrupted"
            self.entry.error = (
                f"stream interrupted: {reason}"
                if interrupted
                else f"upstream error in stream: {self.failed}"
            )
        else:
            self.recorder.see(event)
            self.entry.output_chars += event_chars(event)  # for an estimate, if needed
        return True

    @staticmethod
    def interrupted(reason: str) -> hub.ErrorEvent:
        """The error event for an upstream that stopped mid-way (``see`` records it)."""
        return {
            "type": "error",
            "error": {
                "status": 502,
                "kind": "unavailable",
                "code": "upstream_stream_interrupted",
                "message": f"{_INTERRUPTED}{reason}.",
            },
        }


class _Writer:
    def __init__(self, response: web.StreamResponse, entry: LogEntry, started: float) -> None:
        self._response = response
        self._entry = entry
        self._started = started
        self._last = time.monotonic()

    async def write(self, data: bytes) -> bool:
        """False when the client went away."""
        if not data:
            return True
        if self._entry.ttfb_ms is None:
            self._entry.ttfb_ms = (time.perf_counter() - self._started) * 1000
        self._last = time.monotonic()
        try:
            await self._response.write(data)
        except ConnectionResetError:
            self._entry.error = "client disconnected"
            return False
        if self._entry.capture is not None:  # the answer may be replayed (server/replays.py)
            self._entry.capture.add(data)
        return True

    async def keep_alive(self, ping: Callable[[], bytes], interval: float) -> None:
        while True:
            await asyncio.sleep(interval / 3)
            if time.monotonic() - self._last >= interval:
                await self.write(ping())
