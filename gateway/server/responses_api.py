"""POST /v1/responses: OpenAI Responses clients (Codex CLI)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.formats.codec import codec_for
from gateway.observe.request_log import LogEntry
from gateway.server.handler import handle, serve_model_in_body
from gateway.server.runtime import Runtime

CODEC = codec_for("responses")
# Server-side conversation state lives with the upstream that stored it.
STATEFUL = (
    "previous_response_id refers to a response stored by a Responses upstream; send "
    "the full input instead (store: false) to use another provider"
)


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
    stateful = STATEFUL if body.get("previous_response_id") else None
    return await serve_model_in_body(
        request, runtime, CODEC, body, raw, entry, started, translatable=stateful
    )
