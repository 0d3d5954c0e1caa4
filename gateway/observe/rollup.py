"""The hourly usage rollup (table usage_hourly), kept in step with request_log.

The logs writer calls :func:`add_rows` with every batch of request-log rows it has just
inserted, inside the same transaction: the batch is summed per hour x provider x model x
connection x client key in Python and merged with one UPSERT per group, so analytics read a
few thousand small rows instead of millions of requests, and both tables always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import apsw

from gateway.observe.histogram import BUCKETS, bucket_of
from gateway.observe.request_log import COLUMNS, INSERT_SQL
from gateway.observe.usage import succeeded
from gateway.store.schema import LOGS_MIGRATIONS
from gateway.store.writer import DbWriter

HOUR: Final = 3600
DIMENSIONS: Final = ("hour", "provider", "model", "connection", "key_name")
# Summed per group, in this order, then one count per latency bucket.
SUMS: Final = (
    "requests",
    "succeeded",
    "tokens_in",
    "tokens_out",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated",
    "unpriced",
    "cost_usd",
    "latency_ms",
)
LATENCY_COLUMNS: Final = tuple(f"lat_{i:02d}" for i in range(BUCKETS))
_ALL = (*DIMENSIONS, *SUMS, *LATENCY_COLUMNS)
UPSERT_SQL: Final = (
    f"INSERT INTO usage_hourly({', '.join(_ALL)}) VALUES ({', '.join('?' for _ in _ALL)}) "
    f"ON CONFLICT({', '.join(DIMENSIONS)}) DO UPDATE SET "
    + ", ".join(f"{name} = {name} + excluded.{name}" for name in (*SUMS, *LATENCY_COLUMNS))
)

# Positions in a request-log row (COLUMNS order).
(_TS, _PROVIDER, _MODEL, _REQUESTED, _CONNECTION, _KEY, _STATUS, _ERROR, _IN_AT, _OUT_AT,
 _CACHED_AT, _WRITTEN_AT, _REASONING_AT, _ESTIMATED_AT, _COST_AT, _LATENCY_AT) = (
    COLUMNS.index(name)
    for name in ("ts", "provider", "upstream_model", "requested_model", "connection",
                 "key_name", "status", "error", "tokens_in", "tokens_out", "cached_tokens",
                 "cache_write_tokens", "reasoning_tokens", "estimated", "cost_usd", "latency_ms")
)  # fmt: skip
# Positions in a group's list of sums (SUMS order, then the latency buckets).
(_REQUESTS, _SUCCEEDED, _IN, _OUT, _CACHED, _WRITTEN, _REASONING, _ESTIMATED, _UNPRICED, _COST,
 _LATENCY) = range(len(SUMS))  # fmt: skip
_FIRST_BUCKET = len(SUMS)

GroupKey = tuple[int, str, str, str, str]


def add_rows(conn: apsw.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Add request-log rows (in ``COLUMNS`` order) to the rollup. Runs in the writer thread,
    inside the transaction that inserted them.

    Groups: the UTC hour, provider, model, connection and client key, "" standing for none.
    The model is the one served, or the name the client asked for when no upstream was
    reached. Tokens and cost count only for requests that reached an upstream (a local
    count_tokens estimate is logged with its count, but nothing was used)."""
    groups: dict[GroupKey, list[Any]] = {}
    empty: list[Any] = [0] * (_FIRST_BUCKET + BUCKETS)
    empty[_COST] = empty[_LATENCY] = 0.0
    for row in rows:
        key = (
            int(row[_TS] // HOUR) * HOUR,
            row[_PROVIDER] or "",
            row[_MODEL] or row[_REQUESTED] or "",
            row[_CONNECTION] or "",
            row[_KEY] or "",
        )
        sums = groups.get(key)
        if sums is None:
            sums = groups[key] = empty.copy()
        sums[_REQUESTS] += 1
        if succeeded(row[_STATUS], row[_ERROR]):
            sums[_SUCCEEDED] += 1
        latency = row[_LATENCY_AT]
        sums[_LATENCY] += latency
        sums[_FIRST_BUCKET + bucket_of(latency)] += 1
        if row[_PROVIDER] is None:
            continue  # answered here (count_tokens estimates, errors): no upstream usage
        tokens_in, tokens_out, cost = row[_IN_AT], row[_OUT_AT], row[_COST_AT]
        if tokens_in is not None:
            sums[_IN] += tokens_in
        if tokens_out is not None:
            sums[_OUT] += tokens_out
        sums[_CACHED] += row[_CACHED_AT] or 0
        sums[_WRITTEN] += row[_WRITTEN_AT] or 0
        sums[_REASONING] += row[_REASONING_AT] or 0
        sums[_ESTIMATED] += row[_ESTIMATED_AT]
        if cost is not None:
            sums[_COST] += cost
        elif tokens_in is not None or tokens_out is not None:
            sums[_UNPRICED] += 1  # tokens we could not price
    for _ in conn.executemany(UPSERT_SQL, [(*key, *sums) for key, sums in groups.items()]):
        pass


def open_logs_writer(path: Path, **options: Any) -> DbWriter:
    """The logs.db writer, with the rollup kept in step with every request-log insert."""
    writer = DbWriter(path, LOGS_MIGRATIONS, **options)
    writer.after_rows(INSERT_SQL, add_rows)
    return writer
