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
    # Rate limits (None: no limit of ours; the upstream's headers still teach the limiter).
    rpm: int | None = None
    min_gap_ms: int | None = None
    max_concurrent: int | None = None


@dataclass(frozen=True, slots=True)
class ComboRow:
    name: str
    strategy: str
    targets: tuple[str, ...]
    enabled: bool
    weights: tuple[float, ...] = ()  # one per target, for the weighted strategy; () = all 1
    system_prompt: str | None = None  # added to every request through this combo
    cache: bool | None = None  # response cache for this combo; None follows cache_enabled


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    name: str
    key_hash: str
    prefix: str
    created_at: float
    revoked_at: float | None
    allowed_models: tuple[str, ...] = ()  # shell-style patterns; () = every model
    rpm: int | None = None  # requests per minute this key may make
    requests_per_day: int | None = None


@dataclass(frozen=True, slots=True)
class ProviderSettingsRow:
    provider: str  # catalog id
    enabled: bool = True  # False: none of its connections is used
    hidden: bool = False  # True: its models are left out of the model lists


@dataclass(frozen=True, slots=True)
class PriceOverrideRow:
    """The user's price for "alias/model" (or every model of an alias, "alias/*"), USD per 1M
    tokens; cache prices None bill cached tokens at the input price."""

    model: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True, slots=True)
class QuotaRow:
    """A quota window the user set on a connection (docs/usage.md "Quota windows")."""

    connection: str  # its name
    window: str  # 5h, daily, weekly or monthly
    limit: float
    unit: str  # requests, tokens or usd
    reset_hour: int = 0
    reset_weekday: int = 0  # 0 = Monday
    reset_day: int = 1
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """A USD budget per day, week or month for a connection, provider, tier or client key."""

    scope: str  # connection, provider, tier or key
    name: str
    period: str  # day, week or month
    limit_usd: float


@dataclass(frozen=True, slots=True)
class ConfigState:
    """Everything the gateway's snapshot is built from, read in one transaction."""

    revision: int
    settings: dict[str, Any]
    connections: tuple[ConnectionRow, ...]
    combos: tuple[ComboRow, ...]
    api_keys: tuple[ApiKeyRow, ...]
    model_aliases: tuple[tuple[str, str], ...] = ()  # (alias, target)
    providers: tuple[ProviderSettingsRow, ...] = ()
    price_overrides: tuple[PriceOverrideRow, ...] = ()
    quotas: tuple[QuotaRow, ...] = ()
    budgets: tuple[BudgetRow, ...] = ()


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
            model_aliases=list_model_aliases(conn),
            providers=list_provider_settings(conn),
            price_overrides=list_price_overrides(conn),
            quotas=list_quotas(conn),
            budgets=list_budgets(conn),
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
    "id, name, provider, dialect, alias, base_url, secret_ref, models, enabled, priority, "
    "rpm, min_gap_ms, max_concurrent"
)


def _connection(row: tuple[Any, ...]) -> ConnectionRow:
    cid, name, provider, dialect, alias, base_url, secret_ref, models, enabled, priority = row[:10]
    rpm, min_gap_ms, max_concurrent = row[10:]
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
        rpm,
        min_gap_ms,
        max_concurrent,
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
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET provider = excluded.provider, "
        "dialect = excluded.dialect, alias = excluded.alias, base_url = excluded.base_url, "
        "secret_ref = excluded.secret_ref, models = excluded.models, "
        "enabled = excluded.enabled, priority = excluded.priority, rpm = excluded.rpm, "
        "min_gap_ms = excluded.min_gap_ms, max_concurrent = excluded.max_concurrent, "
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
            row.rpm,
            row.min_gap_ms,
            row.max_concurrent,
            now,
            now,
        ),
    )


def delete_connection(conn: apsw.Connection, name: str) -> bool:
    conn.execute("DELETE FROM connections WHERE name = ?", (name,))
    removed = conn.changes() > 0
    conn.execute("DELETE FROM quota_windows WHERE connection = ?", (name,))  # its own limits
    return removed


# combos -----------------------------------------------------------------------------------


def list_combos(conn: apsw.Connection) -> tuple[ComboRow, ...]:
    rows = conn.execute(
        "SELECT name, strategy, targets, enabled, weights, system_prompt, cache FROM combos "
        "ORDER BY name"
    )
    return tuple(
        ComboRow(
            name,
            strategy,
            tuple(orjson.loads(targets)),
            bool(enabled),
            tuple(orjson.loads(weights)),
            system_prompt,
            None if cache is None else bool(cache),
        )
        for name, strategy, targets, enabled, weights, system_prompt, cache in rows
    )


