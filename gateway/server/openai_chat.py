"""POST /v1/chat/completions: OpenAI Chat Completions clients."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.formats.codec import codec_for
from gateway.observe.request_log import LogEntry
from gateway.server.handler import handle, serve_model_in_body
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
    return await serve_model_in_body(request, runtime, CODEC, body, raw, entry, started)
