"""Analytics over a million generated request-log rows: exact counts and sums, percentiles
within the documented error, hours and local days; the rollup agrees with the log."""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import apsw
import pytest

from gateway.observe.analytics import UsageReport, UsageStats, usage
from gateway.observe.histogram import RELATIVE_ERROR
from gateway.observe.request_log import COLUMNS, INSERT_SQL
from gateway.observe.rollup import add_rows, open_logs_writer
from gateway.observe.usage import succeeded
from gateway.store.db import LOGS_DB_NAME, open_connection, open_logs_db
from gateway.store.migrations import migrate
from gateway.store.schema import LOGS_MIGRATIONS
from tests.support.usage_data import generate_rows

pytestmark = pytest.mark.timeout(300)

AT = {name: i for i, name in enumerate(COLUMNS)}
START = 1_792_022_400  # 2026-10-15 00:00 UTC: the 30 days span the end of summer time
HOURS = 30 * 24
COUNT = 1_000_000


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[apsw.Connection, list]]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("million")
    rows = generate_rows(COUNT, start=START, hours=HOURS)
    conn = open_logs_db(folder)
    with conn:  # one transaction, as the writer does per batch
        conn.executemany(INSERT_SQL, rows)
        add_rows(conn, rows)
    yield conn, rows
    conn.close()


def model_of(row: tuple[Any, ...]) -> str:
    return row[AT["upstream_model"]] or row[AT["requested_model"]] or ""