def upsert_combo(conn: apsw.Connection, row: ComboRow) -> None:
    now = time.time()
    conn.execute(
        "INSERT INTO combos(name, strategy, targets, enabled, weights, system_prompt, cache, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE "
        "SET strategy = excluded.strategy, targets = excluded.targets, "
        "enabled = excluded.enabled, weights = excluded.weights, "
        "system_prompt = excluded.system_prompt, cache = excluded.cache, "
        "updated_at = excluded.updated_at",
        (
            row.name,
            row.strategy,
            orjson.dumps(list(row.targets)).decode(),
            int(row.enabled),
            orjson.dumps(list(row.weights)).decode(),
            row.system_prompt,
            None if row.cache is None else int(row.cache),
            now,
            now,
        ),
    )


def delete_combo(conn: apsw.Connection, name: str) -> bool:
    conn.execute("DELETE FROM combos WHERE name = ?", (name,))
    return conn.changes() > 0


# client API keys --------------------------------------------------------------------------


_KEY_COLUMNS = (
    "id, name, key_hash, prefix, created_at, revoked_at, allowed_models, rpm, requests_per_day"
)


def _api_key(row: tuple[Any, ...]) -> ApiKeyRow:
    kid, name, key_hash, prefix, created_at, revoked_at, allowed, rpm, per_day = row
    return ApiKeyRow(
        kid,
        name,
        key_hash,
        prefix,
        created_at,
        revoked_at,
        tuple(orjson.loads(allowed)),
        rpm,
        per_day,
    )


def list_api_keys(conn: apsw.Connection, *, include_revoked: bool = False) -> tuple[ApiKeyRow, ...]:
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    rows = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, name")
    return tuple(_api_key(row) for row in rows)


def insert_api_key(
    conn: apsw.Connection,
    name: str,
    key_hash: str,
    prefix: str,
    *,
    allowed_models: tuple[str, ...] = (),
    rpm: int | None = None,
    requests_per_day: int | None = None,
) -> ApiKeyRow:
    row = ApiKeyRow(
        new_id(), name, key_hash, prefix, time.time(), None, allowed_models, rpm, requests_per_day
    )
    conn.execute(
        "INSERT INTO api_keys(id, name, key_hash, prefix, created_at, allowed_models, rpm, "
        "requests_per_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.id,
            row.name,
            row.key_hash,
            row.prefix,
            row.created_at,
            orjson.dumps(list(allowed_models)).decode(),
            rpm,
            requests_per_day,
        ),
    )
    return row


def set_key_limits(
    conn: apsw.Connection,
    name: str,
    *,
    allowed_models: tuple[str, ...],
    rpm: int | None,
    requests_per_day: int | None,
) -> bool:
    """Replace an active key's allowed models and request limits."""
    conn.execute(
        "UPDATE api_keys SET allowed_models = ?, rpm = ?, requests_per_day = ? "
        "WHERE name = ? AND revoked_at IS NULL",
        (orjson.dumps(list(allowed_models)).decode(), rpm, requests_per_day, name),
    )
    return conn.changes() > 0


def revoke_api_key(conn: apsw.Connection, name: str) -> bool:
    conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        (time.time(), name),
    )
    return conn.changes() > 0


def find_api_key_by_hash(conn: apsw.Connection, key_hash: str) -> ApiKeyRow | None:
    row = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,))
    found = row.fetchone()
    return _api_key(found) if found else None


# model aliases ----------------------------------------------------------------------------


def list_model_aliases(conn: apsw.Connection) -> tuple[tuple[str, str], ...]:
    rows = conn.execute("SELECT name, target FROM model_aliases ORDER BY name")
    return tuple((name, target) for name, target in rows)


def upsert_model_alias(conn: apsw.Connection, name: str, target: str) -> None:
    conn.execute(
        "INSERT INTO model_aliases(name, target, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET target = excluded.target, "
        "updated_at = excluded.updated_at",
        (name, target, time.time()),
    )


def delete_model_alias(conn: apsw.Connection, name: str) -> bool:
    conn.execute("DELETE FROM model_aliases WHERE name = ?", (name,))
    return conn.changes() > 0


# provider switches ------------------------------------------------------------------------


