"""The response cache's copy in logs.db (table response_cache), written through the logs
writer thread: appends are queued in O(1) and committed in its batches, never on the loop.

The table mirrors the memory cache: an entry evicted from memory is deleted here too, so the
file holds at most about ``cache_max_mb`` of bodies; expired rows are deleted in the
background and at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import apsw

from gateway.server.recorded import Recorded
from gateway.store.writer import DbWriter

_SAVE = (
    "INSERT OR REPLACE INTO response_cache(key, created_at, expires_at, status, content_type, "
    "body, tokens, hits, tokens_in, tokens_out) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
)
_HIT = "UPDATE response_cache SET hits = hits + 1 WHERE key = ?"
_DELETE = "DELETE FROM response_cache WHERE key = ?"
_DELETE_EXPIRED = "DELETE FROM response_cache WHERE expires_at <= ?"


@dataclass(frozen=True, slots=True)
class StoredEntry:
    key: str
    created_at: float
    expires_at: float
    recorded: Recorded


class CacheStore:
    def __init__(self, writer: DbWriter) -> None:
        self._writer = writer

    def save(self, key: str, recorded: Recorded, created_at: float, expires_at: float) -> None:
        self._writer.append(
            _SAVE,
            (
                key,
                created_at,
                expires_at,
                recorded.status,
                recorded.content_type,
                recorded.body,
                recorded.tokens,
                recorded.tokens_in,
                recorded.tokens_out,
            ),
        )

    def hit(self, key: str) -> None:
        self._writer.append(_HIT, (key,))

    def delete(self, key: str) -> None:
        self._writer.append(_DELETE, (key,))

    def delete_expired(self, now: float) -> None:
        self._writer.append(_DELETE_EXPIRED, (now,))

    async def clear(self) -> None:
        await self._writer.run(lambda conn: conn.execute("DELETE FROM response_cache"))

    async def load(self, now: float, max_bytes: int) -> list[StoredEntry]:
        """The newest unexpired entries up to ``max_bytes`` of bodies, newest first; deletes
        the expired rows and those that no longer fit."""
        return await self._writer.run(lambda conn: _load(conn, now, max_bytes))


def _load(conn: apsw.Connection, now: float, max_bytes: int) -> list[StoredEntry]:
    conn.execute(_DELETE_EXPIRED, (now,))
    rows: Any = conn.execute(
        "SELECT key, created_at, expires_at, status, content_type, body, tokens_in, tokens_out "
        "FROM response_cache ORDER BY created_at DESC"
    )
    entries: list[StoredEntry] = []
    left_out: list[tuple[str]] = []
    total = 0
    for key, created, expires, status, content_type, body, tokens_in, tokens_out in rows:
        total += len(body)
        if total > max_bytes:
            left_out.append((key,))
            continue
        recorded = Recorded(status, content_type, bytes(body), tokens_in, tokens_out)
        entries.append(StoredEntry(key, created, expires, recorded))
    for _ in conn.executemany(_DELETE, left_out):
        pass
    return entries
