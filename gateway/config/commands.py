"""Configuration changes: the operations behind the CLI, the importer and (later) the GUI.

Every function is blocking (database writes, keyring calls): the gateway runs them with
``asyncio.to_thread``. Each validates first, stores secrets, then writes the database in one
transaction that also bumps the configuration revision; on failure nothing is left behind.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import apsw
from pydantic import ValidationError

from gateway.config import repository as repo
from gateway.config.file_format import (
    ALIAS_NAME_PATTERN,
    NAME_PATTERN,
    NAME_RULE,
    ApiKeyEntry,
    BudgetEntry,
    ComboEntry,
    ConnectionEntry,
    PriceEntry,
    QuotaEntry,
    format_validation_error,
)
from gateway.config.settings import coerce_setting
from gateway.config.store import ConfigStore
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
from gateway.providers.catalog import Catalog
from gateway.security.api_keys import display_prefix, generate_key, hash_key
from gateway.security.secrets import Secrets

T = TypeVar("T")


class ConfigError(ValueError):
    """A change was refused; the message names the field and says what is wrong."""


@dataclass(frozen=True)
class Context:
    store: ConfigStore
    catalog: Catalog
    secrets: Secrets


def secret_name(connection_id: str) -> str:
    """A new name for every stored value: replacing a key never overwrites the old one, so a
    failed change can be undone and a successful one deletes the old value afterwards."""
    return f"connection/{connection_id}/api_key-{secrets.token_hex(4)}"


def write_with_secrets(
    ctx: Context,
    new_secrets: list[tuple[str, str]],
    fn: Callable[[apsw.Connection, dict[str, str]], T],
) -> T:
    """Store secrets, then run ``fn(conn, refs)``; undo the secrets if the write fails."""
    refs: dict[str, str] = {}
    try:
        for name, value in new_secrets:
            refs[name] = ctx.secrets.put(name, value)

        def transaction(conn: apsw.Connection) -> T:
            result = fn(conn, refs)
            repo.bump_revision(conn)
            return result

        return ctx.store.write(transaction)
    except BaseException:
        for ref in refs.values():
            ctx.secrets.delete(ref)
        raise


def connection_row(
    entry: ConnectionEntry, existing: repo.ConnectionRow | None, secret_ref: str | None
) -> repo.ConnectionRow:
    return repo.ConnectionRow(
        id=existing.id if existing else repo.new_id(),
        name=entry.name,
        provider=entry.provider,
        dialect=entry.dialect,
        alias=entry.alias,
        base_url=entry.base_url,
        secret_ref=secret_ref,
        models=tuple(entry.models),
        enabled=entry.enabled,
        priority=entry.priority,
        rpm=entry.rpm,
        min_gap_ms=entry.min_gap_ms,
        max_concurrent=entry.max_concurrent,
    )


def combo_row(entry: ComboEntry) -> repo.ComboRow:
    return repo.ComboRow(
        entry.name,
        entry.strategy,
        tuple(entry.targets),
        entry.enabled,
        tuple(entry.weights or ()),
        entry.system_prompt,
        entry.cache,
    )


def add_connection(
    ctx: Context, entry: ConnectionEntry, *, replace: bool = False
) -> repo.ConnectionRow:
    state = ctx.store.state()
    existing = next((c for c in state.connections if c.name == entry.name), None)
    if existing and not replace:
        raise ConfigError(
            f"a connection named {entry.name!r} already exists "
            "(remove it first, or choose another name)"
        )
    stored = bool(existing and existing.secret_ref)  # replacing keeps the stored key
    problems = check_connection(entry, ctx.catalog, "connection", has_stored_key=stored)
    others = [
        (f"connection {c.name!r}", entry_from_row(c))
        for c in state.connections
        if c.name != entry.name
    ]
    problems += check_custom_aliases([*others, ("connection", entry)])
    if problems:
        raise ConfigError("\n".join(problems))
    row = connection_row(entry, existing, existing.secret_ref if existing else None)
    pending = [(secret_name(row.id), entry.api_key)] if entry.api_key else []

    def write(conn: apsw.Connection, refs: dict[str, str]) -> repo.ConnectionRow:
        final = dataclasses.replace(row, secret_ref=refs[pending[0][0]]) if pending else row
        repo.upsert_connection(conn, final)
        return final

    result = write_with_secrets(ctx, pending, write)
    if existing and existing.secret_ref and existing.secret_ref != result.secret_ref:
        ctx.secrets.delete(existing.secret_ref)
    return result


def remove_connection(ctx: Context, name: str) -> None:
    existing = ctx.store.read(lambda conn: repo.get_connection(conn, name))
    if existing is None:
        raise ConfigError(f"no connection named {name!r} (see `switchboard connection list`)")
    write_with_secrets(ctx, [], lambda conn, _: repo.delete_connection(conn, name))
    if existing.secret_ref:
        ctx.secrets.delete(existing.secret_ref)


def create_key(
    ctx: Context,
    name: str,
    key: str | None = None,
    *,
    allowed_models: tuple[str, ...] = (),
    rpm: int | None = None,
    requests_per_day: int | None = None,
) -> tuple[repo.ApiKeyRow, str]:
    """Create a client API key, with its limits in the same transaction (a key is never active
    unrestricted when it was meant to be limited); returns the row and the plaintext, which is
    never stored."""
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"key name {name!r}: {NAME_RULE}")
    _check_key_limits(name, allowed_models, rpm, requests_per_day)
    plaintext = key or generate_key()
    key_hash = hash_key(plaintext)

    def write(conn: apsw.Connection, _: dict[str, str]) -> repo.ApiKeyRow:
        if any(row.name == name for row in repo.list_api_keys(conn)):
            raise ConfigError(f"an active key named {name!r} already exists")
        if repo.find_api_key_by_hash(conn, key_hash) is not None:
            raise ConfigError("that key is already registered")
        return repo.insert_api_key(
            conn,
            name,
            key_hash,
            display_prefix(plaintext),
            allowed_models=allowed_models,
            rpm=rpm,
            requests_per_day=requests_per_day,
        )

    return write_with_secrets(ctx, [], write), plaintext


def revoke_key(ctx: Context, name: str) -> None:
    if not write_with_secrets(ctx, [], lambda conn, _: repo.revoke_api_key(conn, name)):
        raise ConfigError(f"no active key named {name!r} (see `switchboard key list`)")


def add_combo(ctx: Context, entry: ComboEntry, *, replace: bool = False) -> None:
    state = ctx.store.state()
    if not replace and any(c.name == entry.name for c in state.combos):
        raise ConfigError(f"a combo named {entry.name!r} already exists")
    existing = {c.name: c.targets for c in state.combos if c.name != entry.name}
    custom = [c.alias for c in state.connections if c.alias]
    aliases = dict(state.model_aliases)
    problems = check_combos([("combo", entry)], ctx.catalog, custom, existing, aliases)
    if entry.name in aliases:
        problems.append(f"combo {entry.name!r}: a model alias has that name; choose another")
    if problems:
        raise ConfigError("\n".join(problems))
    row = combo_row(entry)
    write_with_secrets(ctx, [], lambda conn, _: repo.upsert_combo(conn, row))


def remove_combo(ctx: Context, name: str) -> None:
    state = ctx.store.state()
    users = [c.name for c in state.combos if name in c.targets]
    if users:
        raise ConfigError(
            f"combo {name!r} is a target of {', '.join(users)}; remove it there first"
        )
    if not write_with_secrets(ctx, [], lambda conn, _: repo.delete_combo(conn, name)):
        raise ConfigError(f"no combo named {name!r} (see `switchboard combo list`)")


def set_settings(ctx: Context, values: dict[str, object]) -> None:
    coerced = {}
    problems = []
    for name, value in values.items():
        try:
            coerced[name] = coerce_setting(name, value)
        except ValueError as exc:
            problems.append(str(exc))
    current = ctx.store.state().settings
    merged = {**current, **coerced}
    exposure = check_exposure(
        str(merged.get("host", "127.0.0.1")), bool(merged.get("require_api_key", True))
    )
    if exposure:
        problems.append(f"settings: {exposure}")
    if problems:
        raise ConfigError("\n".join(problems))

    def write(conn: apsw.Connection, _: dict[str, str]) -> None:
        for name, value in coerced.items():
            repo.write_setting(conn, name, value)

    write_with_secrets(ctx, [], write)


def entry_from_row(row: repo.ConnectionRow) -> ConnectionEntry:
    return ConnectionEntry.model_construct(
        name=row.name,
        provider=row.provider,
        dialect=row.dialect,
        alias=row.alias,
        base_url=row.base_url,
        priority=row.priority,
        enabled=row.enabled,
        models=list(row.models),
        api_key=None,
        rpm=row.rpm,
        min_gap_ms=row.min_gap_ms,
        max_concurrent=row.max_concurrent,
    )


def set_model_alias(ctx: Context, name: str, target: str, *, replace: bool = True) -> None:
    """Clients may send ``name`` as a model; it routes to ``target`` (alias/model or combo).
    With ``replace=False`` an existing alias of that name is refused, not changed."""
    if not ALIAS_NAME_PATTERN.match(name):
        raise ConfigError(f"alias {name!r}: 1 to 128 letters, digits, '.', '_', ':' or '-', no '/'")
    if not target or len(target) > 200 or any(ch.isspace() for ch in target):
        # the file format's rule, so an export can always be imported again
        raise ConfigError(f"alias {name!r}: {target!r} is not a model name (no spaces)")
    state = ctx.store.state()
    custom = [c.alias for c in state.connections if c.alias]
    combos = [c.name for c in state.combos]
    if problems := check_model_aliases({name: target}, ctx.catalog, custom, combos, "alias"):
        raise ConfigError("\n".join(problems))

    def write(conn: apsw.Connection, _: dict[str, str]) -> None:
        if not replace and name in dict(repo.list_model_aliases(conn)):
            raise ConfigError(f"a model alias named {name!r} already exists")
        repo.upsert_model_alias(conn, name, target)

    write_with_secrets(ctx, [], write)


def remove_model_alias(ctx: Context, name: str) -> None:
    state = ctx.store.state()
    users = [c.name for c in state.combos if name in c.targets]
    if users:
        raise ConfigError(
            f"alias {name!r} is a target of {', '.join(users)}; remove it there first"
        )
    if not write_with_secrets(ctx, [], lambda conn, _: repo.delete_model_alias(conn, name)):
        raise ConfigError(f"no model alias named {name!r} (see `switchboard alias list`)")


def set_provider(
    ctx: Context, provider: str, *, enabled: bool | None = None, hidden: bool | None = None
) -> repo.ProviderSettingsRow:
    """Switch a catalog provider on or off, or hide it from the model lists."""
    if problems := check_providers([provider], ctx.catalog, "provider"):
        raise ConfigError("\n".join(problems))
    current = next(
        (p for p in ctx.store.state().providers if p.provider == provider),
        repo.ProviderSettingsRow(provider),
    )
    row = repo.ProviderSettingsRow(
        provider,
        current.enabled if enabled is None else enabled,
        current.hidden if hidden is None else hidden,
    )
    write_with_secrets(ctx, [], lambda conn, _: repo.upsert_provider_settings(conn, row))
    return row


def set_key_limits(
    ctx: Context,
    name: str,
    *,
    allowed_models: tuple[str, ...],
    rpm: int | None,
    requests_per_day: int | None,
) -> None:
    """Replace what a client key may use: model patterns (() = all) and request limits."""
    _check_key_limits(name, allowed_models, rpm, requests_per_day)

    def write(conn: apsw.Connection, _: dict[str, str]) -> bool:
        return repo.set_key_limits(
            conn, name, allowed_models=allowed_models, rpm=rpm, requests_per_day=requests_per_day
        )

    if not write_with_secrets(ctx, [], write):
        raise ConfigError(f"no active key named {name!r} (see `switchboard key list`)")


def _check_key_limits(
    name: str, allowed_models: tuple[str, ...], rpm: int | None, requests_per_day: int | None
) -> None:
    """The import format's rules (file_format.ApiKeyEntry), so whatever is stored re-imports."""
    data = {
        "name": name,
        "allowed_models": list(allowed_models),
        "rpm": rpm,
        "requests_per_day": requests_per_day,
    }
    try:
        ApiKeyEntry.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"key {name!r}: " + format_validation_error(exc, data)) from None


