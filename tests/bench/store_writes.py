"""Throughput of DbWriter.append() for request_log rows. Prints figures, asserts nothing.

Run: python -m tests.bench.store_writes [rows]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from gateway.store.db import LOGS_DB_NAME, open_connection, query
from gateway.store.schema import LOGS_MIGRATIONS
from gateway.store.writer import DbWriter

INSERT = (
    "INSERT INTO request_log(ts, request_id, key_name, client_dialect, requested_model, "
    "provider, connection, upstream_model, status, latency_ms, ttfb_ms, tokens_in, tokens_out, "
    "error, stream) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def make_rows(count: int) -> list[tuple[object, ...]]:
    now = time.time()
    return [
        (
            now + i / 1000,
            f"req-{i:08d}",
            "laptop",
            "openai",
            "fast",
            "openai",
            "work-openai",
            "gpt-x",
            200 if i % 50 else 502,
            120.0 + i % 300,
            40.0,
            1200 + i % 800,
            300 + i % 200,
            None if i % 50 else "upstream error",
            i % 2,
        )
        for i in range(count)
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows = make_rows(count)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / LOGS_DB_NAME
        writer = DbWriter(path, LOGS_MIGRATIONS, name="bench-writer")
        writer.start()
        try:
            started = time.perf_counter()
            for row in rows:
                writer.append(INSERT, row)
            appended = time.perf_counter()
            writer.flush(timeout=120)
            finished = time.perf_counter()
            stats = writer.stats
        finally:
            writer.close()
        conn = open_connection(path, readonly=True)
        try:
            stored = query(conn, "SELECT count(*) FROM request_log")[0][0]
        finally:
            conn.close()

    total = finished - started
    print(f"rows: {count} appended, {stored} stored")
    print(f"append() cost on the caller: {(appended - started) / count * 1e6:.2f} us/row")
    print(f"append -> committed: {total:.3f} s = {count / total:,.0f} rows/s")
    print(
        f"writer stats: {stats.rows_written} written, {stats.batches} transactions, "
        f"{stats.errors} errors, {stats.rows_dropped} dropped"
    )


if __name__ == "__main__":
    main()
