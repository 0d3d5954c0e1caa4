"""The migration lists for switchboard.db and logs.db.

Append-only: once a migration has shipped, never edit or reorder it; add a new one instead.
"""

from __future__ import annotations

from gateway.store.migrations import Migration

CONFIG_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        name="0001_settings",
        sql="""
CREATE TABLE meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE settings(
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta(key, value) VALUES ('config_revision', '0');
""",
    ),
    Migration(
        name="0002_connections_combos",
        sql="""
CREATE TABLE connections(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    dialect TEXT,
    alias TEXT,
    base_url TEXT,
    secret_ref TEXT,
    models TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    priority INTEGER NOT NULL DEFAULT 100,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE combos(
    name TEXT PRIMARY KEY,
    strategy TEXT NOT NULL,
    targets TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
""",
    ),
    Migration(
        name="0003_api_keys",
        sql="""
CREATE TABLE api_keys(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL;
""",
    ),
    Migration(
        name="0004_combo_weights",
        sql="ALTER TABLE combos ADD COLUMN weights TEXT NOT NULL DEFAULT '[]';",
    ),
    Migration(
        name="0005_routing_controls",
        sql="""
ALTER TABLE connections ADD COLUMN rpm INTEGER;
ALTER TABLE connections ADD COLUMN min_gap_ms INTEGER;
ALTER TABLE connections ADD COLUMN max_concurrent INTEGER;
ALTER TABLE combos ADD COLUMN system_prompt TEXT;
ALTER TABLE combos ADD COLUMN cache INTEGER;
ALTER TABLE api_keys ADD COLUMN allowed_models TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN rpm INTEGER;
ALTER TABLE api_keys ADD COLUMN requests_per_day INTEGER;
CREATE TABLE model_aliases(
    name TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE provider_settings(
    provider TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL DEFAULT 1,
    hidden INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
""",
    ),
    Migration(
        name="0006_price_overrides",
        sql="""
CREATE TABLE price_overrides(
    model TEXT PRIMARY KEY,
    input REAL NOT NULL,
    output REAL NOT NULL,
    cache_read REAL,
    cache_write REAL,
    updated_at REAL NOT NULL
);
""",
    ),
)

LOGS_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        name="0001_request_log",
        sql="""
CREATE TABLE request_log(
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    request_id TEXT NOT NULL,
    key_name TEXT,
    client_dialect TEXT NOT NULL,
    requested_model TEXT,
    provider TEXT,
    connection TEXT,
    upstream_model TEXT,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    ttfb_ms REAL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    error TEXT,
    stream INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX request_log_ts ON request_log(ts);
""",
    ),
    Migration(
        name="0002_response_cache",
        sql="""
CREATE TABLE response_cache(
    key TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX response_cache_expires ON response_cache(expires_at);
""",
    ),
)
