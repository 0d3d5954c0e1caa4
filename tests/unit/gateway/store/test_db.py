"""Connections: pragmas, read-only mode, query(), per-thread readers."""

from __future__ import annotations

import threading
from pathlib import Path

import apsw
import pytest

from gateway.store.db import (
    CONFIG_DB_NAME,
    LOGS_DB_NAME,
    ThreadLocalReader,
    open_config_db,
    open_connection,
    open_logs_db,
    query,
)


def test_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "x.db"  # parent folders are created
    conn = open_connection(path)
    try:
        assert path.exists()
        assert conn.pragma("journal_mode") == "wal"
        assert conn.pragma("synchronous") == 1  # NORMAL
        assert conn.pragma("foreign_keys") == 1
        assert conn.pragma("busy_timeout") == 5000
    finally:
        conn.close()


def test_readonly_connection(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    writer = open_connection(path)
    writer.execute("CREATE TABLE t(a)")
    writer.execute("INSERT INTO t VALUES (1)")
    reader = open_connection(path, readonly=True)
    try:
        assert reader.pragma("busy_timeout") == 5000
        assert reader.pragma("foreign_keys") == 1
        assert reader.pragma("journal_mode") == "wal"
        assert query(reader, "SELECT a FROM t") == [(1,)]
        with pytest.raises(apsw.ReadOnlyError):
            reader.execute("INSERT INTO t VALUES (2)")
    finally:
        reader.close()
        writer.close()


def test_readonly_does_not_create(tmp_path: Path) -> None:
    with pytest.raises(apsw.CantOpenError):
        open_connection(tmp_path / "missing" / "x.db", readonly=True)
    assert not (tmp_path / "missing").exists()


def test_foreign_keys_enforced(tmp_path: Path) -> None:
    conn = open_connection(tmp_path / "x.db")
    try:
        conn.execute("CREATE TABLE parent(id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child(pid INTEGER REFERENCES parent(id))")
        with pytest.raises(apsw.ConstraintError):
            conn.execute("INSERT INTO child VALUES (42)")
    finally:
        conn.close()


def test_query_params(tmp_path: Path) -> None:
    conn = open_connection(tmp_path / "x.db")
    try:
        conn.execute("CREATE TABLE t(a, b)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, "x"), (2, "y")])
        assert query(conn, "SELECT a, b FROM t ORDER BY a") == [(1, "x"), (2, "y")]
        assert query(conn, "SELECT b FROM t WHERE a = ?", [2]) == [("y",)]
        assert query(conn, "SELECT b FROM t WHERE a = :a", {"a": 1}) == [("x",)]
        assert query(conn, "SELECT b FROM t WHERE a = 3") == []
    finally:
        conn.close()


def test_open_config_and_logs_db(data_dir: Path) -> None:
    config = open_config_db(data_dir)
    logs = open_logs_db(data_dir)
    try:
        assert (data_dir / CONFIG_DB_NAME).exists()
        assert (data_dir / LOGS_DB_NAME).exists()
        assert query(config, "SELECT value FROM meta WHERE key = 'config_revision'") == [("0",)]
        assert query(logs, "SELECT count(*) FROM request_log") == [(0,)]
        assert config.pragma("journal_mode") == "wal"
    finally:
        config.close()
        logs.close()


def _make_db(path: Path) -> None:
    conn = open_connection(path)
    conn.execute("CREATE TABLE t(a)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.close()


def test_thread_local_reader_one_connection_per_thread(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    _make_db(path)
    reader = ThreadLocalReader(path)
    try:
        main_conn = reader.connection()
        assert reader.connection() is main_conn
        seen: list[object] = []

        def work() -> None:
            conn = reader.connection()
            assert conn is reader.connection()
            seen.append(conn)
            assert query(conn, "SELECT a FROM t") == [(1,)]

        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 3
        assert len({id(conn) for conn in [main_conn, *seen]}) == 4
        with pytest.raises(apsw.ReadOnlyError):
            main_conn.execute("INSERT INTO t VALUES (2)")
    finally:
        reader.close_all()


def test_thread_local_reader_close_all_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    _make_db(path)
    reader = ThreadLocalReader(path)
    first = reader.connection()
    reader.close_all()
    with pytest.raises(apsw.ConnectionClosedError):
        first.execute("SELECT 1")
    second = reader.connection()
    assert second is not first
    assert query(second, "SELECT a FROM t") == [(1,)]
    reader.close_all()
    reader.close_all()  # idempotent


def test_thread_local_reader_closes_connections_of_ended_threads(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    _make_db(path)
    reader = ThreadLocalReader(path)
    opened: list[apsw.Connection] = []
    thread = threading.Thread(target=lambda: opened.append(reader.connection()))
    thread.start()
    thread.join()
    reader.connection()  # opening a new one reaps the ended thread's connection
    with pytest.raises(apsw.ConnectionClosedError):
        opened[0].execute("SELECT 1")
    reader.close_all()


def test_thread_local_reader_writable(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    _make_db(path)
    reader = ThreadLocalReader(path, readonly=False)
    try:
        reader.connection().execute("INSERT INTO t VALUES (2)")
        assert query(reader.connection(), "SELECT count(*) FROM t") == [(2,)]
    finally:
        reader.close_all()
