"""Idempotency: a repeat of a request (same Idempotency-Key, or else X-Request-Id) gets the
first one's answer instead of a second upstream call.

The key counts together with the request digest (dedup.request_digest: the client's key name,
dialect, endpoint, model and body), so the same key on a different request is a different
request, and one client can never read another's answer. Only successful (2xx), complete
answers are kept, for ``dedup_window_s`` seconds after they end; a repeat that arrives while
the first is still running waits for it. The flights themselves live in replays.Replays.
"""

from __future__ import annotations

from aiohttp import web

IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Request-Id")
_MAX_KEY = 256


def idempotency_key(request: web.Request) -> str | None:
    """The request's idempotency key: Idempotency-Key, else X-Request-Id, when sane."""
    headers = request.headers
    for name in IDEMPOTENCY_HEADERS:
        value = headers.get(name)
        if value:
            value = value.strip()
            return value if 0 < len(value) <= _MAX_KEY and value.isprintable() else None
    return None
