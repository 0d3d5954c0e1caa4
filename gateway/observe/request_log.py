"""One row per request in logs.db, appended off the hot path in batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import apsw

from gateway.observe.capture import Capture
from gateway.store.writer import DbWriter

COLUMNS = (
    "ts",
    "request_id",
    "key_name",
    "client_dialect",
    "requested_model",
    "provider",
    "connection",
    "upstream_model",
    "status",
    "latency_ms",
    "ttfb_ms",
    "tokens_in",
    "tokens_out",
    "error",
    "stream",
    "replay",
)
INSERT_SQL = (
    f"INSERT INTO request_log({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
)


@dataclass(slots=True)
class LogEntry:
    """Filled in as the request progresses; recorded once when it ends."""

    ts: float
    request_id: str
    client_dialect: str
    key_name: str | None = None
    requested_model: str | None = None
    provider: str | None = None
    connection: str | None = None
    upstream_model: str | None = None
    status: int = 0
    latency_ms: float = 0.0
    ttfb_ms: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    error: str | None = None
    stream: bool = False
    replay: str | None = None  # answered without an upstream: "idempotent", "shared", "cache"
    capture: Capture | None = None  # a streamed answer that may be replayed (not logged)

    def row(self) -> tuple[Any, ...]:
        return (
            self.ts,
            self.request_id,
            self.key_name,
            self.client_dialect,
            self.requested_model,
            self.provider,
            self.connection,
            self.upstream_model,
            self.status,
            round(self.latency_ms, 3),
            None if self.ttfb_ms is None else round(self.ttfb_ms, 3),
            self.tokens_in,
            self.tokens_out,
            self.error,
            int(self.stream),
            self.replay,
        )


class RequestLog:
    def __init__(self, writer: DbWriter) -> None:
        self._writer = writer

    def record(self, entry: LogEntry) -> None:
        self._writer.append(INSERT_SQL, entry.row())


@dataclass(frozen=True, slots=True)
class LogRow:
    id: int
    ts: float
    request_id: str
    key_name: str | None
    client_dialect: str
    requested_model: str | None
    provider: str | None
    connection: str | None
    upstream_model: str | None
    status: int
    latency_ms: float
    ttfb_ms: float | None
    tokens_in: int | None
    tokens_out: int | None
    error: str | None
    stream: bool
    replay: str | None = None


def recent_rows(conn: apsw.Connection, *, limit: int = 20, after_id: int = 0) -> list[LogRow]:
    """The newest ``limit`` rows with id > after_id, oldest first."""
    rows = conn.execute(
        f"SELECT id, {', '.join(COLUMNS)} FROM request_log WHERE id > ? ORDER BY id DESC LIMIT ?",
        (after_id, limit),
    ).fetchall()
    make: Any = LogRow  # columns are positional; stream is stored as 0/1
    return [make(*row[:-2], bool(row[-2]), row[-1]) for row in reversed(rows)]
