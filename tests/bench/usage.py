"""Usage analytics and log writes with the rollup. Prints figures, asserts nothing.

- analytics query time over 1M request-log rows (30 days, 12 models, 6 connections, 5 keys):
  target < 200 ms;
- request-log write throughput through the logs writer, rollup maintained in the same
  transactions: target >= 20,000 rows/s.

Run: python -m tests.bench.usage [rows]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gateway.observe.analytics import usage
from gateway.observe.request_log import INSERT_SQL
from gateway.observe.rollup import add_rows, open_logs_writer
from gateway.store.db import LOGS_DB_NAME, open_connection, open_logs_db
from gateway.store.schema import LOGS_MIGRATIONS
from gateway.store.writer import DbWriter
from tests.support.usage_data import generate_rows

START = 1_792_022_400.0  # 2026-10-15 00:00 UTC
DAYS = 30


def timed(fn: Callable[[], object], runs: int = 7) -> tuple[float, float]:
    """(best, median) milliseconds over ``runs`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def bench_queries(count: int, folder: Path) -> None:
    rows = generate_rows(count, start=START, hours=DAYS * 24)
    setup = open_logs_db(folder)
    with setup:
        setup.executemany(INSERT_SQL, rows)
        add_rows(setup, rows)
    (rollup_rows,) = setup.execute("SELECT count(*) FROM usage_hourly").fetchone()
    setup.close()
    conn = open_connection(folder / LOGS_DB_NAME, readonly=True)
    end = START + DAYS * 86400 - 1
    print(f"analytics over {count:,} request-log rows = {rollup_rows:,} hourly rollup rows")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("by model, last 7 days", lambda: usage(conn, by="model", now=end)),
        ("by model, 30 days", lambda: usage(conn, by="model", since=START, until=end)),
        ("by key, 30 days", lambda: usage(conn, by="key", since=START, until=end)),
        (
            "by provider per day, 30 days",
            lambda: usage(conn, by="provider", since=START, until=end, bucket="day"),
        ),
        (
            "by model per hour, last 7 days",
            lambda: usage(conn, by="model", bucket="hour", now=end),
        ),
        (
            "by model per hour, 30 days",
            lambda: usage(conn, by="model", since=START, until=end, bucket="hour"),
        ),
    ]
    for name, query in cases:
        best, median = timed(query)
        print(f"  {name:<32} best {best:6.1f} ms   median {median:6.1f} ms   (target < 200 ms)")
    conn.close()


def bench_writes(count: int, folder: Path) -> None:
    rows = generate_rows(count, start=START, hours=DAYS * 24, seed=3)
    for label, make in (
        ("with the rollup", lambda path: open_logs_writer(path, name="bench")),
        ("request log only", lambda path: DbWriter(path, LOGS_MIGRATIONS, name="bench")),
    ):
        path = folder / f"{label.replace(' ', '-')}.db"
        writer: DbWriter = make(path)
        writer.start()
        try:
            started = time.perf_counter()
            for row in rows:
                writer.append(INSERT_SQL, row)
            writer.flush(timeout=300)
            elapsed = time.perf_counter() - started
            stats = writer.stats
        finally:
            writer.close()
        print(
            f"log writes {label:<17} {count / elapsed:>10,.0f} rows/s  ({count:,} rows, "
            f"{stats.batches} transactions, {stats.errors} errors; target >= 20,000 rows/s)"
        )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_queries(count, folder)
        bench_writes(min(count, 200_000), folder)


if __name__ == "__main__":
    main()
