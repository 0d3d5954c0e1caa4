"""POST /v1/responses: OpenAI Responses clients (Codex CLI)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.formats.codec import codec_for
from gateway.observe.request_log import LogEntry
from gateway.server.exchange import ClientCall, forwarded_headers, serve
from gateway.server.handler import handle, required_model
from gateway.server.runtime import Runtime

CODEC = codec_for("responses")


async def create_response(request: web.Request) -> web.StreamResponse:
    return await handle(request, CODEC, _create)


async def _create(
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
    if body.get("previous_response_id"):
        # Server-side conversation state lives with the upstream that stored it.
        call.translatable = (
            "previous_response_id refers to a response stored by a Responses "
            "upstream; send the full input instead (store: false) to use "
            "another provider"
        )
    entry.requested_model, entry.stream = call.model, call.stream
    return await serve(request, runtime, call, entry, started)
