"""The immutable view of the configuration that the request path reads.

A configuration change writes the database, builds a new Snapshot off the event loop and
swaps one reference: requests in flight keep the snapshot they started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway.config.repository import ComboRow, ConfigState, ConnectionRow
from gateway.config.settings import SETTINGS_BY_NAME, coerce_setting, defaults
from gateway.providers.catalog import Catalog, ProviderInfo
from gateway.providers.pricing import ModelPrice, PriceBook
from gateway.security.secrets import Secrets, SecretStoreError
from gateway.usage.limits import Limit, QuotaSpec, budget_limits, quota_limits, weekday_number

_EMPTY: Mapping[str, str] = MappingProxyType({})
_EMPTY_WINDOWS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed settings; the field names are exactly the names in settings.SETTINGS."""

    require_api_key: bool = True
    host: str = "127.0.0.1"
    port: int = 20128
    max_body_mb: int = 32
    upstream_connect_timeout_s: float = 10.0
    upstream_read_timeout_s: float = 300.0
    log_retention_days: int = 30
    usage_retention_days: int = 400
    account_strategy: str = "fill-first"
    sticky_uses: int = 3
    max_attempts: int = 10
    provider_breaker_failures: int = 8
    provider_breaker_open_s: float = 60.0
    connection_breaker_failures: int = 5
    connection_breaker_open_s: float = 30.0
    rate_limit_max_wait_s: float = 30.0
    rate_limit_queue_size: int = 100
    dedup_window_s: float = 5.0
    cache_enabled: bool = False
    cache_ttl_s: int = 1800
    cache_max_mb: int = 64
    system_prompt: str = ""
    thinking_mode: str = "passthrough"
    thinking_budget: int = 8192
    notify_quota_warning: bool = True
    notify_quota_exhausted: bool = True
    notify_quota_reset: bool = True
    notify_quota_forecast: bool = False
    notify_budget_crossed: bool = True
    notify_provider_down: bool = True
    notify_provider_recovered: bool = True
    notify_login_needed: bool = True
    notify_gateway_failed: bool = True
    start_at_login: bool = False
    quota_threshold_percent: float = 99.0
    budget_timezone: str = "local"
    start_minimized: bool = False
    close_to_tray: bool = True
    theme: str = "system"
    language: str = "system"

    @classmethod
    def from_stored(cls, stored: Mapping[str, object]) -> Settings:
        values = defaults()
        for name, value in stored.items():
            if name in SETTINGS_BY_NAME:  # a setting from a newer version is kept, not used
                values[name] = coerce_setting(name, value)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Upstream:
    """One connection, resolved against the catalog, ready to send requests."""

    connection_id: str
    connection: str
    provider: str
    provider_name: str
    alias: str
    dialect: str
    base_url: str
    headers: Mapping[str, str]  # content type, provider defaults, auth
    models: frozenset[str]  # catalog models plus the connection's own
    priority: int
    problem: str | None = None  # set when the connection cannot be used (e.g. secret unreadable)
    default_model: str | None = None  # used by `connection test` when no model is given
    # The connection's own rate limits (None: none configured; headers may still teach some).
    rpm: int | None = None
    min_gap_ms: int | None = None
    max_concurrent: int | None = None
    context_windows: Mapping[str, int] = field(default_factory=lambda: _EMPTY_WINDOWS)
    model_list: tuple[str, ...] = ()  # ``models`` in order: catalog order, then the connection's


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """What one client API key may do (docs/routing.md "Behaviour controls")."""

    allowed_models: tuple[str, ...] = ()  # shell-style patterns; () = every model
    rpm: int | None = None
    requests_per_day: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    revision: int
    settings: Settings
    key_names_by_hash: Mapping[str, str]
    upstreams_by_prefix: Mapping[str, tuple[Upstream, ...]]
    combos: Mapping[str, ComboRow]
    providers_by_model: Mapping[str, tuple[str, ...]]  # bare model id -> aliases offering it
    upstreams: tuple[Upstream, ...] = field(default=())
    # "alias/model" -> blended USD per 1M tokens (3 input : 1 output) for cost-optimized combos
    costs: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    # user alias -> target (alias/model or combo)
    model_aliases: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    hidden_providers: frozenset[str] = frozenset()  # provider ids left out of model lists
    key_policies: Mapping[str, KeyPolicy] = field(  # by key name; absent = no restriction
        default_factory=lambda: MappingProxyType({})
    )
    prices: PriceBook = field(default_factory=PriceBook.empty)  # what each request costs
    # Quota windows and budgets (docs/usage.md); tiers: upstream provider -> catalog tier.
    limits: tuple[Limit, ...] = ()
    tiers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def empty(cls) -> Snapshot:
        return cls(
            0, Settings(), _EMPTY, MappingProxyType({}), MappingProxyType({}), MappingProxyType({})
        )


