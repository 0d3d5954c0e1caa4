"""DbWriter: batching, isolation of failures, threads, asyncio, shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import apsw
import pytest

from gateway.store.db import LOGS_DB_NAME, ThreadLocalReader, open_connection, query
from gateway.store.migrations import Migration, MigrationError, migrate
from gateway.store.schema import LOGS_MIGRATIONS
from gateway.store.writer import DbWriter

INSERT = (
    "INSERT INTO request_log(ts, request_id, client_dialect, status, latency_ms) "
    "VALUES (?, ?, ?, ?, ?)"
)


def log_row(i: int, status: int | None = 200) -> tuple[Any, ...]:
    return (1000.0 + i, f"req-{i}", "openai", status, 1.5)


def count_rows(path: Path) -> int:
    conn = open_connection(path, readonly=True)
    try:
        return int(query(conn, "SELECT count(*) FROM request_log")[0][0])
    finally:
        conn.close()


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / LOGS_DB_NAME


@pytest.fixture
def writer(db_path: Path) -> Iterator[DbWriter]:
    w = DbWriter(db_path, LOGS_MIGRATIONS, flush_interval=0.05, name="test-writer")
    w.start()
    yield w
    w.close()


class Gate:
    """A submitted call that holds the writer thread until released, to build one batch."""

    def __init__(self, writer: DbWriter) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.future = writer.submit(self._hold)
        assert self.entered.wait(5)

    def _hold(self, conn: apsw.Connection) -> None:
        self.entered.set()
        assert self.release.wait(5)

    def open(self) -> None:
        self.release.set()
        self.future.result(5)


def test_start_migrates(writer: DbWriter, db_path: Path) -> None:
    assert count_rows(db_path) == 0
    assert writer.submit(lambda c: c.pragma("user_version")).result(5) == len(LOGS_MIGRATIONS)
    assert writer.submit(lambda c: c.pragma("journal_mode")).result(5) == "wal"


def test_submit_returns_result(writer: DbWriter, db_path: Path) -> None:
    def insert(conn: apsw.Connection) -> int:
        conn.execute(INSERT, log_row(1))
        return int(conn.last_insert_rowid())

    assert writer.submit(insert).result(5) == 1
    assert count_rows(db_path) == 1  # committed when the future resolves


def test_submit_exception_rolls_back_own_work(writer: DbWriter, db_path: Path) -> None:
    def fail(conn: apsw.Connection) -> None:
        conn.execute(INSERT, log_row(1))
        raise ValueError("boom")

    future = writer.submit(fail)
    with pytest.raises(ValueError, match="boom"):
        future.result(5)
    assert count_rows(db_path) == 0
    assert writer.submit(lambda c: 7).result(5) == 7  # thread alive


def test_failing_item_does_not_affect_its_batch(
    writer: DbWriter, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def insert(i: int) -> Any:
        def fn(conn: apsw.Connection) -> int:
            conn.execute(INSERT, log_row(i))
            return i

        return fn

    def fail(conn: apsw.Connection) -> None:
        conn.execute(INSERT, log_row(99))
        raise KeyError("bad")

    gate = Gate(writer)
    batches_before = writer.stats.batches
    first = writer.submit(insert(1))
    writer.append(INSERT, log_row(2))
    writer.append(INSERT, log_row(3, status=None))  # NOT NULL violation: only this row goes
    writer.append(INSERT, log_row(4))
    failing = writer.submit(fail)
    writer.append("INSERT INTO nowhere VALUES (?)", (1,))  # a whole group that cannot work
    last = writer.submit(insert(5))
    writer.append(INSERT, log_row(6))
    with caplog.at_level(logging.ERROR, logger="switchboard.store"):
        gate.open()
        # Futures resolve after COMMIT, so once `last` is done every item before it is too.
        assert last.result(5) == 5

    assert first.result(5) == 1
    with pytest.raises(KeyError):
        failing.result(5)
    # The gate's batch plus exactly one more: all the items above shared one transaction.
    assert writer.stats.batches - batches_before == 2
    conn = open_connection(db_path, readonly=True)
    try:
        ids = [r[0] for r in query(conn, "SELECT request_id FROM request_log ORDER BY ts")]
    finally:
        conn.close()
    assert ids == ["req-1", "req-2", "req-4", "req-5", "req-6"]
    stats = writer.stats
    assert stats.rows_dropped == 2
    assert stats.errors == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "switchboard.store"]
    assert any("dropped 1 of 3 rows" in m for m in messages)
    assert any("nowhere" in m for m in messages)


def test_failed_transaction_fails_its_calls_and_writer_survives(
    writer: DbWriter, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def sabotage(conn: apsw.Connection) -> None:
        conn.execute("ROLLBACK")  # breaks the rules: ends the shared transaction

    with caplog.at_level(logging.ERROR, logger="switchboard.store"):
        gate = Gate(writer)
        ok = writer.submit(lambda c: c.execute(INSERT, log_row(1)) and None)
        bad = writer.submit(sabotage)
        gate.open()
        writer.flush()
    with pytest.raises(apsw.Error):
        ok.result(5)  # it ran, but its work was lost with the transaction
    with pytest.raises(apsw.Error):
        bad.result(5)
    assert count_rows(db_path) == 0
    assert any("transaction failed" in r.getMessage() for r in caplog.records)
    writer.append(INSERT, log_row(2))
    writer.flush()
    assert count_rows(db_path) == 1


def test_append_50k_rows(writer: DbWriter, db_path: Path) -> None:
    for i in range(50_000):
        writer.append(INSERT, log_row(i))
    writer.flush(timeout=30)
    assert writer.pending == 0
    assert count_rows(db_path) == 50_000
    assert writer.stats.rows_written == 50_000
    assert writer.stats.rows_dropped == 0


def test_append_from_many_threads(writer: DbWriter, db_path: Path) -> None:
    threads_n, per_thread = 8, 5_000
    start = threading.Barrier(threads_n)

    def produce(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            writer.append(INSERT, log_row(t * per_thread + i))

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.flush(timeout=30)
    conn = open_connection(db_path, readonly=True)
    try:
        rows = query(conn, "SELECT count(*), count(DISTINCT request_id) FROM request_log")
    finally:
        conn.close()
    assert rows == [(threads_n * per_thread, threads_n * per_thread)]


def test_append_is_written_without_flush(writer: DbWriter, db_path: Path) -> None:
    writer.append(INSERT, log_row(1))
    deadline = time.monotonic() + 5
    while count_rows(db_path) == 0:
        assert time.monotonic() < deadline, "the interval flush never happened"
        time.sleep(0.01)


async def test_run_does_not_block_the_loop(writer: DbWriter) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    def slow(conn: apsw.Connection) -> int:
        time.sleep(0.3)  # a slow write keeps the writer thread busy, not the loop
        return int(query(conn, "SELECT 41 + 1")[0][0])

    task = asyncio.create_task(ticker())
    result = await writer.run(slow)
    stop.set()
    await task
    assert result == 42
    assert ticks >= 10

    writer.append(INSERT, log_row(1))
    await writer.aflush()
    assert await writer.run(lambda c: query(c, "SELECT count(*) FROM request_log")) == [(1,)]


async def test_run_propagates_exceptions(writer: DbWriter) -> None:
    def fail(conn: apsw.Connection) -> None:
        raise RuntimeError("nope")

    with pytest.raises(RuntimeError, match="nope"):
        await writer.run(fail)


async def test_cancelled_run_is_skipped(writer: DbWriter, db_path: Path) -> None:
    gate = await asyncio.to_thread(Gate, writer)
    task = asyncio.create_task(writer.run(lambda c: c.execute(INSERT, log_row(1)) and None))
    await asyncio.sleep(0)  # let the task submit
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(gate.open)
    await writer.aflush()
    assert count_rows(db_path) == 0


def test_close_is_idempotent_and_flushes(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = DbWriter(db_path, LOGS_MIGRATIONS, flush_interval=10.0)
    writer.start()
    for i in range(10):
        writer.append(INSERT, log_row(i))
    writer.close()
    assert count_rows(db_path) == 10  # close wrote what was queued
    writer.close()
    writer.close(timeout=0.1)
    assert writer.closed
    with pytest.raises(RuntimeError, match="writer is closed"):
        writer.submit(lambda c: None)
    with caplog.at_level(logging.WARNING, logger="switchboard.store"):
        writer.append(INSERT, log_row(100))
        writer.append(INSERT, log_row(101))
    warnings = [r for r in caplog.records if "after close" in r.getMessage()]
    assert len(warnings) == 1
    assert writer.stats.rows_written == 10
    writer.flush()  # nothing to do, no error
    with pytest.raises(RuntimeError, match="writer is closed"):
        writer.start()


async def test_aclose(db_path: Path) -> None:
    writer = DbWriter(db_path, LOGS_MIGRATIONS)
    await asyncio.to_thread(writer.start)
    writer.append(INSERT, log_row(1))
    await writer.aclose()
    await writer.aclose()
    assert count_rows(db_path) == 1


def test_close_before_start_fails_queued_calls(db_path: Path) -> None:
    writer = DbWriter(db_path, LOGS_MIGRATIONS)
    future: Future[None] = writer.submit(lambda c: None)
    with pytest.raises(RuntimeError, match="not started"):
        writer.flush()
    writer.close()
    with pytest.raises(RuntimeError, match="writer is closed"):
        future.result(1)


def test_work_queued_before_start_runs_after_start(db_path: Path) -> None:
    writer = DbWriter(db_path, LOGS_MIGRATIONS)
    writer.append(INSERT, log_row(1))
    future = writer.submit(lambda c: "ran")
    with writer:
        assert future.result(5) == "ran"
        writer.flush()
        assert count_rows(db_path) == 1


def test_start_reports_newer_database(db_path: Path) -> None:
    conn = open_connection(db_path)
    try:
        migrate(conn, [*LOGS_MIGRATIONS, Migration("0999_future", "CREATE TABLE f(x)")])
    finally:
        conn.close()
    writer = DbWriter(db_path, LOGS_MIGRATIONS)
    early = writer.submit(lambda c: None)
    with pytest.raises(MigrationError, match="newer version"):
        writer.start()
    with pytest.raises(MigrationError):
        early.result(1)
    with pytest.raises(RuntimeError, match="writer is closed"):
        writer.submit(lambda c: None)
    writer.close()


def test_reader_sees_commits_while_writer_active(writer: DbWriter, db_path: Path) -> None:
    reader = ThreadLocalReader(db_path)
    total = 20_000
    done = threading.Event()
    counts: list[int] = []
    errors: list[BaseException] = []

    def produce() -> None:
        for i in range(total):
            writer.append(INSERT, log_row(i))
            if i % 1000 == 999:
                time.sleep(0.01)  # keep the writer busy over several flushes
        done.set()

    def read() -> None:
        try:
            while not done.is_set():
                counts.append(
                    int(query(reader.connection(), "SELECT count(*) FROM request_log")[0][0])
                )
                time.sleep(0.002)
        except BaseException as exc:  # any busy/locked error fails the test
            errors.append(exc)

    threads = [threading.Thread(target=produce), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        assert counts == sorted(counts)  # commits appear atomically and in order
        assert any(0 < c < total for c in counts), "reader never saw a partial, committed state"
        writer.flush()
        assert query(reader.connection(), "SELECT count(*) FROM request_log") == [(total,)]
    finally:
        reader.close_all()


def test_pending_and_overflow(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = DbWriter(db_path, LOGS_MIGRATIONS, max_pending=5)
    for i in range(8):
        writer.append(INSERT, log_row(i))
    assert writer.pending == 5
    assert writer.stats.rows_dropped == 3
    with caplog.at_level(logging.WARNING, logger="switchboard.store"):
        writer.start()
        writer.flush()
        assert writer.pending == 0
        writer.close()  # the thread reports drops after each drain; close waits for it
    assert count_rows(db_path) == 5
    assert any("queue full" in r.getMessage() for r in caplog.records)


def test_flush_from_writer_thread_is_refused(writer: DbWriter) -> None:
    def inner(conn: apsw.Connection) -> None:
        writer.flush()

    with pytest.raises(RuntimeError, match="deadlock"):
        writer.submit(inner).result(5)


def test_invalid_flush_interval(db_path: Path) -> None:
    with pytest.raises(ValueError):
        DbWriter(db_path, LOGS_MIGRATIONS, flush_interval=0)


def test_after_rows_hooks_see_exactly_the_rows_written(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[list[str]] = []
    fail_next = threading.Event()

    def hook(conn: apsw.Connection, rows: list[tuple[Any, ...]]) -> None:
        # Same transaction: the rows are visible here, and this write commits with them.
        assert conn.in_transaction
        conn.execute("CREATE TABLE IF NOT EXISTS seen(id TEXT)")
        conn.executemany("INSERT INTO seen VALUES (?)", [(row[1],) for row in rows])
        seen.append([row[1] for row in rows])
        if fail_next.is_set():
            raise RuntimeError("hook bug")

    writer = DbWriter(db_path, LOGS_MIGRATIONS, flush_interval=0.05, name="hooked")
    writer.after_rows(INSERT, hook)
    writer.start()
    try:
        with pytest.raises(RuntimeError, match="before start"):
            writer.after_rows(INSERT, hook)
        gate = Gate(writer)
        writer.append(INSERT, log_row(1))
        writer.append(INSERT, log_row(2, status=None))  # rejected: the hook never sees it
        writer.append(INSERT, log_row(3))
        writer.append("INSERT INTO nowhere VALUES (?)", (1,))  # no hook for this SQL
        gate.open()
        writer.flush()
        assert seen == [["req-1", "req-3"]]

        fail_next.set()
        with caplog.at_level(logging.ERROR, logger="switchboard.store"):
            writer.append(INSERT, log_row(4))
            writer.flush()
        assert seen[-1] == ["req-4"]
        assert any("the hook after 1 rows" in r.getMessage() for r in caplog.records)
    finally:
        writer.close()
    conn = open_connection(db_path, readonly=True)
    try:
        logged = [r[0] for r in query(conn, "SELECT request_id FROM request_log ORDER BY ts")]
        hooked = [r[0] for r in query(conn, "SELECT id FROM seen ORDER BY id")]
    finally:
        conn.close()
    assert logged == ["req-1", "req-3", "req-4"]  # a failing hook loses only its own work
    assert hooked == ["req-1", "req-3"]
