"""Retention: old request-log rows and old hourly usage rows go, in batches through the
writer, while request rows keep being written; the gateway does it in the background."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import apsw
import pytest

from gateway.observe.request_log import INSERT_SQL
from gateway.observe.retention import DAY, prune
from gateway.observe.rollup import open_logs_writer
from gateway.store.db import LOGS_DB_NAME, open_connection
from gateway.store.writer import DbWriter
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import basic_config, import_toml, start_service, wait_for
from tests.support.usage_data import generate_rows

pytestmark = pytest.mark.timeout(120)

NOW = 1_800_000_000.0


def counts(path: Path, cutoff: float) -> tuple[int, int, int, int]:
    """(old log rows, new log rows, old usage rows, new usage rows) around ``cutoff``."""
    conn = open_connection(path, readonly=True)
    try:
        hour = int(cutoff // 3600) * 3600
        return (
            conn.execute("SELECT count(*) FROM request_log WHERE ts < ?", (cutoff,)).fetchone()[0],
            conn.execute("SELECT count(*) FROM request_log WHERE ts >= ?", (cutoff,)).fetchone()[0],
            conn.execute("SELECT count(*) FROM usage_hourly WHERE hour < ?", (hour,)).fetchone()[0],
            conn.execute("SELECT count(*) FROM usage_hourly WHERE hour >= ?", (hour,)).fetchone()[
                0
            ],
        )
    finally:
        conn.close()


def seed(writer: DbWriter, rows: list[tuple[Any, ...]]) -> None:
    for row in rows:
        writer.append(INSERT_SQL, row)
    writer.flush(timeout=60)


async def test_prune_removes_only_old_rows_in_batches(data_dir: Path) -> None:
    path = data_dir / LOGS_DB_NAME
    log_cutoff = NOW - 30 * DAY
    writer = open_logs_writer(path, flush_interval=0.01)
    writer.start()
    try:
        # 40 days of traffic ending now: 10 days of it are past a 30-day retention.
        seed(writer, generate_rows(12_000, start=NOW - 40 * DAY, hours=40 * 24))
        before = counts(path, log_cutoff)
        assert before[0] == 3000 and before[1] == 9000

        async def requests_meanwhile() -> int:
            sent = 0
            while not done.is_set():
                writer.append(INSERT_SQL, generate_rows(1, start=NOW, hours=1, seed=sent)[0])
                sent += 1
                await asyncio.sleep(0.001)
            return sent

        done = asyncio.Event()
        traffic = asyncio.create_task(requests_meanwhile())
        report = await prune(
            writer, log_retention_days=30, usage_retention_days=35, now=NOW, batch=250
        )
        done.set()
        sent = await traffic
        await writer.aflush()
    finally:
        writer.close()

    assert report.log_rows == 3000
    assert report.batches == 3000 // 250 + 1 + report.usage_rows // 250 + 1
    after = counts(path, log_cutoff)
    assert after[:2] == (0, 9000 + sent)  # every new row, and those sent while pruning
    usage_cutoff = NOW - 35 * DAY
    assert counts(path, usage_cutoff)[2] == 0  # usage rows older than 35 days are gone
    assert report.usage_rows > 0
    # Usage totals outlive the log rows they came from: the 1,500 requests of days 35 to 30
    # before now are still counted (both cutoffs fall on hour boundaries).
    conn = open_connection(path, readonly=True)
    try:
        (kept,) = conn.execute(
            "SELECT sum(requests) FROM usage_hourly WHERE hour < ?", (int(log_cutoff),)
        ).fetchone()
    finally:
        conn.close()
    assert kept == 1500


async def test_requests_are_written_between_prune_batches(data_dir: Path) -> None:
    path = data_dir / LOGS_DB_NAME
    cutoff = NOW - 30 * DAY
    observed: list[int] = []

    def watch(conn: apsw.Connection, rows: list[tuple[Any, ...]]) -> None:
        if any(row[0] >= NOW for row in rows):  # a request row arriving during the prune
            (old,) = conn.execute("SELECT count(*) FROM request_log WHERE ts < ?", (cutoff,))
            observed.append(int(old[0]))

    writer = open_logs_writer(path, flush_interval=0.01)
    writer.after_rows(INSERT_SQL + " ", watch)  # a twin statement, so the rollup hook stays
    writer.start()
    try:
        seed(writer, generate_rows(20_000, start=NOW - 50 * DAY, hours=10 * 24))

        async def traffic() -> None:
            for i in range(200):
                row = generate_rows(1, start=NOW, hours=1, seed=i)[0]
                writer.append(INSERT_SQL + " ", row)
                await asyncio.sleep(0.0005)

        sender = asyncio.create_task(traffic())
        report = await prune(
            writer, log_retention_days=30, usage_retention_days=400, now=NOW, batch=500
        )
        await sender
        await writer.aflush()
    finally:
        writer.close()
    assert report.log_rows == 20_000 and report.batches >= 40
    # Request rows went in while old rows were still being deleted, batch by batch.
    assert any(0 < old < 20_000 for old in observed), observed


async def test_the_gateway_prunes_in_the_background(data_dir: Path) -> None:
    async with FakeOpenAI() as fake:
        import_toml(data_dir, basic_config(fake.base_url))
        import_toml(data_dir, "[settings]\nlog_retention_days = 2\nusage_retention_days = 3\n")
        path = data_dir / LOGS_DB_NAME
        writer = open_logs_writer(path)
        writer.start()
        now = time.time()
        try:
            seed(writer, generate_rows(500, start=now - 5 * DAY, hours=5 * 24 - 1))
        finally:
            writer.close()
        assert counts(path, now - 2 * DAY)[0] > 0
        service = await start_service(data_dir, retention_interval=0.05)
        try:
            await wait_for(lambda: counts(path, now - 2 * DAY)[0] == 0, limit_s=10)
            await wait_for(lambda: counts(path, now - 3 * DAY)[2] == 0, limit_s=10)
            assert counts(path, now - 2 * DAY)[1] > 0  # the last two days are kept
            report = await service.prune_logs()
            assert (report.log_rows, report.usage_rows, report.batches) == (0, 0, 2)
        finally:
            await service.stop()