def provider_for(row_provider: str, dialect: str | None, catalog: Catalog) -> ProviderInfo | None:
    """The catalog entry behind a connection: a catalog id, or "custom" plus a dialect."""
    if row_provider == "custom":
        return catalog.custom_template(dialect) if dialect else None  # type: ignore[arg-type]
    return catalog.get(row_provider)


def auth_headers(auth: str, api_key: str | None) -> dict[str, str]:
    if not api_key or auth == "none":
        return {}
    if auth == "bearer":
        return {"Authorization": f"Bearer {api_key}"}
    return {auth: api_key}  # "x-api-key" and "x-goog-api-key" are header names


def upstream_for(row: ConnectionRow, catalog: Catalog, secrets: Secrets) -> Upstream | None:
    """The connection ready to use, or None when its provider left the catalog."""
    info = provider_for(row.provider, row.dialect, catalog)
    if info is None:
        return None
    problem = None
    api_key = None
    if row.secret_ref:
        try:
            api_key = secrets.get(row.secret_ref)
        except SecretStoreError as exc:
            problem = f"its API key cannot be read: {exc}"
    headers = {
        "Content-Type": "application/json",
        # Uncompressed: nothing to inflate per chunk, and streams reach the client sooner.
        "Accept-Encoding": "identity",
        **info.headers,
        **auth_headers(info.auth, api_key),
    }
    return Upstream(
        connection_id=row.id,
        connection=row.name,
        # Custom servers are unrelated to each other: each alias is a provider of its own (its
        # own breaker, health group and log name), not one "custom-openai" for them all.
        provider=f"{info.id}:{row.alias}" if info.custom and row.alias else info.id,
        provider_name=info.name,
        alias=(row.alias or info.alias) if info.custom else info.alias,
        dialect=info.dialect,
        base_url=(row.base_url or info.base_url).rstrip("/"),
        headers=MappingProxyType(headers),
        models=frozenset(model.id for model in info.models) | frozenset(row.models),
        priority=row.priority,
        problem=problem,
        default_model=row.models[0] if row.models else (info.models[0].id if info.models else None),
        rpm=row.rpm,
        min_gap_ms=row.min_gap_ms,
        max_concurrent=row.max_concurrent,
        context_windows=MappingProxyType({m.id: m.context_window for m in info.models}),
        model_list=tuple(dict.fromkeys([*(model.id for model in info.models), *row.models])),
    )


