"""`switchboard connection test`: one tiny real request that proves a connection works."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.config.snapshot import Upstream
from gateway.providers.upstream import (
    UPSTREAM_EXCEPTIONS,
    create_session,
    describe_failure,
    endpoint_url,
    timeouts,
)


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    latency_ms: float


def probe_body(dialect: str, model: str) -> dict[str, Any]:
    """The smallest request each dialect accepts (one output token where the API allows)."""
    ping = [{"role": "user", "content": "ping"}]
    if dialect == "openai":
        return {"model": model, "messages": ping, "max_tokens": 1}
    if dialect == "responses":
        return {"model": model, "input": "ping", "max_output_tokens": 16}
    if dialect == "anthropic":
        return {"model": model, "messages": ping, "max_tokens": 1}
    return {
        "contents": [{"role": "user", "parts": [{"text": "ping"}]}],
        "generationConfig": {"maxOutputTokens": 1},
    }


def error_message(body: bytes) -> str:
    """The human part of an upstream error body, in any of the four dialects' shapes."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace").strip()
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return body[:200].decode("utf-8", "replace").strip()


async def probe(
    upstream: Upstream, model: str | None = None, *, timeout_s: float = 20.0
) -> ProbeResult:
    if upstream.problem:
        return ProbeResult(False, upstream.problem, 0.0)
    model = model or upstream.default_model
    async with create_session() as session:
        started = time.perf_counter()
        try:
            if model is None and upstream.dialect in ("openai", "responses"):
                request = session.get(
                    f"{upstream.base_url}/models",
                    headers=upstream.headers,
                    timeout=timeouts(timeout_s, timeout_s),
                )
                what = "GET /models"
            elif model is None:
                return ProbeResult(
                    False, "no model is known for this connection; pass --model MODEL", 0.0
                )
            else:
                url = endpoint_url(upstream, model, stream=False)
                request = session.post(
                    url,
                    data=orjson.dumps(probe_body(upstream.dialect, model)),
                    headers=upstream.headers,
                    timeout=timeouts(timeout_s, timeout_s),
                )
                what = f"model {model}"
            async with request as response:
                body = await response.read()
        except UPSTREAM_EXCEPTIONS as exc:
            _, reason = describe_failure(exc)
            return ProbeResult(
                False, f"{upstream.base_url} {reason}", (time.perf_counter() - started) * 1000
            )
        latency = (time.perf_counter() - started) * 1000
        if response.status == 200:
            return ProbeResult(True, f"{what} answered in {latency:.0f} ms", latency)
        return ProbeResult(False, f"{what}: HTTP {response.status}: {error_message(body)}", latency)
