"""Forward migrations: fresh databases, upgrades from every earlier version, refusals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import apsw
import pytest

from gateway.store.db import (
    CONFIG_DB_NAME,
    LOGS_DB_NAME,
    open_config_db,
    open_connection,
    open_logs_db,
    query,
)
from gateway.store.migrations import Migration, MigrationError, applied_migrations, migrate
from gateway.store.schema import CONFIG_MIGRATIONS, LOGS_MIGRATIONS

# One row per table, keyed by the migration that creates the table: (table, columns, values).
SAMPLE_ROWS: dict[str, list[tuple[str, tuple[str, ...], tuple[Any, ...]]]] = {
    "0001_settings": [
        ("settings", ("name", "value"), ("theme", '"dark"')),
    ],
    "0002_connections_combos": [
        (
            "connections",
            ("id", "name", "provider", "dialect", "models", "created_at", "updated_at"),
            ("c1", "work-openai", "openai", "openai", '["gpt-x"]', 1.5, 2.5),
        ),
        (
            "combos",
            ("name", "strategy", "targets", "created_at", "updated_at"),
            ("fast", "fallback", '["work-openai/gpt-x"]', 1.0, 1.0),
        ),
    ],
    "0003_api_keys": [
        (
            "api_keys",
            ("id", "name", "key_hash", "prefix", "created_at"),
            ("k1", "laptop", "hash-abc", "sb-abc", 3.0),
        ),
    ],
    "0004_combo_weights": [],  # a column on combos, covered by its 0002 sample row
    "0005_routing_controls": [
        ("model_aliases", ("name", "target", "updated_at"), ("fast", "openai/gpt-4o-mini", 1.0)),
        ("provider_settings", ("provider", "enabled", "hidden", "updated_at"), ("groq", 0, 1, 1.0)),
    ],
    "0006_price_overrides": [
        (
            "price_overrides",
            ("model", "input", "output", "cache_read", "updated_at"),
            ("box/*", 1.0, 2.0, 0.5, 1.0),
        ),
    ],
    "0007_quota_budgets": [
        (
            "quota_windows",
            ("connection", "window", "limit_value", "unit", "updated_at"),
            ("work-openai", "5h", 200.0, "requests", 1.0),
        ),
        (
            "budgets",
            ("scope", "name", "period", "limit_usd", "updated_at"),
            ("key", "laptop", "month", 50.0, 1.0),
        ),
    ],
    "0005_quota_events": [
        (
            "quota_events",
            ("scope", "window", "window_start", "kind", "ts"),
            ("quota:connection:work", "5h", 1000.0, "quota_warning", 1200.0),
        ),
    ],
    "0002_response_cache": [
        (
            "response_cache",
            ("key", "created_at", "expires_at", "status", "content_type", "body", "tokens"),
            ("k1", 1.0, 2.0, 200, "application/json", b"{}", 3),
        ),
    ],
    "0003_replays": [],  # columns on request_log and response_cache, covered by their samples
    "0004_usage_cost": [
        (
            "usage_hourly",
            ("hour", "provider", "model", "connection", "key_name", "requests", "lat_05"),
            (3600, "openai", "gpt-x", "work", "laptop", 2, 2),
        ),
    ],
    "0001_request_log": [
        (
            "request_log",
            (
                "ts",
                "request_id",
                "client_dialect",
                "status",
                "latency_ms",
                "tokens_in",
                "stream",
            ),
            (1000.0, "req-1", "openai", 200, 12.5, 42, 1),
        ),
    ],
}

Opener = Callable[[Path], apsw.Connection]

CASES = [
    pytest.param(CONFIG_MIGRATIONS, CONFIG_DB_NAME, open_config_db, id="config"),
    pytest.param(LOGS_MIGRATIONS, LOGS_DB_NAME, open_logs_db, id="logs"),
]


def schema_of(conn: apsw.Connection) -> list[tuple[str, str, str, str | None]]:
    """sqlite_master with whitespace-normalised SQL, in a stable order."""
    rows = query(conn, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
    return [(t, n, tbl, " ".join(sql.split()) if sql else None) for t, n, tbl, sql in rows]


def insert_samples(conn: apsw.Connection, names: Sequence[str]) -> None:
    for name in names:
        for table, columns, values in SAMPLE_ROWS[name]:
            marks = ", ".join("?" for _ in values)
            conn.execute(f"INSERT INTO {table}({', '.join(columns)}) VALUES ({marks})", values)


def assert_samples(conn: apsw.Connection, names: Sequence[str]) -> None:
    for name in names:
        for table, columns, values in SAMPLE_ROWS[name]:
            rows = query(conn, f"SELECT {', '.join(columns)} FROM {table}")
            assert rows == [values], table


def fresh_schema(tmp_path: Path, opener: Opener) -> list[tuple[str, str, str, str | None]]:
    folder = tmp_path / "fresh"
    folder.mkdir()
    conn = opener(folder)
    try:
        return schema_of(conn)
    finally:
        conn.close()


def test_sample_rows_cover_every_migration() -> None:
    assert set(SAMPLE_ROWS) == {m.name for m in (*CONFIG_MIGRATIONS, *LOGS_MIGRATIONS)}


@pytest.mark.parametrize(("migrations", "filename", "opener"), CASES)
def test_fresh_database(
    data_dir: Path, migrations: Sequence[Migration], filename: str, opener: Opener
) -> None:
    conn = opener(data_dir)
    try:
        assert conn.pragma("user_version") == len(migrations)
        assert applied_migrations(conn) == [m.name for m in migrations]
        tables = {row[0] for row in query(conn, "SELECT name FROM sqlite_master")}
        for migration in migrations:
            for table, _, _ in SAMPLE_ROWS[migration.name]:
                assert table in tables
        assert "_migrations" in tables
        insert_samples(conn, [m.name for m in migrations])
        assert_samples(conn, [m.name for m in migrations])
    finally:
        conn.close()
    assert not list(data_dir.glob("*.bak-*"))
    # Opening again applies nothing and backs nothing up.
    conn = opener(data_dir)
    try:
        assert migrate(conn, migrations, db_path=data_dir / filename) == []
    finally:
        conn.close()
    assert not list(data_dir.glob("*.bak-*"))


def test_config_schema_details(data_dir: Path) -> None:
    conn = open_config_db(data_dir)
    try:
        assert query(conn, "SELECT key, value FROM meta") == [("config_revision", "0")]
        now = 1.0
        conn.execute(
            "INSERT INTO connections(id, name, provider, created_at, updated_at) "
            "VALUES ('a', 'n', 'p', ?, ?)",
            (now, now),
        )
        assert query(conn, "SELECT models, enabled, priority FROM connections") == [("[]", 1, 100)]
        insert = (
            "INSERT INTO api_keys(id, name, key_hash, prefix, created_at, revoked_at) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        conn.execute(insert, ("1", "laptop", "h1", "p", now, now))  # revoked
        conn.execute(insert, ("2", "laptop", "h2", "p", now, None))  # active, same name: ok
        with pytest.raises(apsw.ConstraintError):
            conn.execute(insert, ("3", "laptop", "h3", "p", now, None))  # second active
        with pytest.raises(apsw.ConstraintError):
            conn.execute(insert, ("4", "other", "h2", "p", now, None))  # duplicate hash
    finally:
        conn.close()


@pytest.mark.parametrize(("migrations", "filename", "opener"), CASES)
def test_upgrade_from_every_earlier_version(
    tmp_path: Path, migrations: Sequence[Migration], filename: str, opener: Opener
) -> None:
    expected = fresh_schema(tmp_path, opener)
    names = [m.name for m in migrations]
    for k in range(len(migrations) + 1):
        folder = tmp_path / f"at-{k}"
        path = folder / filename
        old = open_connection(path)
        try:
            assert migrate(old, migrations[:k], db_path=path) == names[:k]
            assert old.pragma("user_version") == k
            insert_samples(old, names[:k])
            # Upgrade while the old connection is still open: its rows are in the WAL only,
            # so the backup must come from SQLite's backup API, not a file copy.
            conn = opener(folder)
        finally:
            old.close()
        try:
            assert schema_of(conn) == expected, f"from version {k}"
            assert conn.pragma("user_version") == len(migrations)
            assert applied_migrations(conn) == names
            assert_samples(conn, names[:k])
        finally:
            conn.close()

        backups = sorted(p.name for p in folder.glob("*.bak-*"))
        if 1 <= k < len(migrations):
            assert backups == [f"{filename}.bak-{names[k - 1]}"]
            backup = apsw.Connection(str(folder / backups[0]), flags=apsw.SQLITE_OPEN_READONLY)
            try:
                assert backup.pragma("user_version") == k
                assert applied_migrations(backup) == names[:k]
                assert_samples(backup, names[:k])
            finally:
                backup.close()
        else:
            assert backups == []


def _snapshot(path: Path) -> tuple[object, ...]:
    conn = open_connection(path, readonly=True)
    try:
        return (
            schema_of(conn),
            conn.pragma("user_version"),
            query(conn, "SELECT name, applied_at FROM _migrations ORDER BY rowid"),
        )
    finally:
        conn.close()


@pytest.mark.parametrize("applied_known", [len(CONFIG_MIGRATIONS), 1])
def test_newer_database_is_refused_and_untouched(data_dir: Path, applied_known: int) -> None:
    path = data_dir / CONFIG_DB_NAME
    future = (*CONFIG_MIGRATIONS[:applied_known], Migration("0999_future", "CREATE TABLE f(x)"))
    conn = open_connection(path)
    try:
        migrate(conn, future)
    finally:
        conn.close()
    before = _snapshot(path)

    with pytest.raises(MigrationError, match="newer version of Switchboard") as info:
        open_config_db(data_dir)
    assert "Upgrade Switchboard" in str(info.value)
    assert "0999_future" in str(info.value)

    assert _snapshot(path) == before
    assert not list(data_dir.glob("*.bak-*"))


def test_failing_migration_leaves_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    good = Migration("0001_good", "CREATE TABLE a(x); INSERT INTO a VALUES (1);")
    bad = Migration("0002_bad", "CREATE TABLE b(x); INSERT INTO a VALUES (2); CREATE TABLE (;")
    conn = open_connection(path)
    try:
        assert migrate(conn, [good], db_path=path) == ["0001_good"]
        with pytest.raises(MigrationError, match="0002_bad"):
            migrate(conn, [good, bad], db_path=path)
        assert not conn.in_transaction
        assert conn.pragma("user_version") == 1
        assert applied_migrations(conn) == ["0001_good"]
        assert not conn.table_exists("main", "b")
        assert query(conn, "SELECT x FROM a") == [(1,)]
        # The backup was taken before the failure and is the previous version.
        assert (tmp_path / "x.db.bak-0001_good").exists()
    finally:
        conn.close()


def test_failing_first_migration_leaves_empty_database(tmp_path: Path) -> None:
    conn = open_connection(tmp_path / "x.db")
    try:
        with pytest.raises(MigrationError):
            migrate(conn, [Migration("0001_bad", "CREATE TABLE a(x); nonsense;")])
        assert conn.pragma("user_version") == 0
        assert applied_migrations(conn) == []
        assert query(conn, "SELECT name FROM sqlite_master") == []
    finally:
        conn.close()


def test_migrations_apply_incrementally_and_report_names(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    m1 = Migration("0001_a", "CREATE TABLE a(x);")
    m2 = Migration("0002_b", "CREATE TABLE b(x);")
    conn = open_connection(path)
    try:
        assert migrate(conn, [m1]) == ["0001_a"]
        assert migrate(conn, [m1]) == []
        assert migrate(conn, [m1, m2]) == ["0002_b"]  # no db_path: no backup
        assert conn.pragma("user_version") == 2
    finally:
        conn.close()
    assert not list(tmp_path.glob("*.bak-*"))


def test_duplicate_names_rejected(tmp_path: Path) -> None:
    conn = open_connection(tmp_path / "x.db")
    try:
        with pytest.raises(ValueError, match="unique"):
            migrate(conn, [Migration("a", "SELECT 1"), Migration("a", "SELECT 2")])
    finally:
        conn.close()


def test_schema_lists_are_well_formed() -> None:
    for migrations in (CONFIG_MIGRATIONS, LOGS_MIGRATIONS):
        names = [m.name for m in migrations]
        assert names == sorted(names)
        assert len(set(names)) == len(names)
        for index, name in enumerate(names, start=1):
            assert name.startswith(f"{index:04d}_")
