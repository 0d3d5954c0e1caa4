"""The migration lists for switchboard.db and logs.db.

Append-only: once a migration has shipped, never edit or reorder it; add a new one instead.
"""

from __future__ import annotations

from gateway.observe.histogram import BUCKETS, bucket_case_sql
from gateway.store.migrations import Migration

# The hourly usage rollup: one row per UTC hour x provider x model x connection x client key
# (docs/usage.md); "" stands for "none" so the key is unique. Latency is also kept as a
# histogram, one column per bucket of gateway/observe/histogram.py.
_LATENCY_COLUMNS = [f"lat_{i:02d}" for i in range(BUCKETS)]
_USAGE_HOURLY = f"""
CREATE TABLE usage_hourly(
    hour INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    connection TEXT NOT NULL,
    key_name TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    estimated INTEGER NOT NULL DEFAULT 0,
    unpriced INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    latency_ms REAL NOT NULL DEFAULT 0,
    {", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in _LATENCY_COLUMNS)},
    PRIMARY KEY(hour, provider, model, connection, key_name)
) WITHOUT ROWID;
"""
# Requests logged before this migration are rolled up once, as the writer would have (they
# were never priced: their tokens count as not priced).
_BACKFILL_USAGE = f"""
INSERT INTO usage_hourly(hour, provider, model, connection, key_name, requests, succeeded,
    tokens_in, tokens_out, unpriced, latency_ms, {", ".join(_LATENCY_COLUMNS)})
SELECT hour, provider, model, connection, key_name, count(*), sum(ok),
    sum(coalesce(tokens_in, 0)), sum(coalesce(tokens_out, 0)), sum(has_tokens), sum(latency_ms),
    {", ".join(f"sum(bucket = {i})" for i in range(BUCKETS))}
FROM (SELECT CAST(ts / 3600 AS INTEGER) * 3600 AS hour, coalesce(provider, '') AS provider,
    coalesce(upstream_model, requested_model, '') AS model,
    coalesce(connection, '') AS connection, coalesce(key_name, '') AS key_name,
    (status >= 200 AND status < 400
        AND (error IS NULL OR error = 'client disconnected')) AS ok,
    CASE WHEN provider IS NULL THEN NULL ELSE tokens_in END AS tokens_in,
    CASE WHEN provider IS NULL THEN NULL ELSE tokens_out END AS tokens_out,
    (provider IS NOT NULL AND (tokens_in IS NOT NULL OR tokens_out IS NOT NULL)) AS has_tokens,
    latency_ms, {bucket_case_sql("latency_ms")} AS bucket
    FROM request_log)
GROUP BY hour, provider, model, connection, key_name;
"""

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
    Migration(
        name="0007_quota_budgets",
        sql="""
CREATE TABLE quota_windows(
    connection TEXT NOT NULL,
    window TEXT NOT NULL,
    limit_value REAL NOT NULL,
    unit TEXT NOT NULL,
    reset_hour INTEGER NOT NULL DEFAULT 0,
    reset_weekday INTEGER NOT NULL DEFAULT 0,
    reset_day INTEGER NOT NULL DEFAULT 1,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    updated_at REAL NOT NULL,
    PRIMARY KEY(connection, window)
);
CREATE TABLE budgets(
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    period TEXT NOT NULL,
    limit_usd REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY(scope, name, period)
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
    Migration(
        name="0003_replays",
        sql="""
ALTER TABLE request_log ADD COLUMN replay TEXT;
ALTER TABLE response_cache ADD COLUMN tokens_in INTEGER;
ALTER TABLE response_cache ADD COLUMN tokens_out INTEGER;
""",
    ),
    Migration(
        name="0004_usage_cost",
        sql="""
ALTER TABLE request_log ADD COLUMN cached_tokens INTEGER;
ALTER TABLE request_log ADD COLUMN cache_write_tokens INTEGER;
ALTER TABLE request_log ADD COLUMN reasoning_tokens INTEGER;
ALTER TABLE request_log ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_log ADD COLUMN cost_usd REAL;
ALTER TABLE request_log ADD COLUMN price_source TEXT;
"""
        + _USAGE_HOURLY
        + _BACKFILL_USAGE,
    ),
    Migration(
        # Quota counters read one connection's recent requests at start; quota events fire
        # once per window (docs/usage.md "Events"), also across restarts.
        name="0005_quota_events",
        sql="""
CREATE INDEX request_log_connection_ts ON request_log(connection, ts);
CREATE TABLE quota_events(
    scope TEXT NOT NULL,
    window TEXT NOT NULL,
    window_start REAL NOT NULL,
    kind TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY(scope, window, window_start, kind)
) WITHOUT ROWID;
""",
    ),
)
