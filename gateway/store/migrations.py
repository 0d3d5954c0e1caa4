"""Forward-only, named schema migrations.

Applied names live in `_migrations`; `PRAGMA user_version` mirrors their count so that tools
such as the sqlite3 shell show the version too. Each migration commits together with its
`_migrations` row, so a failure leaves the database exactly at the previous version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import apsw

log = logging.getLogger("switchboard.store")

_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS _migrations(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
)


class MigrationError(Exception):
    """The database cannot be brought to the schema this version of Switchboard expects."""


@dataclass(frozen=True)
class Migration:
    """One schema step. Append-only: never edited once released."""

    name: str
    sql: str


def applied_migrations(conn: apsw.Connection) -> list[str]:
    """Names of the migrations already applied, in the order they were applied."""
    if not conn.table_exists("main", "_migrations"):
        return []
    return [str(row[0]) for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def backup_database(conn: apsw.Connection, dest: Path) -> None:
    """Copy the main database of `conn` to `dest` with SQLite's online backup API.

    The backup API reads one consistent snapshot (WAL included), unlike a file copy. It writes
    to a temporary file first, so `dest` is either absent or complete.
    """
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    target = apsw.Connection(str(tmp))
    try:
        with target.backup("main", conn, "main") as backup:
            backup.step(-1)
    finally:
        target.close()
    tmp.replace(dest)


def migrate(
    conn: apsw.Connection,
    migrations: Sequence[Migration],
    *,
    db_path: Path | None = None,
) -> list[str]:
    """Apply the pending `migrations` in order and return the names applied.

    With `db_path`, a database that already has migrations is backed up to
    `<db_path>.bak-<last applied name>` before the first pending one runs.
    Raises MigrationError when the database knows a migration this code does not (it was
    written by a newer Switchboard) or when a migration fails.
    """
    names = [m.name for m in migrations]
    known = set(names)
    if len(known) != len(names):
        raise ValueError("migration names must be unique")

    applied = applied_migrations(conn)
    unknown = [name for name in applied if name not in known]
    if unknown:
        where = f" {db_path}" if db_path is not None else ""
        raise MigrationError(
            f"The database{where} was written by a newer version of Switchboard "
            f"(unknown migrations: {', '.join(unknown)}). "
            "Upgrade Switchboard to open it; this version will not change it."
        )

    done = set(applied)
    pending = [m for m in migrations if m.name not in done]
    if not pending:
        return []

    if applied and db_path is not None:
        dest = db_path.with_name(f"{db_path.name}.bak-{applied[-1]}")
        log.info("backing up %s to %s before migrating", db_path, dest)
        backup_database(conn, dest)

    ran: list[str] = []
    for migration in pending:
        if _apply(conn, migration):
            ran.append(migration.name)
            log.info("applied migration %s", migration.name)
    return ran


def _apply(conn: apsw.Connection, migration: Migration) -> bool:
    """Run one migration in its own transaction; False if another process already ran it."""
    # IMMEDIATE takes the write lock up front, so a second process migrating the same file
    # waits here (busy timeout) and then sees the row the first one wrote.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_CREATE_TABLE)
        already = conn.execute(
            "SELECT 1 FROM _migrations WHERE name = ?", (migration.name,)
        ).fetchall()
        if already:
            conn.execute("ROLLBACK")
            return False
        # Iterate so that every statement of a multi-statement script runs to completion.
        for _row in conn.execute(migration.sql):
            pass
        conn.execute(
            "INSERT INTO _migrations(name, applied_at) VALUES (?, ?)",
            (migration.name, time.time()),
        )
        count = len(applied_migrations(conn))
        conn.pragma("user_version", count)
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, Exception):
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        raise
    return True
