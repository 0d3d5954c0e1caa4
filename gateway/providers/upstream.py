"""Talking to upstreams: the pooled HTTP session, endpoint URLs per dialect, failure mapping."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from urllib.parse import quote

import aiohttp
from yarl import URL

from gateway import __version__
from gateway.config.snapshot import Upstream

USER_AGENT = f"Switchboard/{__version__}"


def create_session() -> aiohttp.ClientSession:
    """One session per gateway: pooled keep-alive connections to every upstream."""
    connector = aiohttp.TCPConnector(
        limit=512, limit_per_host=0, keepalive_timeout=60, ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


def endpoint_url(upstream: Upstream, model: str, *, stream: bool) -> URL:
    """Base URLs follow each official SDK: OpenAI-style include /v1, the others are roots."""
    return _endpoint(upstream.base_url, upstream.dialect, model, stream)


@lru_cache(maxsize=1024)  # parsing a URL per request is measurable on the hot path
def _endpoint(base: str, dialect: str, model: str, stream: bool) -> URL:
    return URL(_endpoint_text(base, dialect, model, stream))


def _endpoint_text(base: str, dialect: str, model: str, stream: bool) -> str:
    if dialect == "openai":
        return f"{base}/chat/completions"
    if dialect == "responses":
        return f"{base}/responses"
    if dialect == "anthropic":
        return f"{base}/v1/messages"
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{base}/v1beta/models/{quote(model, safe='')}:{action}"


@lru_cache(maxsize=16)
def timeouts(connect_s: float, read_s: float) -> aiohttp.ClientTimeout:
    # No total limit: a long stream is fine as long as bytes keep coming.
    return aiohttp.ClientTimeout(
        total=None, connect=connect_s, sock_connect=connect_s, sock_read=read_s
    )


def describe_failure(exc: BaseException) -> tuple[int, str]:
    """(status for the client, reason) for an exception raised while talking upstream."""
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return 504, "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return 502, f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return 502, "closed the connection"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return 502, "sent an incomplete response"
    return 502, f"failed: {type(exc).__name__}: {exc}"


UPSTREAM_EXCEPTIONS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
