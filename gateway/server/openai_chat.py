"""POST /v1/chat/completions: OpenAI Chat clients.

Same-dialect path: the body passes through with only the model name and auth changed, and
the response (whole or streamed) comes back unchanged. Targets are tried in order; a
retryable failure (429, 5xx, timeout, connection error) moves to the next target as long as
nothing has been sent to the client yet.
"""

from __future__ import annotations

import io
import time
from typing import Any

import orjson
from aiohttp import web

from gateway.observe.request_log import LogEntry
from gateway.providers.upstream import (
    UPSTREAM_EXCEPTIONS,
    describe_failure,
    endpoint_url,
    timeouts,
)
from gateway.routing.resolve import ModelNotFoundError, Target, resolve
from gateway.server.errors import (
    GatewayError,
    bad_request,
    openai_error_response,
)
from gateway.server.relay import relay_body, relay_stream
from gateway.server.request_io import authenticate, parse_json_object, read_body, request_id_for
from gateway.server.runtime import RUNTIME, Runtime

CLIENT_DIALECT = "openai"
_LARGE_BODY = 1 << 20


async def chat_completions(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    snapshot = runtime.snapshot
    started = time.perf_counter()
    request_id = request_id_for(request)
    entry = LogEntry(time.time(), request_id, CLIENT_DIALECT)
    try:
        entry.key_name = authenticate(request, snapshot)
        payload = parse_json_object(await read_body(request, snapshot.settings.max_body_mb))
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            raise bad_request(
                "'model' is required: a string such as openai/gpt-4o-mini or a combo name.",
                param="model",
            )
        entry.requested_model = model
        entry.stream = payload.get("stream") is True
        try:
            targets = resolve(snapshot, model)
        except ModelNotFoundError as exc:
            raise GatewayError(404, str(exc), code="model_not_found", param="model") from None
        return await _forward(request, runtime, targets, payload, entry, started)
    except GatewayError as error:
        entry.status = error.status
        entry.error = error.message
        return openai_error_response(error, request_id)
    finally:
        entry.latency_ms = (time.perf_counter() - started) * 1000
        runtime.log.record(entry)


async def _forward(
    request: web.Request,
    runtime: Runtime,
    targets: list[Target],
    payload: dict[str, Any],
    entry: LogEntry,
    started: float,
) -> web.StreamResponse:
    usable = [t for t in targets if t.upstream.dialect == CLIENT_DIALECT and not t.upstream.problem]
    if not usable:
        raise _no_usable_target(targets, entry.requested_model or "")
    settings = runtime.snapshot.settings
    timeout = timeouts(settings.upstream_connect_timeout_s, settings.upstream_read_timeout_s)
    failure: GatewayError | None = None
    for index, target in enumerate(usable):
        upstream = target.upstream
        entry.provider, entry.connection = upstream.provider, upstream.connection
        entry.upstream_model = target.model
        payload["model"] = target.model
        is_last = index == len(usable) - 1
        try:
            response = await runtime.http.post(
                endpoint_url(upstream, target.model, stream=entry.stream),
                data=request_body(payload),
                headers=upstream.headers,
                timeout=timeout,
            )
        except UPSTREAM_EXCEPTIONS as exc:
            status, reason = describe_failure(exc)
            failure = GatewayError(
                status,
                f"Upstream {upstream.provider_name} (connection {upstream.connection!r}) {reason}.",
                code="upstream_timeout" if status == 504 else "upstream_unreachable",
                type="api_error",
            )
            continue
        try:
            if is_retryable(response.status) and not is_last:
                await response.read()
                continue
            if entry.stream and response.status == 200:
                return await relay_stream(request, response, entry, entry.request_id, started)
            return await relay_body(response, entry, entry.request_id)
        except UPSTREAM_EXCEPTIONS as exc:
            status, reason = describe_failure(exc)
            failure = GatewayError(
                status,
                f"Upstream {upstream.provider_name} {reason}.",
                code="upstream_unreachable",
                type="api_error",
            )
        finally:
            response.release()
    assert failure is not None
    raise failure


def is_retryable(status: int) -> bool:
    """Worth another target: the upstream is busy or broken, not the request."""
    return status >= 500 or status in (408, 429)


def request_body(payload: dict[str, Any]) -> bytes | io.BytesIO:
    data = orjson.dumps(payload)
    # aiohttp warns that large raw bytes may block the loop; a BytesIO is written in chunks.
    return data if len(data) <= _LARGE_BODY else io.BytesIO(data)


def _no_usable_target(targets: list[Target], model: str) -> GatewayError:
    problems = sorted(
        {f"{t.upstream.connection}: {t.upstream.problem}" for t in targets if t.upstream.problem}
    )
    if problems:
        return GatewayError(
            502,
            f"No connection can serve {model!r}: " + "; ".join(problems),
            code="upstream_unavailable",
            type="api_error",
        )
    dialects = sorted({t.upstream.dialect for t in targets})
    return GatewayError(
        501,
        f"{model!r} is served by an upstream that speaks {'/'.join(dialects)}; translation from "
        "OpenAI Chat to that dialect is not available in this version.",
        code="dialect_not_supported",
        type="invalid_request_error",
    )