def list_provider_settings(conn: apsw.Connection) -> tuple[ProviderSettingsRow, ...]:
    rows = conn.execute("SELECT provider, enabled, hidden FROM provider_settings ORDER BY provider")
    return tuple(ProviderSettingsRow(p, bool(e), bool(h)) for p, e, h in rows)


def upsert_provider_settings(conn: apsw.Connection, row: ProviderSettingsRow) -> None:
    """Store a provider's switches; the defaults (enabled, shown) leave no row behind."""
    if row.enabled and not row.hidden:
        conn.execute("DELETE FROM provider_settings WHERE provider = ?", (row.provider,))
        return
    conn.execute(
        "INSERT INTO provider_settings(provider, enabled, hidden, updated_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(provider) DO UPDATE SET enabled = excluded.enabled, "
        "hidden = excluded.hidden, updated_at = excluded.updated_at",
        (row.provider, int(row.enabled), int(row.hidden), time.time()),
    )


# price overrides ----------------------------------------------------------------------------


def list_price_overrides(conn: apsw.Connection) -> tuple[PriceOverrideRow, ...]:
    rows = conn.execute(
        "SELECT model, input, output, cache_read, cache_write FROM price_overrides ORDER BY model"
    )
    return tuple(PriceOverrideRow(*row) for row in rows)


def upsert_price_override(conn: apsw.Connection, row: PriceOverrideRow) -> None:
    conn.execute(
        "INSERT INTO price_overrides(model, input, output, cache_read, cache_write, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(model) DO UPDATE SET input = excluded.input, "
        "output = excluded.output, cache_read = excluded.cache_read, "
        "cache_write = excluded.cache_write, updated_at = excluded.updated_at",
        (row.model, row.input, row.output, row.cache_read, row.cache_write, time.time()),
    )


def delete_price_override(conn: apsw.Connection, model: str) -> bool:
    conn.execute("DELETE FROM price_overrides WHERE model = ?", (model,))
    return conn.changes() > 0


# quota windows and budgets ------------------------------------------------------------------

_QUOTA_COLUMNS = (
    "connection, window, limit_value, unit, reset_hour, reset_weekday, reset_day, timezone"
)


def list_quotas(conn: apsw.Connection) -> tuple[QuotaRow, ...]:
    rows = conn.execute(f"SELECT {_QUOTA_COLUMNS} FROM quota_windows ORDER BY connection, window")
    return tuple(QuotaRow(*row) for row in rows)


def upsert_quota(conn: apsw.Connection, row: QuotaRow) -> None:
    conn.execute(
        f"INSERT INTO quota_windows({_QUOTA_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?) ON CONFLICT(connection, window) DO UPDATE SET limit_value = excluded.limit_value, "
        "unit = excluded.unit, reset_hour = excluded.reset_hour, "
        "reset_weekday = excluded.reset_weekday, reset_day = excluded.reset_day, "
        "timezone = excluded.timezone, updated_at = excluded.updated_at",
        (
            row.connection,
            row.window,
            row.limit,
            row.unit,
            row.reset_hour,
            row.reset_weekday,
            row.reset_day,
            row.timezone,
            time.time(),
        ),
    )


def delete_quota(conn: apsw.Connection, connection: str, window: str | None) -> int:
    """Remove one window of a connection, or all of them (``window`` None); how many."""
    if window is None:
        conn.execute("DELETE FROM quota_windows WHERE connection = ?", (connection,))
    else:
        conn.execute(
            "DELETE FROM quota_windows WHERE connection = ? AND window = ?", (connection, window)
        )
    return conn.changes()


def list_budgets(conn: apsw.Connection) -> tuple[BudgetRow, ...]:
    rows = conn.execute(
        "SELECT scope, name, period, limit_usd FROM budgets ORDER BY scope, name, period"
    )
    return tuple(BudgetRow(*row) for row in rows)


def upsert_budget(conn: apsw.Connection, row: BudgetRow) -> None:
    conn.execute(
        "INSERT INTO budgets(scope, name, period, limit_usd, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(scope, name, period) DO UPDATE SET limit_usd = excluded.limit_usd, "
        "updated_at = excluded.updated_at",
        (row.scope, row.name, row.period, row.limit_usd, time.time()),
    )


def delete_budget(conn: apsw.Connection, scope: str, name: str, period: str | None) -> int:
    if period is None:
        conn.execute("DELETE FROM budgets WHERE scope = ? AND name = ?", (scope, name))
    else:
        conn.execute(
            "DELETE FROM budgets WHERE scope = ? AND name = ? AND period = ?",
            (scope, name, period),
        )
    return conn.changes()
