"""``provider``, ``connection``, ``key``, ``combo`` and ``alias`` commands."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

from pydantic import ValidationError

from gateway.cli import controls_cmd as controls
from gateway.cli.common import CliError, add_json_flag, open_context, print_json, print_table
from gateway.config import commands
from gateway.config.file_format import ComboEntry, ConnectionEntry
from gateway.config.repository import ProviderSettingsRow, get_connection, list_api_keys
from gateway.config.snapshot import upstream_for
from gateway.providers.catalog import default_catalog
from gateway.providers.probe import probe
from gateway.routing.strategies import STRATEGIES


def register(commands_: Any, common: argparse.ArgumentParser) -> None:
    _register_provider(commands_, common)
    _register_connection(commands_, common)
    _register_key(commands_, common)
    _register_combo(commands_, common)
    aliases = _group(commands_, common, "alias", "your own model names (model aliases)")
    controls.register_alias(aliases, common)


def _group(commands_: Any, common: argparse.ArgumentParser, name: str, help: str) -> Any:
    parser = commands_.add_parser(name, parents=[common], help=help, description=help)
    parser.set_defaults(handler=lambda args: _usage(parser))
    return parser.add_subparsers(dest="action", metavar="ACTION")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# provider ---------------------------------------------------------------------------------


def _register_provider(commands_: Any, common: argparse.ArgumentParser) -> None:
    sub = _group(commands_, common, "provider", "the provider catalog")
    parser = sub.add_parser("list", parents=[common], help="list the providers Switchboard knows")
    add_json_flag(parser)
    parser.set_defaults(handler=provider_list)
    controls.register_provider_switches(sub, common)


def provider_list(args: argparse.Namespace) -> int:
    catalog = default_catalog()
    with open_context(args) as ctx:
        stored = {p.provider: p for p in ctx.store.state().providers}
    switches = {p.id: stored.get(p.id, ProviderSettingsRow(p.id)) for p in catalog.providers}
    if args.json:
        print_json(
            [
                {
                    **p.model_dump(mode="json"),
                    "enabled": switches[p.id].enabled,
                    "hidden": switches[p.id].hidden,
                }
                for p in catalog.providers
            ]
        )
        return 0
    headers = ["id", "prefix", "dialect", "tier", "base url", "models"]
    rows: list[tuple[Any, ...]] = [
        (
            p.id,
            p.alias if not p.custom else "(yours)",
            p.dialect,
            p.tier,
            p.base_url or "(yours)",
            len(p.models),
        )
        for p in catalog.providers
    ]
    if stored:  # the switch columns appear once some provider is switched off or hidden
        headers += ["enabled", "hidden"]
        rows = [(*row, switches[row[0]].enabled, switches[row[0]].hidden) for row in rows]
    print_table(headers, rows, empty="")
    return 0


# connection -------------------------------------------------------------------------------


def _register_connection(commands_: Any, common: argparse.ArgumentParser) -> None:
    sub = _group(commands_, common, "connection", "upstream accounts (provider + credentials)")
    add = sub.add_parser(
        "add",
        parents=[common],
        help="add a connection",
        description="Add a connection. The API key goes to the OS keyring (or "
        "the encrypted file store), never to the database.",
    )
    add.add_argument("name")
    add.add_argument(
        "--provider", required=True, help="a catalog id (see `provider list`) or 'custom'"
    )
    key = add.add_mutually_exclusive_group()
    key.add_argument(
        "--api-key", help="the key (visible in your shell history; prefer the options below)"
    )
    key.add_argument(
        "--api-key-env", metavar="VAR", help="read the key from this environment variable"
    )
    key.add_argument("--api-key-stdin", action="store_true", help="read the key from stdin")
    add.add_argument(
        "--base-url",
        help="override the catalog URL (OpenAI/Responses style: "
        "include /v1; Anthropic/Gemini: the root)",
    )
    add.add_argument("--priority", type=int, default=100, help="lower is tried first (100)")
    add.add_argument(
        "--dialect",
        choices=("openai", "anthropic", "gemini", "responses"),
        help="custom providers: the API it speaks",
    )
    add.add_argument("--alias", help="custom providers: the model prefix (alias/model)")
    add.add_argument(
        "--model",
        action="append",
        dest="models",
        default=[],
        help="a model this connection offers (repeatable)",
    )
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    controls.add_connection_limit_flags(add, clearable=False)
    add.add_argument("--replace", action="store_true", help="replace a connection of that name")
    add.set_defaults(handler=connection_add)

    lst = sub.add_parser("list", parents=[common], help="list connections")
    add_json_flag(lst)
    lst.set_defaults(handler=connection_list)

    controls.register_connection_limits(sub, common)

    remove = sub.add_parser("remove", parents=[common], help="remove a connection and its key")
    remove.add_argument("name")
    remove.set_defaults(handler=connection_remove)

    test = sub.add_parser(
        "test", parents=[common], help="send one tiny real request and report ok or why it failed"
    )
    test.add_argument("name")
    test.add_argument("--model", help="model to ask (default: the connection's first model)")
    test.add_argument("--timeout", type=float, default=20.0, help="seconds (20)")
    test.set_defaults(handler=connection_test)


def _read_api_key(args: argparse.Namespace) -> str | None:
    if args.api_key is not None:
        return str(args.api_key)
    if args.api_key_env:
        value = os.environ.get(args.api_key_env)
        if not value:
            raise CliError(f"environment variable {args.api_key_env} is empty or not set")
        return value
    if args.api_key_stdin:
        return sys.stdin.readline().strip() or None
    catalog = default_catalog()
    info = catalog.get(args.provider)
    if info is not None and info.key_required and sys.stdin.isatty():
        return getpass.getpass(f"API key for {info.name}: ").strip() or None
    return None


def connection_add(args: argparse.Namespace) -> int:
    try:
        entry = ConnectionEntry(
            name=args.name,
            provider=args.provider,
            api_key=_read_api_key(args),
            base_url=args.base_url,
            priority=args.priority,
            enabled=not args.disabled,
            dialect=args.dialect,
            alias=args.alias,
            models=args.models,
            rpm=args.rpm,
            min_gap_ms=args.min_gap_ms,
            max_concurrent=args.max_concurrent,
        )
    except ValidationError as exc:
        raise controls.describe_error(exc) from None
    with open_context(args) as ctx:
        row = commands.add_connection(ctx, entry, replace=args.replace)
    where = f" ({ctx.secrets.description})" if row.secret_ref else ""
    print(f"Added connection {row.name!r}{where}.")
    return 0


def connection_list(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        rows = ctx.store.state().connections
    if args.json:
        print_json(
            [
                {
                    "name": r.name,
                    "provider": r.provider,
                    "dialect": r.dialect,
                    "alias": r.alias,
                    "base_url": r.base_url,
                    "priority": r.priority,
                    "enabled": r.enabled,
                    "has_api_key": r.secret_ref is not None,
                    "models": list(r.models),
                    **controls.connection_limits(r),
                }
                for r in rows
            ]
        )
        return 0
    headers, table = controls.optional_columns(
        ("name", "provider", "prefix", "base url", "priority", "enabled", "key"),
        [
            (
                r.name,
                r.provider,
                r.alias,
                r.base_url,
                r.priority,
                r.enabled,
                "stored" if r.secret_ref else None,
            )
            for r in rows
        ],
        [
            ("rpm", [r.rpm for r in rows], None),
            ("min gap ms", [r.min_gap_ms for r in rows], None),
            ("max concurrent", [r.max_concurrent for r in rows], None),
        ],
    )
    print_table(
        headers, table, empty="No connections yet. Add one with `switchboard connection add`."
    )
    return 0


def connection_remove(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        commands.remove_connection(ctx, args.name)
    print(f"Removed connection {args.name!r}.")
    return 0


def connection_test(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        row = ctx.store.read(lambda conn: get_connection(conn, args.name))
        if row is None:
            raise CliError(f"no connection named {args.name!r} (see `switchboard connection list`)")
        upstream = upstream_for(row, ctx.catalog, ctx.secrets)
    if upstream is None:
        raise CliError(f"provider {row.provider!r} is no longer in the catalog")
    result = asyncio.run(probe(upstream, args.model, timeout_s=args.timeout))
    if result.ok:
        print(f"ok: {result.detail}")
        return 0
    print(f"failed: {result.detail}", file=sys.stderr)
    return 1


# key --------------------------------------------------------------------------------------


def _register_key(commands_: Any, common: argparse.ArgumentParser) -> None:
    sub = _group(commands_, common, "key", "client API keys (what coding tools send)")
    for action, help in (("create", "create a key (shown once)"), ("add", "the same as create")):
        create = sub.add_parser(action, parents=[common], help=help)
        create.add_argument("name")
        controls.add_key_limit_flags(create, clearable=False)
        create.set_defaults(handler=key_create)
    lst = sub.add_parser("list", parents=[common], help="list active keys")
    add_json_flag(lst)
    lst.set_defaults(handler=key_list)
    controls.register_key_limits(sub, common)
    revoke = sub.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("name")
    revoke.set_defaults(handler=key_revoke)


def key_create(args: argparse.Namespace) -> int:
    # the import file's rules, so an export can always be imported
    entry = controls.checked_key(args.name, args.models, args.rpm, args.per_day)
    with open_context(args) as ctx:
        row, plaintext = commands.create_key(
            ctx,
            entry.name,
            allowed_models=tuple(entry.allowed_models),
            rpm=entry.rpm,
            requests_per_day=entry.requests_per_day,
        )
    print(plaintext)
    limits = f" ({controls.key_summary(row)})" if controls.key_limits(row) else ""
    print(
        f"Key {args.name!r} created{limits}. "
        "It is shown only now; Switchboard keeps only its hash.",
        file=sys.stderr,
    )
    return 0


def key_list(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        rows = ctx.store.read(list_api_keys)
    if args.json:
        print_json(
            [
                {
                    "name": r.name,
                    "prefix": r.prefix,
                    "created_at": r.created_at,
                    **controls.key_limits(r),
                }
                for r in rows
            ]
        )
        return 0
    from datetime import datetime

    headers, table = controls.optional_columns(
        ("name", "key", "created"),
        [
            (r.name, r.prefix, datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M"))
            for r in rows
        ],
        [
            ("models", [", ".join(r.allowed_models) or None for r in rows], "all"),
            ("rpm", [r.rpm for r in rows], None),
            ("per day", [r.requests_per_day for r in rows], None),
        ],
    )
    print_table(headers, table, empty="No active keys. Create one with `switchboard key create`.")
    return 0


def key_revoke(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        commands.revoke_key(ctx, args.name)
    print(f"Revoked key {args.name!r}.")
    return 0


# combo ------------------------------------------------------------------------------------


def _register_combo(commands_: Any, common: argparse.ArgumentParser) -> None:
    sub = _group(commands_, common, "combo", "named fallback chains of models")
    add = sub.add_parser(
        "add",
        parents=[common],
        help="add a combo",
        description="Add a combo: clients ask for its name, Switchboard tries "
        "the targets in order.",
    )
    add.add_argument("name")
    add.add_argument("targets", nargs="+", metavar="TARGET", help="alias/model or combo name")
    add.add_argument("--strategy", choices=STRATEGIES, default="priority")
    add.add_argument(
        "--weights",
        metavar="W,W,...",
        help="weighted strategy: one positive weight per target, comma-separated",
    )
    add.add_argument(
        "--system-prompt",
        metavar="TEXT",
        help="put before the system prompt of requests through this combo",
    )
    add.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        help="answer repeats from the response cache, or not, whatever cache_enabled says",
    )
    add.add_argument("--replace", action="store_true", help="replace a combo of that name")
    add.set_defaults(handler=combo_add)
    lst = sub.add_parser("list", parents=[common], help="list combos")
    add_json_flag(lst)
    lst.set_defaults(handler=combo_list)
    remove = sub.add_parser("remove", parents=[common], help="remove a combo")
    remove.add_argument("name")
    remove.set_defaults(handler=combo_remove)


def combo_add(args: argparse.Namespace) -> int:
    try:
        weights = [float(w) for w in args.weights.split(",")] if args.weights else None
        entry = ComboEntry(
            name=args.name,
            strategy=args.strategy,
            targets=args.targets,
            weights=weights,
            system_prompt=args.system_prompt,
            cache=args.cache,
        )
    except ValueError as exc:  # ValidationError included
        if isinstance(exc, ValidationError):
            raise controls.describe_error(exc) from None
        raise CliError(f"--weights: expected numbers separated by commas ({exc})") from None
    with open_context(args) as ctx:
        commands.add_combo(ctx, entry, replace=args.replace)
    print(f"Added combo {args.name!r}: {' → '.join(args.targets)}.")
    return 0


def combo_list(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        rows = ctx.store.state().combos
    if args.json:
        print_json(
            [
                {
                    "name": c.name,
                    "strategy": c.strategy,
                    "targets": list(c.targets),
                    "enabled": c.enabled,
                    **controls.combo_controls(c),
                }
                for c in rows
            ]
        )
        return 0
    headers, table = controls.optional_columns(
        ("name", "strategy", "enabled"),
        [(c.name, c.strategy, c.enabled) for c in rows],
        [
            ("cache", [c.cache for c in rows], None),
            ("system prompt", [controls.clip(c.system_prompt) for c in rows], None),
        ],
    )
    print_table(
        [*headers, "targets"],
        [[*row, ", ".join(c.targets)] for row, c in zip(table, rows, strict=True)],
        empty="No combos yet. Add one with `switchboard combo add NAME TARGET...`.",
    )
    return 0


def combo_remove(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        commands.remove_combo(ctx, args.name)
    print(f"Removed combo {args.name!r}.")
    return 0
