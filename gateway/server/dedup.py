"""Which requests are deterministic, and the digest that says two requests are the same.

Deterministic: the client asked for temperature 0 (OpenAI Chat and Responses
``temperature``, Anthropic ``temperature`` without extended thinking, Gemini
``generationConfig.temperature``) on a generation endpoint. Gemini streams sent as one JSON
array (no ``alt=sse``) are left out: their completeness cannot be checked as SSE.

The digest covers everything that shapes the answer and its wire format: the client's
dialect, endpoint, stream flag, its key name, the model it asked for, the pin header, the
forwarded API headers and the body bytes exactly as sent. Raw bytes, not canonical JSON: an
SDK serialises the same request the same way, and re-serialising with sorted keys adds a
third or more to the hash (tests/bench/cache.py: a 64 KB body, SHA-256 of the bytes 30-50 us,
sorted dump + hash 40-75 us). SHA-256 beats blake2b where the CPU has SHA extensions (most
since 2019).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # exchange imports the runtime, which imports this module
    from gateway.server.exchange import ClientCall


def deterministic(call: ClientCall) -> bool:
    if call.endpoint:  # count_tokens and the like: not generation
        return False
    body = call.body
    dialect = call.codec.dialect
    if dialect == "gemini":
        if call.stream and not call.gemini_sse:
            return False
        config = body.get("generationConfig")
        return isinstance(config, dict) and _zero(config.get("temperature"))
    if dialect == "anthropic" and _thinking(body.get("thinking")):
        return False
    return _zero(body.get("temperature"))


def _zero(value: Any) -> bool:
    return type(value) in (int, float) and value == 0


def _thinking(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") not in (None, "disabled")


def request_digest(call: ClientCall, key_name: str | None, pin: str | None) -> bytes:
    head = orjson.dumps(
        [
            call.codec.dialect,
            call.endpoint,
            call.stream,
            call.gemini_sse,
            key_name,
            call.model,
            pin,
            sorted(call.forwarded.items()),
        ]
    )
    digest = hashlib.sha256(head)
    digest.update(b"\n")
    digest.update(call.raw)
    return digest.digest()[:16]
