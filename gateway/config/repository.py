"""SQL for the configuration tables: plain sync functions that take an apsw connection.

Writers call these inside the writer thread (one transaction per call); readers call them on
their own connection. Nothing here knows about asyncio or secrets values (only references).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import apsw
import orjson


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    id: str
    name: str
    provider: str
    dialect: str | None
    alias: str | None
    base_url: str | None
    secret_ref: str | None
    models: tuple[str, ...]
    enabled: bool
    priority: int


@dataclass(frozen=True, slots=True)
class ComboRow:
    name: str
    strategy: str
    targets: tuple[str, ...]
    enabled: bool
    weights: tuple[float, ...] = ()  # one per target, for the weighted strategy; () = all 1


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    name: str
    key_hash: str
    prefix: str
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class ConfigState:
    """Everything the gateway's snapshot is built from, read in one transaction."""

    revision: int
    settings: dict[str, Any]
    connections: tuple[ConnectionRow, ...]
    combos: tuple[ComboRow, ...]
    api_keys: tuple[ApiKeyRow, ...]


def new_id() -> str:
    return uuid.uuid4().hex


def read_state(conn: apsw.Connection) -> ConfigState:
    with conn:  # one read transaction: a consistent view even while the writer commits
        state = ConfigState(
            revision=config_revision(conn),
            settings=read_settings(conn),
            connections=list_connections(conn),
            combos=list_combos(conn),
            api_keys=list_api_keys(conn),
        )
    return state


def config_revision(conn: apsw.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'config_revision'").fetchone()
    return int(row[0]) if row else 0


def bump_revision(conn: apsw.Connection) -> int:
    """Every configuration write ends here, so running gateways notice and reload."""
    revision = config_revision(conn) + 1
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('config_revision', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(revision),),
    )
    return revision


# settings ---------------------------------------------------------------------------------


def read_settings(conn: apsw.Connection) -> dict[str, Any]:
    return {
        name: orjson.loads(value)
        for name, value in conn.execute("SELECT name, value FROM settings")
    }


def write_setting(conn: apsw.Connection, name: str, value: Any) -> None:
    conn.execute(
        "INSERT INTO settings(name, value) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, orjson.dumps(value).decode()),
    )


# connections ------------------------------------------------------------------------------

_CONNECTION_COLUMNS = (
    "id, name, provider, dialect, alias, base_url, secret_ref, models, enabled, priority"
)


def _connection(row: tuple[Any, ...]) -> ConnectionRow:
    cid, name, provider, dialect, alias, base_url, secret_ref, models, enabled, priority = row
    return ConnectionRow(
        cid,
        name,
        provider,
        dialect,
        alias,
        base_url,
        secret_ref,
        tuple(orjson.loads(models)),
        bool(enabled),
        int(priority),
    )


def list_connections(conn: apsw.Connection) -> tuple[ConnectionRow, ...]:
    rows = conn.execute(f"SELECT {_CONNECTION_COLUMNS} FROM connections ORDER BY priority, name")
    return tuple(_connection(row) for row in rows)


def get_connection(conn: apsw.Connection, name: str) -> ConnectionRow | None:
    row = conn.execute(
        f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE name = ?", (name,)
    ).fetchone()
    return _connection(row) if row else None


def upsert_connection(conn: apsw.Connection, row: ConnectionRow) -> None:
    now = time.time()
    conn.execute(
        f"INSERT INTO connections({_CONNECTION_COLUMNS}, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET provider = excluded.provider, "
        "dialect = excluded.dialect, alias = excluded.alias, base_url = excluded.base_url, "
        "secret_ref = excluded.secret_ref, models = excluded.models, "
        "enabled = excluded.enabled, priority = excluded.priority, "
        "updated_at = excluded.updated_at",
        (
            row.id,
            row.name,
            row.provider,
            row.dialect,
            row.alias,
            row.base_url,
            row.secret_ref,
            orjson.dumps(list(row.models)).decode(),
            int(row.enabled),
            row.priority,
            now,
            now,
        ),
    )


def delete_connection(conn: apsw.Connection, name: str) -> bool:
    conn.execute("DELETE FROM connections WHERE name = ?", (name,))
    return conn.changes() > 0


# combos -----------------------------------------------------------------------------------


def list_combos(conn: apsw.Connection) -> tuple[ComboRow, ...]:
    rows = conn.execute(
        "SELECT name, strategy, targets, enabled, weights FROM combos ORDER BY name"
    )
    return tuple(
        ComboRow(
            name,
            strategy,
            tuple(orjson.loads(targets)),
            bool(enabled),
            tuple(orjson.loads(weights)),
        )
        for name, strategy, targets, enabled, weights in rows
    )


def upsert_combo(conn: apsw.Connection, row: ComboRow) -> None:
    now = time.time()
    conn.execute(
        "INSERT INTO combos(name, strategy, targets, enabled, weights, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
        "strategy = excluded.strategy, targets = excluded.targets, "
        "enabled = excluded.enabled, weights = excluded.weights, "
        "updated_at = excluded.updated_at",
        (
            row.name,
            row.strategy,
            orjson.dumps(list(row.targets)).decode(),
            int(row.enabled),
            orjson.dumps(list(row.weights)).decode(),
            now,
            now,
        ),
    )


def delete_combo(conn: apsw.Connection, name: str) -> bool:
    conn.execute("DELETE FROM combos WHERE name = ?", (name,))
    return conn.changes() > 0


# client API keys --------------------------------------------------------------------------


def list_api_keys(conn: apsw.Connection, *, include_revoked: bool = False) -> tuple[ApiKeyRow, ...]:
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    rows = conn.execute(
        f"SELECT id, name, key_hash, prefix, created_at, revoked_at FROM api_keys {where} "
        "ORDER BY created_at, name"
    )
    return tuple(ApiKeyRow(*row) for row in rows)


def insert_api_key(conn: apsw.Connection, name: str, key_hash: str, prefix: str) -> ApiKeyRow:
    row = ApiKeyRow(new_id(), name, key_hash, prefix, time.time(), None)
    conn.execute(
        "INSERT INTO api_keys(id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
        (row.id, row.name, row.key_hash, row.prefix, row.created_at),
    )
    return row


def revoke_api_key(conn: apsw.Connection, name: str) -> bool:
    conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        (time.time(), name),
    )
    return conn.changes() > 0


def find_api_key_by_hash(conn: apsw.Connection, key_hash: str) -> ApiKeyRow | None:
    row = conn.execute(
        "SELECT id, name, key_hash, prefix, created_at, revoked_at FROM api_keys "
        "WHERE key_hash = ?",
        (key_hash,),
    ).fetchone()
    return ApiKeyRow(*row) if row else None
