"""POST /v1/chat/completions: OpenAI Chat Completions clients."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.formats.codec import codec_for
from gateway.observe.request_log import LogEntry
from gateway.server.exchange import ClientCall, forwarded_headers, serve
from gateway.server.handler import handle, required_model
from gateway.server.runtime import Runtime

CODEC = codec_for("openai")


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await handle(request, CODEC, _chat)


async def _chat(
    request: web.Request,
    runtime: Runtime,
    body: dict[str, Any],
    raw: bytes,
    entry: LogEntry,
    started: float,
) -> web.StreamResponse:
    call = ClientCall(
        CODEC,
        body,
        raw,
        required_model(body),
        body.get("stream") is True,
        forwarded=forwarded_headers(request),
    )
    entry.requested_model, entry.stream = call.model, call.stream
    return await serve(request, runtime, call, entry, started)
