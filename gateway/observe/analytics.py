"""Usage analytics from the hourly rollup: requests, success rate, tokens, cost and latency
percentiles by provider, model, connection or client key, per hour, per day or in total.

Reads only usage_hourly (a few rows per hour), never the request log, so a month of traffic
answers in milliseconds. Periods are whole hours: ``since`` counts from the start of its
hour, and the current hour is included. Days are local calendar days (the process's time
zone, daylight saving included) made of the hours that start in them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import apsw

from gateway.observe.histogram import RELATIVE_ERROR, percentiles
from gateway.observe.rollup import HOUR, LATENCY_COLUMNS, SUMS

Dimension = Literal["model", "provider", "connection", "key"]
Bucket = Literal["hour", "day"]
DIMENSIONS: Final[tuple[Dimension, ...]] = get_args(Dimension)
BUCKETS_BY: Final[tuple[Bucket, ...]] = get_args(Bucket)
_COLUMN: Final[dict[Dimension, str]] = {
    "model": "model",
    "provider": "provider",
    "connection": "connection",
    "key": "key_name",
}
_PERIOD: Final[dict[Bucket, str]] = {
    "hour": "hour",
    # Local midnight of the hour's start, as epoch seconds (SQLite applies the time zone).
    "day": "CAST(strftime('%s', hour, 'unixepoch', 'localtime', 'start of day', 'utc') AS INTEGER)",
}
_SUMMED: Final = ", ".join(f"sum({name})" for name in (*SUMS, *LATENCY_COLUMNS))
DEFAULT_SINCE_S: Final = 7 * 86400
_FIRST_BUCKET: Final = len(SUMS)
_FRACTIONS: Final = (0.50, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class UsageStats:
    requests: int = 0
    succeeded: int = 0
    tokens_in: int = 0  # cached reads and cache writes included
    tokens_out: int = 0  # reasoning included
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: int = 0  # requests whose token counts are (partly) estimated
    unpriced: int = 0  # requests with tokens but no known price: left out of cost_usd
    cost_usd: float = 0.0
    latency_avg_ms: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.requests if self.requests else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "succeeded": self.succeeded,
            "success_rate": self.success_rate,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cached_tokens": self.cached_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "estimated": self.estimated,
            "cost_usd": self.cost_usd,
            "unpriced": self.unpriced,
            "latency_ms": {
                "avg": self.latency_avg_ms,
                "p50": self.latency_p50_ms,
                "p95": self.latency_p95_ms,
                "p99": self.latency_p99_ms,
            },
        }


@dataclass(frozen=True, slots=True)
class UsageRow:
    period: int | None  # epoch seconds the hour or day starts; None for whole-range totals
    group: str  # the provider, model, connection or key name; "" = none (e.g. no key)
    stats: UsageStats


@dataclass(frozen=True, slots=True)
class UsageReport:
    by: Dimension
    bucket: Bucket | None
    since: int  # epoch seconds: the start of the first hour counted
    until: int  # epoch seconds: the end of the last hour counted (exclusive)
    rows: tuple[UsageRow, ...]
    total: UsageStats
    latency_error: float = RELATIVE_ERROR  # percentiles are within this relative error


def _stats(sums: Sequence[Any]) -> UsageStats:
    """Stats from summed rollup columns: SUMS order, then the latency buckets. Sums over at
    least one row are never NULL (the columns are NOT NULL)."""
    requests, succeeded, tokens_in, tokens_out, cached, written, reasoning = sums[:7]
    estimated, unpriced, cost, latency = sums[7:_FIRST_BUCKET]
    p50, p95, p99 = percentiles(sums[_FIRST_BUCKET:], _FRACTIONS)
    return UsageStats(
        requests,
        succeeded,
        tokens_in,
        tokens_out,
        cached,
        written,
        reasoning,
        estimated,
        unpriced,
        round(cost, 9),
        latency / requests if requests else None,
        p50,
        p95,
        p99,
    )


def usage(
    conn: apsw.Connection,
    *,
    by: Dimension = "model",
    since: float | None = None,
    until: float | None = None,
    bucket: Bucket | None = None,
    now: float | None = None,
) -> UsageReport:
    """Usage between ``since`` (default: 7 days ago) and ``until`` (default: now), grouped by
    ``by`` and, with ``bucket``, by hour or day. Rows are ordered by period, then by cost
    (highest first), then by name."""
    if by not in _COLUMN:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    if bucket is not None and bucket not in _PERIOD:
        raise ValueError(f"bucket must be hour or day, not {bucket!r}")
    current = time.time() if now is None else now
    end = int(((current if until is None else until) // HOUR) * HOUR + HOUR)
    start = int(((current - DEFAULT_SINCE_S if since is None else since) // HOUR) * HOUR)
    column = _COLUMN[by]
    period = _PERIOD[bucket] if bucket else "NULL"
    sql = (
        f"SELECT {period} AS period, {column} AS grp, {_SUMMED} FROM usage_hourly "
        "WHERE hour >= ? AND hour < ? GROUP BY period, grp "
        "ORDER BY period, sum(cost_usd) DESC, sum(requests) DESC, grp"
    )
    fetched: list[tuple[Any, ...]] = conn.execute(sql, (start, end)).fetchall()
    rows = [UsageRow(row[0], row[1], _stats(row[2:])) for row in fetched]
    totals = [sum(values) for values in zip(*(row[2:] for row in fetched), strict=True)]
    total = _stats(totals) if totals else UsageStats()
    return UsageReport(by, bucket, start, end, tuple(rows), total)