def price_row(model: str, entry: PriceEntry) -> repo.PriceOverrideRow:
    return repo.PriceOverrideRow(
        model, entry.input, entry.output, entry.cache_read, entry.cache_write
    )


def set_price(ctx: Context, model: str, entry: PriceEntry) -> str:
    """Your price for ``alias/model`` (or ``alias/*``); returns the name it is stored under."""
    custom = [c.alias for c in ctx.store.state().connections if c.alias]
    key, problem = price_key(model, ctx.catalog, custom)
    if key is None:
        raise ConfigError(f"price {problem}")
    row = price_row(key, entry)
    write_with_secrets(ctx, [], lambda conn, _: repo.upsert_price_override(conn, row))
    return key


def remove_price(ctx: Context, model: str) -> str:
    """Drop your price for a model: the shipped price (or none) applies again."""
    custom = [c.alias for c in ctx.store.state().connections if c.alias]
    key = price_key(model, ctx.catalog, custom)[0] or model

    def write(conn: apsw.Connection, _: dict[str, str]) -> bool:
        return repo.delete_price_override(conn, key) or repo.delete_price_override(conn, model)

    if not write_with_secrets(ctx, [], write):
        raise ConfigError(f"no price of yours for {model!r} (see `switchboard price list`)")
    return key


