"""Relaying an upstream response to the client unchanged: whole bodies and SSE streams.

Streams are forwarded chunk by chunk as they arrive. Only a small tail of the stream is kept,
to read the usage that OpenAI-style upstreams put in their last chunk.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from gateway.observe.request_log import LogEntry
from gateway.providers.upstream import UPSTREAM_EXCEPTIONS, describe_failure
from gateway.server.errors import GatewayError, openai_error_body

_TAIL_BYTES = 8192
# Upstream headers worth passing on: content type and what clients use to pace themselves.
_PASSED_HEADERS = (
    "Content-Type",
    "Retry-After",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
)


def passed_headers(upstream: aiohttp.ClientResponse, request_id: str) -> dict[str, str]:
    headers = {"X-Request-Id": request_id}
    for name in _PASSED_HEADERS:
        value = upstream.headers.get(name)
        if value is not None:
            headers[name] = value
    return headers


def record_usage(entry: LogEntry, usage: Any) -> None:
    if isinstance(usage, dict):
        tokens_in, tokens_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(tokens_in, int):
            entry.tokens_in = tokens_in
        if isinstance(tokens_out, int):
            entry.tokens_out = tokens_out


def usage_from_body(body: bytes) -> Any:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed.get("usage") if isinstance(parsed, dict) else None


def usage_from_sse_tail(tail: bytes) -> Any:
    """The last ``data:`` event in the tail that carries a usage object."""
    for line in reversed(tail.split(b"\n")):
        if line.startswith(b"data: {") and b'"usage"' in line:
            try:
                usage = orjson.loads(line[6:]).get("usage")
            except (orjson.JSONDecodeError, AttributeError):
                continue  # the first line of the tail may be cut
            if usage:
                return usage
    return None


async def relay_body(
    upstream: aiohttp.ClientResponse, entry: LogEntry, request_id: str
) -> web.Response:
    body = await upstream.read()
    entry.status = upstream.status
    if upstream.status == 200:
        record_usage(entry, usage_from_body(body))
    else:
        entry.error = f"upstream {upstream.status}: {body[:200].decode('utf-8', 'replace')}"
    response = web.Response(
        status=upstream.status, body=body, headers=passed_headers(upstream, request_id)
    )
    return response


async def relay_stream(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    entry: LogEntry,
    request_id: str,
    started: float,
) -> web.StreamResponse:
    response = web.StreamResponse(
        status=upstream.status, headers=passed_headers(upstream, request_id)
    )
    response.headers["Cache-Control"] = "no-cache"
    entry.status = upstream.status
    await response.prepare(request)
    tail = b""
    try:
        async for chunk in upstream.content.iter_any():
            if entry.ttfb_ms is None:
                entry.ttfb_ms = (time.perf_counter() - started) * 1000
            try:
                await response.write(chunk)
            except ConnectionResetError:
                entry.error = "client disconnected"
                return response
            tail = (tail + chunk)[-_TAIL_BYTES:]
    except UPSTREAM_EXCEPTIONS as exc:
        _, reason = describe_failure(exc)
        entry.error = f"stream interrupted: upstream {reason}"
        error = GatewayError(
            502,
            f"The upstream stream was interrupted: {reason}.",
            code="upstream_stream_interrupted",
            type="api_error",
        )
        await _write_quietly(response, b"data: " + openai_error_body(error) + b"\n\n")
        return response
    record_usage(entry, usage_from_sse_tail(tail))
    await response.write_eof()
    return response


async def _write_quietly(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
        await response.write_eof()
    except (ConnectionResetError, RuntimeError):
        pass  # the client is gone too
