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

from gateway.config import repository as repo
from gateway.config.file_format import NAME_PATTERN, NAME_RULE, ComboEntry, ConnectionEntry
from gateway.config.settings import coerce_setting
from gateway.config.store import ConfigStore
from gateway.config.validation import (
    check_combos,
    check_connection,
    check_custom_aliases,
    check_exposure,
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


def create_key(ctx: Context, name: str, key: str | None = None) -> tuple[repo.ApiKeyRow, str]:
    """Create a client API key; returns the row and the plaintext, which is never stored."""
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"key name {name!r}: {NAME_RULE}")
    plaintext = key or generate_key()
    key_hash = hash_key(plaintext)

    def write(conn: apsw.Connection, _: dict[str, str]) -> repo.ApiKeyRow:
        if any(row.name == name for row in repo.list_api_keys(conn)):
            raise ConfigError(f"an active key named {name!r} already exists")
        if repo.find_api_key_by_hash(conn, key_hash) is not None:
            raise ConfigError("that key is already registered")
        return repo.insert_api_key(conn, name, key_hash, display_prefix(plaintext))

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
    if problems := check_combos([("combo", entry)], ctx.catalog, custom, existing):
        raise ConfigError("\n".join(problems))
    row = repo.ComboRow(
        entry.name, entry.strategy, tuple(entry.targets), entry.enabled, tuple(entry.weights or ())
    )
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
    )
