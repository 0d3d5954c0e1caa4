"""Gemini clients (Gemini CLI, google-genai): /v1beta/models/{model}:{action} and the list."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from gateway.config.snapshot import Snapshot
from gateway.formats.estimate import estimate_input_tokens
from gateway.formats.gemini import CODEC
from gateway.observe.request_log import LogEntry
from gateway.routing.resolve import ModelNotFoundError, resolve
from gateway.server.errors import GatewayError, error_response
from gateway.server.exchange import EXTENDED_CONTEXT_SUFFIX, ClientCall, serve
from gateway.server.handler import handle
from gateway.server.request_io import authenticate, request_id_for
from gateway.server.runtime import RUNTIME, Runtime

ACTIONS = frozenset({"generateContent", "streamGenerateContent", "countTokens"})


def split_model_action(tail: str) -> tuple[str, str]:
    """ "models/openai/gpt-4o:streamGenerateContent" → ("openai/gpt-4o", "streamGenerate…")."""
    model, _, action = tail.rpartition(":")
    if not model or action not in ACTIONS:
        raise GatewayError(
            404,
            f"No Gemini method {tail!r}: use models/<model>:generateContent, "
            ":streamGenerateContent or :countTokens.",
            code="unknown_route",
        )
    return model.removeprefix("models/"), action


async def model_action(request: web.Request) -> web.StreamResponse:
    return await handle(request, CODEC, _action)


async def _action(
    request: web.Request,
    runtime: Runtime,
    body: dict[str, Any],
    raw: bytes,
    entry: LogEntry,
    started: float,
) -> web.StreamResponse:
    model, action = split_model_action(request.match_info["tail"])
    entry.requested_model = model
    if action == "countTokens":
        return await _count(request, runtime, body, raw, entry, started, model)
    stream = action == "streamGenerateContent"
    sse = request.query.get("alt") == "sse"
    call = ClientCall(CODEC, body, raw, model, stream, gemini_sse=sse)
    if stream and not sse:
        call.content_type = "application/json"
        call.emitter_factory = CODEC.array_stream_emitter
    entry.stream = stream
    return await serve(request, runtime, call, entry, started)


async def _count(
    request: web.Request,
    runtime: Runtime,
    body: dict[str, Any],
    raw: bytes,
    entry: LogEntry,
    started: float,
    model: str,
) -> web.StreamResponse:
    try:
        targets = resolve(runtime.snapshot, model.removesuffix(EXTENDED_CONTEXT_SUFFIX))
    except ModelNotFoundError:
        targets = []
    if any(t.upstream.dialect == "gemini" and not t.upstream.problem for t in targets):
        call = ClientCall(CODEC, body, raw, model, False, endpoint="countTokens", translatable="")
        return await serve(request, runtime, call, entry, started)
    contents = body.get("generateContentRequest", body)
    tokens = estimate_input_tokens(CODEC.request_to_hub(contents))
    entry.status, entry.tokens_in = 200, tokens
    return web.Response(
        body=orjson.dumps({"totalTokens": tokens}),
        content_type="application/json",
        headers={"X-Request-Id": entry.request_id},
    )


def _model_entry(model_id: str, context: int | None) -> dict[str, Any]:
    return {
        "name": f"models/{model_id}",
        "baseModelId": model_id,
        "version": "001",
        "displayName": model_id,
        "inputTokenLimit": context or 128000,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }


def gemini_models(snapshot: Snapshot, *, hidden: bool = False) -> list[dict[str, Any]]:
    """The models of the enabled connections, then the combos; those of hidden providers
    only with ``hidden`` (they stay routable and can be fetched one by one)."""
    seen: set[str] = set()
    models = []
    for upstream in snapshot.upstreams:
        if not hidden and upstream.provider in snapshot.hidden_providers:
            continue
        for model in sorted(upstream.models):
            model_id = f"{upstream.alias}/{model}"
            if model_id not in seen:
                seen.add(model_id)
                models.append(_model_entry(model_id, None))
    models += [_model_entry(name, None) for name in sorted(snapshot.combos)]
    models += [_model_entry(name, None) for name in sorted(snapshot.model_aliases)]
    return models


async def list_models(request: web.Request) -> web.Response:
    snapshot = request.app[RUNTIME].snapshot
    request_id = request_id_for(request)
    try:
        authenticate(request, snapshot)
    except GatewayError as error:
        return error_response(CODEC, error.to_hub(), request_id)
    return web.Response(
        body=orjson.dumps({"models": gemini_models(snapshot)}),
        content_type="application/json",
        headers={"X-Request-Id": request_id},
    )


async def get_model(request: web.Request) -> web.Response:
    snapshot = request.app[RUNTIME].snapshot
    request_id = request_id_for(request)
    try:
        authenticate(request, snapshot)
        wanted = request.match_info["tail"].removeprefix("models/")
        for model in gemini_models(snapshot, hidden=True):
            if model["baseModelId"] == wanted:
                return web.Response(
                    body=orjson.dumps(model),
                    content_type="application/json",
                    headers={"X-Request-Id": request_id},
                )
        raise GatewayError(
            404,
            f"Model {wanted!r} is not available; GET /v1beta/models lists the models you can use.",
            code="model_not_found",
        )
    except GatewayError as error:
        return error_response(CODEC, error.to_hub(), request_id)
