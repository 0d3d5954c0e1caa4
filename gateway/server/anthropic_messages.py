"""POST /v1/messages and /v1/messages/count_tokens: Anthropic clients (Claude Code)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from gateway.formats.codec import codec_for
from gateway.formats.estimate import estimate_input_tokens
from gateway.observe.request_log import LogEntry
from gateway.routing.resolve import ModelNotFoundError, resolve
from gateway.server.exchange import EXTENDED_CONTEXT_SUFFIX, ClientCall, forwarded_headers, serve
from gateway.server.handler import handle, required_model, serve_model_in_body
from gateway.server.runtime import Runtime

CODEC = codec_for("anthropic")


async def create_message(request: web.Request) -> web.StreamResponse:
    return await handle(request, CODEC, _messages)


async def count_tokens(request: web.Request) -> web.StreamResponse:
    return await handle(request, CODEC, _count)


async def _messages(
    request: web.Request,
    runtime: Runtime,
    body: dict[str, Any],
    raw: bytes,
    entry: LogEntry,
    started: float,
) -> web.StreamResponse:
    return await serve_model_in_body(request, runtime, CODEC, body, raw, entry, started)


async def _count(
    request: web.Request,
    runtime: Runtime,
    body: dict[str, Any],
    raw: bytes,
    entry: LogEntry,
    started: float,
) -> web.StreamResponse:
    """Counted by an Anthropic upstream when the model has one, else estimated offline."""
    model = required_model(body)
    entry.requested_model = model
    try:
        targets = resolve(runtime.snapshot, model.removesuffix(EXTENDED_CONTEXT_SUFFIX))
    except ModelNotFoundError:
        targets = []
    if any(t.upstream.dialect == "anthropic" and not t.upstream.problem for t in targets):
        call = ClientCall(
            CODEC,
            body,
            raw,
            model,
            False,
            endpoint="count_tokens",
            forwarded=forwarded_headers(request),
            translatable="",
        )
        return await serve(request, runtime, call, entry, started)
    tokens = estimate_input_tokens(CODEC.request_to_hub({**body, "max_tokens": 1}))
    entry.status, entry.tokens_in = 200, tokens
    return web.Response(
        body=orjson.dumps({"input_tokens": tokens}),
        content_type="application/json",
        headers={"X-Request-Id": entry.request_id},
    )
