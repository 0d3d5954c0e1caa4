"""Opening the two SQLite databases and reading them from many threads.

apsw connections must not be used by two threads at once, so every thread gets its own:
one writer thread per file (see writer.py) and a ThreadLocalReader for everyone else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import apsw

from gateway.store.migrations import Migration, migrate
from gateway.store.schema import CONFIG_MIGRATIONS, LOGS_MIGRATIONS

log = logging.getLogger("switchboard.store")

CONFIG_DB_NAME = "switchboard.db"
LOGS_DB_NAME = "logs.db"

BUSY_TIMEOUT_MS = 5000


def open_connection(path: Path, *, readonly: bool = False) -> apsw.Connection:
    """Open `path` with the pragmas every Switchboard connection uses.

    WAL lets readers run while the writer commits; synchronous=NORMAL skips the fsync per
    commit (WAL stays consistent, only the last commits can be lost on power failure).
    """
    if readonly:
        conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = apsw.Connection(
            str(path), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        )
    try:
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        if not readonly:
            mode = conn.pragma("journal_mode", "wal")
            if str(mode).lower() != "wal":
                log.warning("%s: could not enable WAL (journal_mode=%s)", path, mode)
        conn.pragma("synchronous", "NORMAL")
        conn.pragma("foreign_keys", "ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_migrated(path: Path, migrations: Sequence[Migration]) -> apsw.Connection:
    conn = open_connection(path)
    try:
        migrate(conn, migrations, db_path=path)
    except BaseException:
        conn.close()
        raise
    return conn


def open_config_db(data_dir: Path) -> apsw.Connection:
    """Open `data_dir/switchboard.db`, migrated to the latest schema."""
    return _open_migrated(data_dir / CONFIG_DB_NAME, CONFIG_MIGRATIONS)


def open_logs_db(data_dir: Path) -> apsw.Connection:
    """Open `data_dir/logs.db`, migrated to the latest schema."""
    return _open_migrated(data_dir / LOGS_DB_NAME, LOGS_MIGRATIONS)


def query(
    conn: apsw.Connection,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
) -> list[tuple[Any, ...]]:
    """Run `sql` and return every row (materialised, so no cursor outlives the call)."""
    bindings: Sequence[Any] | dict[str, Any]
    if isinstance(params, Mapping):
        # apsw wants a real dict for named bindings.
        bindings = params if isinstance(params, dict) else dict(params)
    else:
        bindings = params
    rows: list[tuple[Any, ...]] = list(conn.execute(sql, bindings))
    return rows


class ThreadLocalReader:
    """One lazily opened connection per calling thread (read-only unless told otherwise).

    close_all() closes every connection; a thread that asks again afterwards gets a new one.
    Call close_all() only when no reader is in the middle of a query (at shutdown).
    """

    def __init__(self, path: Path, *, readonly: bool = True) -> None:
        self._path = path
        self._readonly = readonly
        self._local = threading.local()
        self._lock = threading.Lock()
        # Keyed by thread so connections of threads that have ended can be closed.
        self._conns: dict[threading.Thread, apsw.Connection] = {}
        self._generation = 0

    @property
    def path(self) -> Path:
        return self._path

    def connection(self) -> apsw.Connection:
        """The calling thread's connection, opened on first use."""
        local = self._local
        conn: apsw.Connection | None = getattr(local, "conn", None)
        if conn is not None and getattr(local, "generation", -1) == self._generation:
            return conn
        conn = open_connection(self._path, readonly=self._readonly)
        with self._lock:
            self._close_dead_threads()
            thread = threading.current_thread()
            stale = self._conns.pop(thread, None)
            self._conns[thread] = conn
            local.conn = conn
            local.generation = self._generation
        if stale is not None:
            _close_quietly(stale)
        return conn

    def close_all(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
            self._generation += 1
        for conn in conns:
            _close_quietly(conn)

    def _close_dead_threads(self) -> None:
        # Called with the lock held; the owners are gone, so closing here is race-free.
        dead = [thread for thread in self._conns if not thread.is_alive()]
        for thread in dead:
            _close_quietly(self._conns.pop(thread))


def _close_quietly(conn: apsw.Connection) -> None:
    try:
        conn.close()
    except apsw.Error:
        log.warning("error closing a reader connection", exc_info=True)
