"""The single writer thread per database, fed by a queue.

Every write to a database file goes through its DbWriter: one thread owns the only write
connection, so there is never a second writer to wait for. Two kinds of work share one FIFO:

- `append(sql, row)`: fire-and-forget rows for the hot path (request logs). O(1) and
  lock-free (a deque append under the GIL); the thread drains them every `flush_interval`, or
  sooner once WAKE_ROWS are waiting, grouping consecutive rows with the same SQL into one
  executemany, all in one transaction per flush.
- `submit(fn)` / `run(fn)`: a function run in the writer thread inside that transaction, in
  its own SAVEPOINT so a failure undoes only its own work. Its future resolves after COMMIT.

`after_rows(sql, hook)` keeps a derived table in step with appended rows: the hook gets each
group of rows just inserted, in the same transaction (a failing hook loses its own work only).

Nothing here blocks the caller except flush(), close() and start(), which are for start-up,
shutdown and tests; from an event loop use run(), aflush() and aclose().
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import apsw

from gateway.store.db import open_connection
from gateway.store.migrations import Migration, migrate

log = logging.getLogger("switchboard.store")

T = TypeVar("T")

# Wake the writer early once this many items wait, instead of waiting for the interval.
WAKE_ROWS = 500
# Cap one transaction so a submit queued behind a large backlog is not held for long.
MAX_BATCH_ITEMS = 50_000
# Beyond this many waiting items append() drops rows rather than grow memory without bound
# (the disk cannot keep up); the drops are counted and logged by the writer thread.
DEFAULT_MAX_PENDING = 1_000_000


@dataclass(frozen=True)
class WriterStats:
    """A snapshot of a writer's counters."""

    rows_written: int = 0
    rows_dropped: int = 0  # failed rows, lost transactions, overflow and appends after close
    batches: int = 0  # committed transactions
    calls: int = 0  # submitted functions run
    errors: int = 0  # failed row groups and failed transactions (not exceptions of calls)


_PENDING, _DONE, _FAILED, _CANCELLED = range(4)


class _Call:
    __slots__ = ("error", "fn", "future", "state", "value")

    def __init__(
        self, fn: Callable[[apsw.Connection], Any], future: concurrent.futures.Future[Any]
    ) -> None:
        self.fn = fn
        self.future = future
        self.state = _PENDING
        self.value: Any = None
        self.error: BaseException | None = None


class _Barrier:
    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()


_Row: TypeAlias = tuple[str, tuple[Any, ...]]
RowsHook: TypeAlias = Callable[[apsw.Connection, list[tuple[Any, ...]]], None]
_Item: TypeAlias = _Row | _Call | _Barrier

# Writers still open at interpreter exit get flushed: their thread is a daemon and would
# otherwise be killed with rows in its queue.
_live_writers: weakref.WeakSet[DbWriter] = weakref.WeakSet()


@atexit.register
def _close_live_writers() -> None:
    for writer in list(_live_writers):
        writer.close(timeout=5.0)