def build_snapshot(state: ConfigState, catalog: Catalog, secrets: Secrets) -> Snapshot:
    """Blocking (reads secrets): call it off the event loop."""
    settings = Settings.from_stored(state.settings)
    disabled = {p.provider for p in state.providers if not p.enabled}
    upstreams = [
        u
        for row in state.connections
        if row.enabled
        if (u := upstream_for(row, catalog, secrets)) is not None
        if u.provider not in disabled
    ]
    upstreams.sort(key=lambda u: (u.priority, u.connection))

    by_prefix: dict[str, list[Upstream]] = {}
    providers_by_model: dict[str, list[str]] = {}
    for upstream in upstreams:
        info = catalog.get(upstream.provider)
        prefixes = {upstream.alias}
        if info is not None and not info.custom:
            prefixes |= {info.id, *info.legacy_aliases}
        for prefix in prefixes:
            by_prefix.setdefault(prefix, []).append(upstream)
        for model in upstream.models:
            aliases = providers_by_model.setdefault(model, [])
            if upstream.alias not in aliases:
                aliases.append(upstream.alias)

    prices = price_book(state, catalog)
    costs: dict[str, float] = {}
    for upstream in upstreams:
        for model in upstream.models:
            price = prices.quote(upstream.alias, upstream.provider, model).price
            if price is not None:
                costs[f"{upstream.alias}/{model}"] = (3 * price.input + price.output) / 4
    active_keys = [row for row in state.api_keys if row.revoked_at is None]
    keys = {row.key_hash: row.name for row in active_keys}
    policies = {
        row.name: KeyPolicy(row.allowed_models, row.rpm, row.requests_per_day)
        for row in active_keys
        if row.allowed_models or row.rpm is not None or row.requests_per_day is not None
    }
    return Snapshot(
        revision=state.revision,
        settings=settings,
        key_names_by_hash=MappingProxyType(keys),
        upstreams_by_prefix=MappingProxyType({k: tuple(v) for k, v in by_prefix.items()}),
        combos=MappingProxyType({c.name: c for c in state.combos if c.enabled}),
        providers_by_model=MappingProxyType({k: tuple(v) for k, v in providers_by_model.items()}),
        upstreams=tuple(upstreams),
        costs=MappingProxyType(costs),
        model_aliases=MappingProxyType(dict(state.model_aliases)),
        hidden_providers=frozenset(p.provider for p in state.providers if p.hidden),
        key_policies=MappingProxyType(policies),
        prices=prices,
        limits=tuple(usage_limits(state, catalog, _providers_of(upstreams, catalog), settings)),
        tiers=MappingProxyType(
            {u.provider: info.tier for u in upstreams if (info := _info(u, catalog)) is not None}
        ),
    )


def _info(upstream: Upstream, catalog: Catalog) -> ProviderInfo | None:
    return catalog.get(upstream.provider.split(":", 1)[0])  # custom: "custom-openai:alias"


def _providers_of(upstreams: list[Upstream], catalog: Catalog) -> list[tuple[str, str]]:
    return [
        (u.connection, found.id if (found := _info(u, catalog)) is not None else "")
        for u in upstreams
    ]


def offline_limits(state: ConfigState, catalog: Catalog) -> tuple[list[Limit], dict[str, str]]:
    """The limits and tiers (by logged provider) without reading secrets: for the CLI."""
    connections: list[tuple[str, str]] = []
    tiers: dict[str, str] = {}
    for row in state.connections:
        info = provider_for(row.provider, row.dialect, catalog)
        if info is None or not row.enabled:
            continue
        connections.append((row.name, info.id))
        logged = f"{info.id}:{row.alias}" if info.custom and row.alias else info.id
        tiers[logged] = info.tier
    settings = Settings.from_stored(state.settings)
    return usage_limits(state, catalog, connections, settings), tiers


def usage_limits(
    state: ConfigState, catalog: Catalog, connections: list[tuple[str, str]], settings: Settings
) -> list[Limit]:
    """The quota windows of ``connections`` ((name, catalog provider id) of each enabled
    one), then every budget."""
    user: dict[str, list[QuotaSpec]] = {}
    for row in state.quotas:
        user.setdefault(row.connection, []).append(
            QuotaSpec(
                row.window,  # type: ignore[arg-type]
                row.limit,
                row.unit,  # type: ignore[arg-type]
                row.reset_hour,
                row.reset_weekday,
                row.reset_day,
                row.timezone,
            )
        )
    shipped: dict[str, list[QuotaSpec]] = {}
    for info in catalog.providers:
        shipped[info.id] = [
            QuotaSpec(
                w.window,
                w.limit,
                w.unit,
                w.reset_hour,
                weekday_number(w.reset_weekday),
                w.reset_day,
                w.timezone,
            )
            for w in info.quota_windows
        ]
    budgets = [(b.scope, b.name, b.period, b.limit_usd) for b in state.budgets]
    return [
        *quota_limits(connections, user, shipped),
        *budget_limits(budgets, settings.budget_timezone),
    ]


def price_book(state: ConfigState, catalog: Catalog) -> PriceBook:
    """The shipped prices under the user's own (docs/usage.md "Pricing")."""
    overrides = [
        (row.model, ModelPrice.model_validate(row, from_attributes=True))
        for row in state.price_overrides
    ]
    return PriceBook(catalog.prices, {p.id: p.tier for p in catalog.providers}, overrides)