# quota windows and budgets ------------------------------------------------------------------


def quota_row(entry: QuotaEntry) -> repo.QuotaRow:
    from gateway.usage.limits import weekday_number

    return repo.QuotaRow(
        entry.connection,
        entry.window,
        entry.limit,
        entry.unit,
        entry.reset_hour,
        weekday_number(entry.reset_weekday),
        entry.reset_day,
        entry.timezone,
    )


def budget_row(entry: BudgetEntry) -> repo.BudgetRow:
    return repo.BudgetRow(entry.scope, entry.name, entry.period, entry.limit_usd)


def set_quota(ctx: Context, entry: QuotaEntry) -> None:
    """Set (or replace) one quota window of a connection."""
    connections = [c.name for c in ctx.store.state().connections]
    if problems := check_quotas([("quota", entry)], connections):
        raise ConfigError("\n".join(problems))
    row = quota_row(entry)
    write_with_secrets(ctx, [], lambda conn, _: repo.upsert_quota(conn, row))


def remove_quota(ctx: Context, connection: str, window: str | None = None) -> int:
    """Remove one window (or every window) you set on a connection; how many."""
    removed = write_with_secrets(
        ctx, [], lambda conn, _: repo.delete_quota(conn, connection, window)
    )
    if not removed:
        what = f"{window} window" if window else "quota window"
        raise ConfigError(f"no {what} of yours on {connection!r} (see `switchboard quota`)")
    return removed


def set_budget(ctx: Context, entry: BudgetEntry) -> None:
    state = ctx.store.state()
    problems = check_budgets(
        [("budget", entry)],
        ctx.catalog,
        [c.name for c in state.connections],
        [k.name for k in state.api_keys],
    )
    if problems:
        raise ConfigError("\n".join(problems))
    row = budget_row(entry)
    write_with_secrets(ctx, [], lambda conn, _: repo.upsert_budget(conn, row))


def remove_budget(ctx: Context, scope: str, name: str, period: str | None = None) -> int:
    removed = write_with_secrets(
        ctx, [], lambda conn, _: repo.delete_budget(conn, scope, name, period)
    )
    if not removed:
        raise ConfigError(f"no budget for {scope} {name!r} (see `switchboard budget list`)")
    return removed