class DbWriter:
    """Owns the write connection of one database file and runs queued work in one thread."""

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        *,
        flush_interval: float = 0.25,
        name: str = "db-writer",
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError("flush_interval must be positive")
        self._path = path
        self._migrations = tuple(migrations)
        self._flush_interval = flush_interval
        self._name = name
        self._max_pending = max_pending
        self._queue: deque[_Item] = deque()
        self._hooks: dict[str, RowsHook] = {}
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()  # guards start/close state and submit vs close
        self._thread: threading.Thread | None = None
        self._startup_error: BaseException | None = None
        self._closed = False
        self._close_requested = False
        self._stopping = False
        self._warned_closed = False
        # Written by producer threads without a lock: approximate, for reporting only.
        self._overflow = 0
        self._overflow_reported = 0
        # Only the writer thread changes these.
        self._rows_written = 0
        self._rows_dropped = 0
        self._batches = 0
        self._calls = 0
        self._errors = 0

    # -- state ---------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """Items (rows and calls) waiting for the writer thread."""
        return len(self._queue)

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            rows_written=self._rows_written,
            rows_dropped=self._rows_dropped + self._overflow,
            batches=self._batches,
            calls=self._calls,
            errors=self._errors,
        )

    def after_rows(self, sql: str, hook: RowsHook) -> None:
        """Call ``hook(conn, rows)`` in the writer thread with every group of rows appended
        for ``sql``, right after they are inserted and in the same transaction. Before start()."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("register hooks before start()")
            self._hooks[sql] = hook

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread and wait until it has opened and migrated the database.

        Raises what opening or migrating raised (e.g. MigrationError), so a bad database is
        reported at start-up. Blocks for the migration: call it before serving requests.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("writer is closed")
            if self._thread is None:
                _live_writers.add(self)
                self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
                self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued, stop the thread and close the connection. Idempotent.

        Blocks up to `timeout` seconds: not for the event loop thread (use aclose()).
        """
        with self._lock:
            if self._close_requested:
                return
            self._close_requested = True
            self._closed = True
            self._stopping = True
            thread = self._thread
        _live_writers.discard(self)
        if thread is None:
            self._abandon_queue(RuntimeError("writer is closed"))
            return
        self._wake.set()
        if thread is threading.current_thread():
            return  # called from a submitted function: the loop ends after this batch
        thread.join(timeout)
        if thread.is_alive():
            log.warning("%s: still writing %.1f s after close()", self._name, timeout)

    async def aclose(self) -> None:
        """close() without blocking the event loop."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> DbWriter:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- producers -----------------------------------------------------------------------

    def append(self, sql: str, row: tuple[Any, ...]) -> None:
        """Queue one row for `sql` (an INSERT returning no rows). Never blocks, never raises.

        Rows are committed within about flush_interval; a row the database rejects is logged
        and dropped without affecting the others.
        """
        if self._closed:
            if not self._warned_closed:
                self._warned_closed = True
                log.warning("%s: append() after close(); rows are dropped", self._name)
            return
        queue = self._queue
        if len(queue) >= self._max_pending:
            self._overflow += 1
            return
        queue.append((sql, row))
        if len(queue) >= WAKE_ROWS and not self._wake.is_set():
            self._wake.set()

    def submit(self, fn: Callable[[apsw.Connection], T]) -> concurrent.futures.Future[T]:
        """Run fn(conn) in the writer thread inside the current transaction.

        The future gets fn's result once the transaction has committed, or fn's exception
        (its writes rolled back, other work unaffected). fn must not BEGIN/COMMIT itself,
        and should return plain values, not cursors.
        """
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("writer is closed") from self._startup_error
            self._queue.append(_Call(fn, future))
        self._wake.set()
        return future

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        """submit() and await the result without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(fn))

    def flush(self, timeout: float = 5.0) -> None:
        """Block until everything appended or submitted before this call is committed.

        For tests and shutdown only: it blocks, so never call it on the event loop thread
        (use aflush()). Raises TimeoutError after `timeout` seconds.
        """
        barrier = self._barrier()
        if barrier is not None:
            barrier.result(timeout)
            return
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)  # closing: the thread is writing the rest
            if thread.is_alive():
                raise TimeoutError(f"{self._name}: flush timed out")

    async def aflush(self) -> None:
        """flush() without blocking the event loop."""
        barrier = self._barrier()
        if barrier is not None:
            await asyncio.wrap_future(barrier)
            return
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join)

    def _barrier(self) -> concurrent.futures.Future[None] | None:
        with self._lock:
            if self._closed:
                return None
            if self._thread is None:
                raise RuntimeError("writer is not started")
            if self._thread is threading.current_thread():
                raise RuntimeError("flush() from the writer thread would deadlock")
            barrier = _Barrier()
            self._queue.append(barrier)
        self._wake.set()
        return barrier.future

    # -- writer thread -------------------------------------------------------------------

    def _main(self) -> None:
        try:
            conn = open_connection(self._path)
            try:
                migrate(conn, self._migrations, db_path=self._path)
            except BaseException:
                conn.close()
                raise
        except BaseException as exc:
            log.error("%s: cannot open %s: %s", self._name, self._path, exc)
            self._startup_error = exc
            with self._lock:
                self._closed = True
            _live_writers.discard(self)
            self._ready.set()
            self._abandon_queue(exc)
            return
        self._ready.set()
        try:
            self._loop(conn)
        finally:
            with self._lock:
                self._closed = True  # also if the loop died: no submit may wait forever
            _live_writers.discard(self)
            # Only rows that raced with close() can be left here.
            self._abandon_queue(RuntimeError("writer is closed"))
            try:
                conn.close()
            except apsw.Error:
                log.exception("%s: error closing the database", self._name)

    def _loop(self, conn: apsw.Connection) -> None:
        while True:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            stopping = self._stopping
            try:
                self._drain(conn, everything=stopping)
            except Exception:  # a bug here must not kill the only writer
                log.exception("%s: unexpected error in the writer loop", self._name)
            self._report_overflow()
            if stopping and not self._queue:
                return

    def _drain(self, conn: apsw.Connection, *, everything: bool) -> None:
        queue = self._queue
        while queue:
            count = min(len(queue), MAX_BATCH_ITEMS)
            popleft = queue.popleft
            self._write_batch(conn, [popleft() for _ in range(count)])
            # A small remainder waits for the next interval (a submit sets the wake event).
            if not everything and len(queue) < WAKE_ROWS:
                return

    def _write_batch(self, conn: apsw.Connection, batch: list[_Item]) -> None:
        """Write one batch in one transaction and settle its futures after COMMIT."""
        done: list[_Call | _Barrier] = []
        written = 0
        index = 0
        size = len(batch)
        error: BaseException | None = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            while index < size:
                item = batch[index]
                if isinstance(item, tuple):
                    # Consecutive rows for the same SQL become one executemany.
                    sql = item[0]
                    rows = [item[1]]
                    index += 1
                    while index < size:
                        nxt = batch[index]
                        if not isinstance(nxt, tuple) or nxt[0] != sql:
                            break
                        rows.append(nxt[1])
                        index += 1
                    try:
                        written += self._write_rows(conn, sql, rows)
                    except BaseException:
                        index -= len(rows)  # so the lost-row count includes this group
                        raise
                    continue
                if isinstance(item, _Call):
                    self._run_call(conn, item)
                done.append(item)
                index += 1
            conn.execute("COMMIT")
        except BaseException as exc:
            error = exc
            self._errors += 1
            lost_rows = written + sum(1 for item in batch[index:] if isinstance(item, tuple))
            self._rows_dropped += lost_rows
            written = 0
            log.error("%s: transaction failed, %d rows lost: %s", self._name, lost_rows, exc)
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except apsw.Error:
                    log.exception("%s: rollback failed", self._name)
            done.extend(item for item in batch[index:] if not isinstance(item, tuple))
            if not isinstance(exc, Exception):
                raise
        finally:
            if error is None:
                self._batches += 1
                self._rows_written += written
            for item in done:
                if isinstance(item, _Call):
                    _settle_call(item, error)
                else:
                    _settle(item.future, True, None)

    def _write_rows(self, conn: apsw.Connection, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """executemany one group; on failure retry row by row so one bad row loses only itself."""
        conn.execute("SAVEPOINT sb_rows")
        try:
            for _ in conn.executemany(sql, rows):
                pass
        except Exception as exc:
            conn.execute("ROLLBACK TO sb_rows")
            conn.execute("RELEASE sb_rows")
            first_error: Exception = exc
        else:
            conn.execute("RELEASE sb_rows")
            self._run_hook(conn, sql, rows)
            return len(rows)

        written: list[tuple[Any, ...]] = []
        for row in rows:
            try:
                # A single statement is atomic: a rejected row leaves nothing behind.
                for _ in conn.execute(sql, row):
                    pass
            except Exception:
                if not conn.in_transaction:
                    raise  # SQLite rolled the whole transaction back (disk full, I/O error)
            else:
                written.append(row)
        good = len(written)
        if written:
            self._run_hook(conn, sql, written)
        bad = len(rows) - good
        if bad:
            self._errors += 1
            self._rows_dropped += bad
            log.error(
                "%s: dropped %d of %d rows for %r: %s",
                self._name,
                bad,
                len(rows),
                sql[:120],
                first_error,
            )
        else:
            log.warning(
                "%s: executemany failed, rows written one by one: %s", self._name, first_error
            )
        return good

    def _run_hook(self, conn: apsw.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        hook = self._hooks.get(sql)
        if hook is None:
            return
        conn.execute("SAVEPOINT sb_hook")
        try:
            hook(conn, rows)
        except Exception:
            if not conn.in_transaction:
                raise  # the whole transaction is gone: the batch reports it
            conn.execute("ROLLBACK TO sb_hook")
            conn.execute("RELEASE sb_hook")
            self._errors += 1
            log.exception(
                "%s: the hook after %d rows for %r failed", self._name, len(rows), sql[:60]
            )
            return
        conn.execute("RELEASE sb_hook")

    def _run_call(self, conn: apsw.Connection, call: _Call) -> None:
        if not call.future.set_running_or_notify_cancel():
            call.state = _CANCELLED
            return
        self._calls += 1
        conn.execute("SAVEPOINT sb_call")
        try:
            call.value = call.fn(conn)
        except BaseException as exc:  # the caller gets it; the thread carries on
            call.state = _FAILED
            call.error = exc
            conn.execute("ROLLBACK TO sb_call")
            conn.execute("RELEASE sb_call")
            return
        call.state = _DONE
        conn.execute("RELEASE sb_call")

    def _abandon_queue(self, error: BaseException) -> None:
        """Fail queued calls, release barriers and count queued rows as dropped."""
        dropped = 0
        queue = self._queue
        while queue:
            item = queue.popleft()
            if isinstance(item, tuple):
                dropped += 1
            elif isinstance(item, _Call):
                if item.future.set_running_or_notify_cancel():
                    _settle(item.future, False, error)
            else:
                _settle(item.future, True, None)
        if dropped:
            self._rows_dropped += dropped
            log.warning("%s: %d queued rows dropped at close", self._name, dropped)

    def _report_overflow(self) -> None:
        overflow = self._overflow
        if overflow != self._overflow_reported:
            log.warning(
                "%s: queue full (%d items), %d rows dropped",
                self._name,
                self._max_pending,
                overflow - self._overflow_reported,
            )
            self._overflow_reported = overflow


def _settle_call(call: _Call, batch_error: BaseException | None) -> None:
    if call.state == _CANCELLED:
        return
    if call.state == _PENDING:  # never reached: the transaction failed before it
        if not call.future.set_running_or_notify_cancel():
            return
        _settle(call.future, False, batch_error or RuntimeError("writer is closed"))
    elif call.state == _FAILED:
        _settle(call.future, False, call.error)
    elif batch_error is not None:  # it ran, but its work was rolled back with the batch
        _settle(call.future, False, batch_error)
    else:
        _settle(call.future, True, call.value)


def _settle(future: concurrent.futures.Future[Any], ok: bool, value: Any) -> None:
    try:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    except concurrent.futures.InvalidStateError:
        pass  # cancelled meanwhile
