"""The frame every client-dialect route shares: auth, body, logging, errors in its dialect."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.formats.codec import Codec
from gateway.observe.request_log import LogEntry
from gateway.server.errors import GatewayError, bad_request, error_response
from gateway.server.exchange import ClientCall, forwarded_headers, serve
from gateway.server.request_io import authenticate, parse_json_object, read_body, request_id_for
from gateway.server.runtime import RUNTIME, Runtime

# (request, runtime, parsed body, raw body, log entry, start time) -> response
Handler = Callable[
    [web.Request, Runtime, dict[str, Any], bytes, LogEntry, float],
    Awaitable[web.StreamResponse],
]


async def handle(request: web.Request, codec: Codec, handler: Handler) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    started = time.perf_counter()
    request_id = request_id_for(request)
    entry = LogEntry(time.time(), request_id, codec.dialect)
    response: web.StreamResponse | None = None
    try:
        entry.key_name = authenticate(request, runtime.snapshot)
        raw = await read_body(request, runtime.snapshot.settings.max_body_mb)
        body = parse_json_object(raw)
        response = await handler(request, runtime, body, raw, entry, started)
        return response
    except GatewayError as error:
        entry.status = error.status
        entry.error = error.message
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        response = error_response(codec, error.to_hub(), request_id, headers)
        return response
    finally:
        entry.latency_ms = (time.perf_counter() - started) * 1000
        runtime.replays.finish(request, entry, response)  # answers repeats waiting for this one
        runtime.log.record(entry, runtime.snapshot.prices)


async def serve_model_in_body(
    request: web.Request,
    runtime: Runtime,
    codec: Codec,
    body: dict[str, Any],
    raw: bytes,
    entry: LogEntry,
    started: float,
    *,
    translatable: str | None = None,
) -> web.StreamResponse:
    """The dialects whose body names the model and the stream flag (all but Gemini)."""
    call = ClientCall(
        codec,
        body,
        raw,
        required_model(body),
        body.get("stream") is True,
        forwarded=forwarded_headers(request),
        translatable=translatable,
    )
    entry.requested_model, entry.stream = call.model, call.stream
    return await serve(request, runtime, call, entry, started)


def required_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request(
            "'model' is required: a string such as openai/gpt-4o-mini or a combo name."
        )
    return model
