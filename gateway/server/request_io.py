"""Reading what the client sent: its API key, its body (bounded) and the JSON in it."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from typing import Any

import orjson
from aiohttp import web

from gateway.config.snapshot import Snapshot
from gateway.security.api_keys import hash_key
from gateway.server.errors import GatewayError, bad_request, unauthorized

_READ_CHUNK = 1 << 16


def request_id_for(request: web.Request) -> str:
    """The client's X-Request-Id when it sent a sane one, else a new random id."""
    given = request.headers.get("X-Request-Id")
    if given and len(given) <= 128 and given.isprintable():
        return given
    return os.urandom(12).hex()


def presented_key(request: web.Request) -> str | None:
    """The client's key from any SDK's place for it: OpenAI (Bearer), Anthropic
    (x-api-key), Gemini (x-goog-api-key or ?key=)."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    headers = request.headers
    return (
        headers.get("x-api-key")
        or headers.get("x-goog-api-key")
        or request.query.get("key")
        or None
    )


@lru_cache(maxsize=256)
def _is_loopback(remote: str) -> bool:
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def authenticate(request: web.Request, snapshot: Snapshot) -> str | None:
    """The client key's name; None for allowed key-less access. Raises 401 otherwise."""
    key = presented_key(request)
    if key is not None:
        name = snapshot.key_names_by_hash.get(hash_key(key))
        if name is None:
            raise unauthorized(
                "Invalid Switchboard API key. Create one with "
                "`switchboard key create NAME`, or copy it from the app."
            )
        return name
    if snapshot.settings.require_api_key:
        raise unauthorized(
            "Missing Switchboard API key: send it as 'Authorization: Bearer <key>', "
            "'x-api-key: <key>' or 'x-goog-api-key: <key>'."
        )
    if not _is_loopback(request.remote or ""):
        raise unauthorized("Key-less access is allowed from this machine only; send an API key.")
    return None


async def read_body(request: web.Request, limit_mb: int) -> bytes:
    """The whole body, refusing more than ``limit_mb`` MiB before buffering it (413)."""
    limit = limit_mb * 1024 * 1024
    length = request.content_length
    if length is not None:
        if length > limit:
            raise _too_large(limit_mb)
        return await request.read()
    parts: list[bytes] = []
    total = 0
    while chunk := await request.content.read(_READ_CHUNK):
        total += len(chunk)
        if total > limit:
            raise _too_large(limit_mb)
        parts.append(chunk)
    return b"".join(parts)


def _too_large(limit_mb: int) -> GatewayError:
    return GatewayError(
        413,
        f"Request body is larger than the {limit_mb} MiB limit (setting max_body_mb).",
        code="request_too_large",
    )


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise bad_request("Request body is empty; expected a JSON object.", code="invalid_json")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(value, dict):
        raise bad_request("Request body must be a JSON object.", code="invalid_json")
    return value