def exact_percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def expected(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    # Usage counts only where an upstream was reached (not local count_tokens estimates).
    used = [r for r in rows if r[AT["provider"]] is not None]
    return {
        "requests": len(rows),
        "succeeded": sum(succeeded(r[AT["status"]], r[AT["error"]]) for r in rows),
        "tokens_in": sum(r[AT["tokens_in"]] or 0 for r in used),
        "tokens_out": sum(r[AT["tokens_out"]] or 0 for r in used),
        "cached_tokens": sum(r[AT["cached_tokens"]] or 0 for r in used),
        "reasoning_tokens": sum(r[AT["reasoning_tokens"]] or 0 for r in used),
        "estimated": sum(r[AT["estimated"]] for r in used),
        "unpriced": sum(
            1
            for r in used
            if r[AT["cost_usd"]] is None
            and (r[AT["tokens_in"]] is not None or r[AT["tokens_out"]] is not None)
        ),
        "cost_usd": sum(r[AT["cost_usd"]] or 0.0 for r in used),
        "latencies": [r[AT["latency_ms"]] for r in rows],
    }


def check(stats: UsageStats, want: dict[str, Any]) -> None:
    counts = ("requests", "succeeded", "tokens_in", "tokens_out", "cached_tokens")
    counts += ("reasoning_tokens", "estimated", "unpriced")
    assert {name: getattr(stats, name) for name in counts} == {name: want[name] for name in counts}
    assert stats.cost_usd == pytest.approx(want["cost_usd"], rel=1e-9, abs=1e-9)
    latencies = want["latencies"]
    assert stats.latency_avg_ms == pytest.approx(sum(latencies) / len(latencies), rel=1e-9)
    for fraction, got in ((0.5, stats.latency_p50_ms), (0.95, stats.latency_p95_ms)):
        exact = exact_percentile(latencies, fraction)
        assert got is not None and abs(got - exact) <= RELATIVE_ERROR * exact, fraction
    exact = exact_percentile(latencies, 0.99)
    assert stats.latency_p99_ms is not None
    assert abs(stats.latency_p99_ms - exact) <= RELATIVE_ERROR * exact


def everything(conn: apsw.Connection, **options: Any) -> UsageReport:
    return usage(conn, since=START, until=START + HOURS * 3600 - 1, **options)


def test_by_model_over_a_million_rows(million: tuple) -> None:  # type: ignore[type-arg]
    conn, rows = million
    report = everything(conn, by="model")
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        groups[model_of(row)].append(row)
    assert {r.group for r in report.rows} == set(groups)
    for row in report.rows:
        assert row.period is None
        check(row.stats, expected(groups[row.group]))
    check(report.total, expected(rows))
    costs = [r.stats.cost_usd for r in report.rows]
    assert costs == sorted(costs, reverse=True)  # the most expensive first
    assert (report.since, report.until) == (START, START + HOURS * 3600)


@pytest.mark.parametrize(
    ("by", "column"),
    [("provider", "provider"), ("connection", "connection"), ("key", "key_name")],
)
def test_other_dimensions(million: tuple, by: str, column: str) -> None:  # type: ignore[type-arg]
    conn, rows = million
    report = everything(conn, by=by)
    want: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        group = want[row[AT[column]] or ""]
        group[0] += 1
        group[1] += row[AT["tokens_out"]] or 0
    got = {r.group: [r.stats.requests, r.stats.tokens_out] for r in report.rows}
    assert got == dict(want)
    assert "" in got  # requests with no key (or no provider): shown as "-" by the CLI


def test_hours_and_a_partial_window(million: tuple) -> None:  # type: ignore[type-arg]
    conn, rows = million
    since = START + 5 * 3600 + 600  # counts from the start of that hour
    until = START + 8 * 3600 + 5  # up to the end of that hour
    report = usage(conn, by="provider", since=since, until=until, bucket="hour")
    assert (report.since, report.until) == (START + 5 * 3600, START + 9 * 3600)
    want: dict[tuple[int, str], int] = defaultdict(int)
    for row in rows:
        hour = int(row[AT["ts"]] // 3600) * 3600
        if START + 5 * 3600 <= hour < START + 9 * 3600:
            want[(hour, row[AT["provider"]] or "")] += 1
    assert {(r.period, r.group): r.stats.requests for r in report.rows} == dict(want)
    assert [r.period for r in report.rows] == sorted(r.period for r in report.rows)
    assert report.total.requests == sum(want.values())


def test_local_days_across_a_dst_change(
    million: tuple,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn, rows = million
    # START + 30 days spans the end of summer time in New York (2026-11-01).
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        report = everything(conn, by="provider", bucket="day")
        want: dict[tuple[int, str], int] = defaultdict(int)
        for row in rows:
            hour = int(row[AT["ts"]] // 3600) * 3600
            day = datetime.fromtimestamp(hour).replace(hour=0, minute=0, second=0)
            want[(int(day.timestamp()), row[AT["provider"]] or "")] += 1
        got = {(r.period, r.group): r.stats.requests for r in report.rows}
        assert got == dict(want)
        starts = sorted({period for period, _ in got})
        lengths = {b - a for a, b in itertools.pairwise(starts)}
        assert lengths == {86400, 90000}  # one day lasts 25 hours
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_an_empty_range(million: tuple) -> None:  # type: ignore[type-arg]
    conn, _ = million
    report = usage(conn, since=START - 86400, until=START - 3601)
    assert report.rows == () and report.total == UsageStats()
    with pytest.raises(ValueError, match="by must be one of"):
        usage(conn, by="colour")  # type: ignore[arg-type]


def rollup(path: Path, columns: str) -> list[tuple[Any, ...]]:
    conn = open_connection(path, readonly=True)
    try:
        return conn.execute(
            f"SELECT {columns} FROM usage_hourly ORDER BY hour, provider, model, connection, "
            "key_name"
        ).fetchall()
    finally:
        conn.close()


def test_the_writer_and_the_migration_build_the_same_rollup(tmp_path: Path) -> None:
    rows = generate_rows(20_000, start=START, hours=48, seed=9)
    live = tmp_path / "live"
    live.mkdir()
    writer = open_logs_writer(live / LOGS_DB_NAME, flush_interval=0.05)
    writer.start()
    try:
        for row in rows:
            writer.append(INSERT_SQL, row)
        writer.flush(timeout=60)
        assert writer.stats.batches >= 1 and writer.stats.errors == 0
    finally:
        writer.close()

    # The same requests logged by a version before the rollup, then migrated.
    old = tmp_path / "old"
    old.mkdir()
    conn = open_connection(old / LOGS_DB_NAME)
    try:
        migrate(conn, LOGS_MIGRATIONS[:2])
        legacy = COLUMNS[:15]
        with conn:
            conn.executemany(
                f"INSERT INTO request_log({', '.join(legacy)}) VALUES "
                f"({', '.join('?' for _ in legacy)})",
                [row[:15] for row in rows],
            )
        migrate(conn, LOGS_MIGRATIONS, db_path=old / LOGS_DB_NAME)
    finally:
        conn.close()

    shared = "hour, provider, model, connection, key_name, requests, succeeded, tokens_in, "
    shared += "tokens_out, round(latency_ms, 3), " + ", ".join(f"lat_{i:02d}" for i in range(59))
    assert rollup(live / LOGS_DB_NAME, shared) == rollup(old / LOGS_DB_NAME, shared)
    # What older rows did not record stays zero; their tokens count as not priced. Local
    # count_tokens estimates (no upstream) count as requests, not as usage, in both.
    unknown = rollup(old / LOGS_DB_NAME, "sum(cached_tokens), sum(cost_usd), sum(unpriced)")
    used = [row for row in rows if row[AT["provider"]] is not None]
    with_tokens = sum(1 for row in used if row[AT["tokens_in"]] is not None)
    assert unknown == [(0, 0.0, with_tokens)]
    counted_here = [row for row in rows if row[AT["provider"]] is None and row[AT["tokens_in"]]]
    assert len(counted_here) > 100
    tokens = rollup(live / LOGS_DB_NAME, "sum(tokens_in)")
    assert tokens == [(sum(row[AT["tokens_in"]] or 0 for row in used),)]
    assert len(rollup(live / LOGS_DB_NAME, "hour")) > 48
