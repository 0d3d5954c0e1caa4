"""GET /v1/models (OpenAI list shape) and GET /health."""

from __future__ import annotations

import time

import orjson
from aiohttp import web

from gateway import __version__
from gateway.config.snapshot import Snapshot
from gateway.formats.codec import codec_for
from gateway.server.errors import GatewayError, error_response
from gateway.server.request_io import authenticate, request_id_for
from gateway.server.runtime import RUNTIME


def models_body(snapshot: Snapshot) -> bytes:
    """Every ``alias/model`` of the enabled connections of providers not hidden, then the
    combos, then the user's model aliases."""
    seen: set[str] = set()
    data = []
    for upstream in snapshot.upstreams:
        if upstream.provider in snapshot.hidden_providers:
            continue  # still routable, just not listed
        for model in sorted(upstream.models):
            model_id = f"{upstream.alias}/{model}"
            if model_id not in seen:
                seen.add(model_id)
                data.append(
                    {"id": model_id, "object": "model", "created": 0, "owned_by": upstream.provider}
                )
    for name in sorted(snapshot.combos):
        data.append({"id": name, "object": "model", "created": 0, "owned_by": "combo"})
    for name in sorted(snapshot.model_aliases):
        data.append({"id": name, "object": "model", "created": 0, "owned_by": "alias"})
    return orjson.dumps({"object": "list", "data": data})


async def list_models(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    snapshot = runtime.snapshot
    request_id = request_id_for(request)
    try:
        authenticate(request, snapshot)
    except GatewayError as error:
        return error_response(codec_for("openai"), error.to_hub(), request_id)
    cached = runtime.models_cache
    if cached is None or cached[0] != snapshot.revision:
        cached = runtime.models_cache = (snapshot.revision, models_body(snapshot))
    return web.Response(
        body=cached[1], content_type="application/json", headers={"X-Request-Id": request_id}
    )


async def health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = {
        "status": "ok",
        "version": __version__,
        "uptime_s": round(time.time() - runtime.started_at, 1),
    }
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def not_found(request: web.Request) -> web.Response:
    error = GatewayError(
        404,
        f"No route {request.method} {request.path}. Switchboard serves POST "
        "/v1/chat/completions, /v1/messages, /v1/responses, /v1beta/models/<model>:<method>, "
        "GET /v1/models, /v1beta/models and /health.",
        code="unknown_route",
    )
    return error_response(codec_for("openai"), error.to_hub(), request_id_for(request))
