"""One row per request in logs.db, appended off the hot path in batches.

When a request ends its usage is settled (observe/usage.py: estimated where the upstream
reported none, priced with the snapshot's PriceBook) and the row is queued for the writer,
which also adds it to the hourly rollup (observe/rollup.py) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import apsw

from gateway.formats import hub
from gateway.observe.capture import Capture
from gateway.observe.usage import settle
from gateway.providers.pricing import PriceBook
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
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated",
    "cost_usd",
    "price_source",
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
    cached_tokens: int | None = None  # input read from the upstream's cache (in tokens_in)
    cache_write_tokens: int | None = None  # input written to its cache (in tokens_in)
    reasoning_tokens: int | None = None  # (in tokens_out)
    estimated: bool = False  # some token count is our estimate (docs/usage.md)
    cost_usd: float | None = None
    price_source: str | None = None  # override, catalog, free, local or unknown
    # Not stored: what pricing and estimating need when the request ends.
    alias: str | None = None  # the upstream's model prefix, which prices are keyed by
    output_chars: int = 0  # text the model wrote that the gateway saw (estimates only)
    request_to_hub: Callable[[], hub.Request] | None = None  # generation requests only

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
            self.cached_tokens,
            self.cache_write_tokens,
            self.reasoning_tokens,
            int(self.estimated),
            self.cost_usd,
            self.price_source,
        )


class RequestLog:
    def __init__(
        self, writer: DbWriter, on_record: Callable[[LogEntry], None] | None = None
    ) -> None:
        self._writer = writer
        self.on_record = on_record  # sees every settled entry (quota counters)

    def record(self, entry: LogEntry, prices: PriceBook | None = None) -> None:
        """Settle the request's usage (estimate, price it with ``prices``) and queue its row."""
        settle(entry, prices or _NO_PRICES)
        self._writer.append(INSERT_SQL, entry.row())
        if self.on_record is not None:
            self.on_record(entry)


_NO_PRICES = PriceBook.empty()


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
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    estimated: bool = False
    cost_usd: float | None = None
    price_source: str | None = None


_STORED_AS_INT = (COLUMNS.index("stream"), COLUMNS.index("estimated"))


def recent_rows(conn: apsw.Connection, *, limit: int = 20, after_id: int = 0) -> list[LogRow]:
    """The newest ``limit`` rows with id > after_id, oldest first."""
    rows = conn.execute(
        f"SELECT id, {', '.join(COLUMNS)} FROM request_log WHERE id > ? ORDER BY id DESC LIMIT ?",
        (after_id, limit),
    ).fetchall()
    make: Any = LogRow  # columns are positional (id first); two flags are stored as 0/1
    flags = [index + 1 for index in _STORED_AS_INT]
    result = []
    for row in reversed(rows):
        values = list(row)
        for index in flags:
            values[index] = bool(values[index])
        result.append(make(*values))
    return result
