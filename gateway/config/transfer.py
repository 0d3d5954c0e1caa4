"""``switchboard config import`` and ``export``: the whole configuration as one file.

Import is atomic: every entry is validated against the catalog, the current state and the
rest of the file first; then secrets are stored and one transaction writes everything. Entries
are matched by name: an existing connection, combo or key of the same name is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import apsw

from gateway.config import repository as repo
from gateway.config.commands import (
    ConfigError,
    Context,
    budget_row,
    combo_row,
    connection_row,
    entry_from_row,
    price_row,
    quota_row,
    secret_name,
    write_with_secrets,
)
from gateway.config.file_format import ConfigFile
from gateway.config.settings import coerce_setting
from gateway.config.validation import (
    check_budgets,
    check_combos,
    check_connection,
    check_custom_aliases,
    check_exposure,
    check_model_aliases,
    check_providers,
    check_quotas,
    price_key,
)
from gateway.security.api_keys import display_prefix, generate_key, hash_key
from gateway.usage.windows import WEEKDAYS


@dataclass
class ImportReport:
    settings: int = 0
    connections: int = 0
    combos: int = 0
    api_keys: int = 0
    model_aliases: int = 0
    providers: int = 0
    prices: int = 0
    quotas: int = 0
    budgets: int = 0
    generated_keys: list[tuple[str, str]] = field(default_factory=list)  # (name, plaintext)


def import_config(ctx: Context, file: ConfigFile) -> ImportReport:
    state = ctx.store.state()
    problems: list[str] = []

    settings: dict[str, Any] = {}
    for name, value in file.settings.items():
        try:
            settings[name] = coerce_setting(name, value)
        except ValueError as exc:
            problems.append(str(exc))
    merged = {**state.settings, **settings}
    if exposure := check_exposure(
        str(merged.get("host", "127.0.0.1")), bool(merged.get("require_api_key", True))
    ):
        problems.append(f"settings: {exposure}")

    problems += _duplicates("connections", [c.name for c in file.connections])
    problems += _duplicates("combos", [c.name for c in file.combos])
    problems += _duplicates("api_keys", [k.name for k in file.api_keys])

    existing_connections = {c.name: c for c in state.connections}
    labelled = [(f"connections[{i}] ({c.name!r})", c) for i, c in enumerate(file.connections)]
    for where, entry in labelled:
        old = existing_connections.get(entry.name)
        stored = bool(old and old.secret_ref)  # re-importing an export keeps the stored key
        problems += check_connection(entry, ctx.catalog, where, has_stored_key=stored)
    incoming_names = {c.name for c in file.connections}
    kept = [
        (f"connection {c.name!r}", entry_from_row(c))
        for c in state.connections
        if c.name not in incoming_names
    ]
    problems += check_custom_aliases([*kept, *labelled])

    aliases = {c.alias for c in state.connections if c.alias} | {
        c.alias for c in file.connections if c.alias
    }
    existing_combos = {c.name: c.targets for c in state.combos}
    model_aliases = {**dict(state.model_aliases), **file.model_aliases}
    problems += check_combos(
        [(f"combos[{i}] ({c.name!r})", c) for i, c in enumerate(file.combos)],
        ctx.catalog,
        aliases,
        existing_combos,
        model_aliases,
    )
    combo_names = set(existing_combos) | {c.name for c in file.combos}
    problems += check_model_aliases(file.model_aliases, ctx.catalog, aliases, combo_names)
    problems += [
        f"combos ({name!r}): a model alias has that name; choose another"
        for name in (c.name for c in file.combos)
        if name in model_aliases
    ]
    problems += check_providers(file.providers, ctx.catalog, "providers")
    prices = {}
    for name, price in file.prices.items():
        key, problem = price_key(name, ctx.catalog, aliases)
        if key is None:
            problems.append(f"prices.{problem}")
        elif key in prices:
            problems.append(f"prices.{name!r}: the same model as another entry ({key!r})")
        else:
            prices[key] = price

    active_keys = {k.name: k for k in state.api_keys}
    key_plan: list[tuple[str, str, bool]] = []  # (name, plaintext, generated)
    key_entries = {k.name: k for k in file.api_keys}
    for key_entry in file.api_keys:
        if key_entry.key is not None:
            key_plan.append((key_entry.name, key_entry.key, False))
        elif key_entry.name not in active_keys:
            key_plan.append((key_entry.name, generate_key(), True))
    hashes = [hash_key(plain) for _, plain, _ in key_plan]
    problems += _duplicates("api_keys[].key", hashes, show=False)
    for (name, _, _), key_hash in zip(key_plan, hashes, strict=True):
        owner = next((k.name for k in state.api_keys if k.key_hash == key_hash), None)
        if owner is not None and owner != name:
            problems.append(f"api_keys ({name!r}).key: that key is already registered as {owner!r}")

    connection_names = {c.name for c in state.connections} | incoming_names
    problems += check_quotas(
        [(f"quotas[{i}]", q) for i, q in enumerate(file.quotas)], connection_names
    )
    problems += check_budgets(
        [(f"budgets[{i}]", b) for i, b in enumerate(file.budgets)],
        ctx.catalog,
        connection_names,
        set(active_keys) | set(key_entries),
    )

    if problems:
        raise ConfigError("\n".join(problems))

    rows = [
        connection_row(entry, existing_connections.get(entry.name), None)
        for entry in file.connections
    ]
    names = {row.id: secret_name(row.id) for row in rows}
    pending = [
        (names[row.id], entry.api_key)
        for row, entry in zip(rows, file.connections, strict=True)
        if entry.api_key
    ]

    def write(conn: apsw.Connection, refs: dict[str, str]) -> None:
        for name, value in settings.items():
            repo.write_setting(conn, name, value)
        for row, entry in zip(rows, file.connections, strict=True):
            old = existing_connections.get(entry.name)
            ref = refs.get(names[row.id]) or (old.secret_ref if old else None)
            repo.upsert_connection(conn, replace(row, secret_ref=ref))
        for combo in file.combos:
            repo.upsert_combo(conn, combo_row(combo))
        for (name, plaintext, _), key_hash in zip(key_plan, hashes, strict=True):
            owner = repo.find_api_key_by_hash(conn, key_hash)
            if owner is not None and owner.revoked_at is None and owner.name == name:
                continue  # importing the same key again changes nothing (limits: below)
            repo.revoke_api_key(conn, name)
            repo.insert_api_key(conn, name, key_hash, display_prefix(plaintext))
        for name, key_entry in key_entries.items():
            repo.set_key_limits(
                conn,
                name,
                allowed_models=tuple(key_entry.allowed_models),
                rpm=key_entry.rpm,
                requests_per_day=key_entry.requests_per_day,
            )
        for alias, target in file.model_aliases.items():
            repo.upsert_model_alias(conn, alias, target)
        for provider, switches in file.providers.items():
            repo.upsert_provider_settings(
                conn, repo.ProviderSettingsRow(provider, switches.enabled, switches.hidden)
            )
        for key, price in prices.items():
            repo.upsert_price_override(conn, price_row(key, price))
        for quota in file.quotas:
            repo.upsert_quota(conn, quota_row(quota))
        for budget in file.budgets:
            repo.upsert_budget(conn, budget_row(budget))

    write_with_secrets(ctx, pending, write)
    for entry in file.connections:
        old = existing_connections.get(entry.name)
        if old and old.secret_ref and entry.api_key:
            ctx.secrets.delete(old.secret_ref)  # replaced by the imported key

    return ImportReport(
        settings=len(settings),
        connections=len(file.connections),
        combos=len(file.combos),
        api_keys=len(key_plan),
        model_aliases=len(file.model_aliases),
        providers=len(file.providers),
        prices=len(prices),
        quotas=len(file.quotas),
        budgets=len(file.budgets),
        generated_keys=[(name, plain) for name, plain, generated in key_plan if generated],
    )


def export_config(ctx: Context, *, with_secrets: bool = False) -> dict[str, Any]:
    """The configuration in the import format. Client API keys are exported by name only:
    only their hashes exist. Connection API keys are included only with ``with_secrets``."""
    state = ctx.store.state()
    connections = []
    for row in state.connections:
        item: dict[str, Any] = {"name": row.name, "provider": row.provider}
        if row.dialect:
            item["dialect"] = row.dialect
        if row.alias:
            item["alias"] = row.alias
        if row.base_url:
            item["base_url"] = row.base_url
        if with_secrets and row.secret_ref:
            item["api_key"] = ctx.secrets.get(row.secret_ref)
        item["priority"] = row.priority
        item["enabled"] = row.enabled
        if row.models:
            item["models"] = list(row.models)
        for limit in ("rpm", "min_gap_ms", "max_concurrent"):
            if (value := getattr(row, limit)) is not None:
                item[limit] = value
        connections.append(item)
    exported: dict[str, Any] = {
        "settings": dict(sorted(state.settings.items())),
        "api_keys": [_key(key) for key in state.api_keys],
        "connections": connections,
        "combos": [_combo(c) for c in state.combos],
    }
    if state.model_aliases:
        exported["model_aliases"] = dict(state.model_aliases)
    if state.providers:
        exported["providers"] = {
            p.provider: {"enabled": p.enabled, "hidden": p.hidden} for p in state.providers
        }
    if state.price_overrides:
        exported["prices"] = {row.model: _price(row) for row in state.price_overrides}
    if state.quotas:
        exported["quotas"] = [_quota(row) for row in state.quotas]
    if state.budgets:
        exported["budgets"] = [
            {"scope": b.scope, "name": b.name, "period": b.period, "limit_usd": b.limit_usd}
            for b in state.budgets
        ]
    return exported


def _quota(row: repo.QuotaRow) -> dict[str, Any]:
    item: dict[str, Any] = {
        "connection": row.connection,
        "window": row.window,
        "limit": row.limit,
        "unit": row.unit,
    }
    if row.window != "5h":
        item["reset_hour"] = row.reset_hour
        item["timezone"] = row.timezone
    if row.window == "weekly":
        item["reset_weekday"] = WEEKDAYS[row.reset_weekday]
    if row.window == "monthly":
        item["reset_day"] = row.reset_day
    return item


def _price(row: repo.PriceOverrideRow) -> dict[str, float]:
    item = {"input": row.input, "output": row.output}
    if row.cache_read is not None:
        item["cache_read"] = row.cache_read
    if row.cache_write is not None:
        item["cache_write"] = row.cache_write
    return item


def _key(row: repo.ApiKeyRow) -> dict[str, Any]:
    item: dict[str, Any] = {"name": row.name}
    if row.allowed_models:
        item["allowed_models"] = list(row.allowed_models)
    if row.rpm is not None:
        item["rpm"] = row.rpm
    if row.requests_per_day is not None:
        item["requests_per_day"] = row.requests_per_day
    return item


def _combo(row: repo.ComboRow) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": row.name,
        "strategy": row.strategy,
        "targets": list(row.targets),
        "enabled": row.enabled,
    }
    if row.weights:
        item["weights"] = list(row.weights)
    if row.system_prompt is not None:
        item["system_prompt"] = row.system_prompt
    if row.cache is not None:
        item["cache"] = row.cache
    return item


def _duplicates(section: str, names: list[str], *, show: bool = True) -> list[str]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            label = f" {name!r}" if show else ""
            problems.append(f"{section}: duplicate entry{label}")
        seen.add(name)
    return problems
