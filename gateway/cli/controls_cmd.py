"""Routing controls: ``alias``, provider switches, and connection and key limits.

The ``add`` and ``list`` commands of each group (gateway/cli/manage.py) use the flag and
formatting helpers here, so a limit is spelled and shown the same way everywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from gateway.cli.common import CliError, add_json_flag, open_context, print_json, print_table
from gateway.config import commands
from gateway.config.file_format import ApiKeyEntry, ConnectionEntry
from gateway.config.repository import (
    ApiKeyRow,
    ComboRow,
    ConnectionRow,
    get_connection,
    list_api_keys,
)

# How each field is spelled on the command line, for error messages.
FLAGS = {
    "rpm": "--rpm",
    "min_gap_ms": "--min-gap-ms",
    "max_concurrent": "--max-concurrent",
    "allowed_models": "--models",
    "requests_per_day": "--per-day",
    "system_prompt": "--system-prompt",
}

_KEEP: Any = object()  # a `limits` option that was not given: keep the stored value


def describe_error(error: ValidationError, flags: Mapping[str, str] = FLAGS) -> CliError:
    """One line per problem, naming the option the user typed (``--rpm``) or the field."""
    lines = []
    for item in error.errors():
        if not item["loc"]:  # a rule across fields: its message names them
            lines.append(item["msg"].removeprefix("Value error, "))
            continue
        head, *rest = item["loc"]
        where = flags.get(str(head), str(head))
        where += "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in rest)
        lines.append(f"{where}: {item['msg']}")
    return CliError("\n".join(lines))


def model_patterns(text: str) -> list[str]:
    """``--models``: comma-separated model names or shell-style patterns."""
    patterns = [part.strip() for part in text.split(",")]
    for pattern in patterns:
        if not pattern:
            raise argparse.ArgumentTypeError(f"empty pattern in {text!r}")
        if any(ch.isspace() for ch in pattern):
            raise argparse.ArgumentTypeError(f"{pattern!r} is not a model pattern (no spaces)")
    return patterns


# the flags -------------------------------------------------------------------------------


def _limit(
    parser: argparse.ArgumentParser, dest: str, flag: str, help: str, clear: str | None
) -> None:
    """``flag N``; with ``clear``, also a ``--no-…`` option, and absent means keep."""
    if clear is None:
        parser.add_argument(flag, dest=dest, type=int, metavar="N", help=help)
        return
    group = parser.add_mutually_exclusive_group()
    group.add_argument(flag, dest=dest, type=int, metavar="N", default=_KEEP, help=help)
    group.add_argument(
        clear, dest=dest, action="store_const", const=None, default=_KEEP, help="remove it"
    )


def add_connection_limit_flags(parser: argparse.ArgumentParser, *, clearable: bool) -> None:
    for dest, flag, help in (
        ("rpm", "--rpm", "most requests per minute sent through this connection"),
        ("min_gap_ms", "--min-gap-ms", "least time between two requests, in ms"),
        ("max_concurrent", "--max-concurrent", "most requests in flight at once"),
    ):
        clear = f"--no-{flag.removeprefix('--')}" if clearable else None
        _limit(parser, dest, flag, help, clear)


def add_key_limit_flags(parser: argparse.ArgumentParser, *, clearable: bool) -> None:
    models_help = "models this key may use: names or patterns like openai/*, comma-separated"
    if clearable:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--models", type=model_patterns, metavar="PATTERN,...", default=_KEEP, help=models_help
        )
        group.add_argument(
            "--all-models",
            dest="models",
            action="store_const",
            const=[],
            default=_KEEP,
            help="allow every model",
        )
    else:
        parser.add_argument(
            "--models", type=model_patterns, metavar="PATTERN,...", default=[], help=models_help
        )
    _limit(parser, "rpm", "--rpm", "most requests per minute", "--no-rpm" if clearable else None)
    _limit(
        parser,
        "per_day",
        "--per-day",
        "most requests per day (rolling 24 hours)",
        "--no-per-day" if clearable else None,
    )


# how limits are shown ----------------------------------------------------------------------


def connection_limits(row: ConnectionRow) -> dict[str, int]:
    """The limits a connection has (unset ones left out, as in the configuration file)."""
    values = {"rpm": row.rpm, "min_gap_ms": row.min_gap_ms, "max_concurrent": row.max_concurrent}
    return {name: value for name, value in values.items() if value is not None}


def key_limits(row: ApiKeyRow) -> dict[str, Any]:
    values: dict[str, Any] = {
        "allowed_models": list(row.allowed_models) or None,
        "rpm": row.rpm,
        "requests_per_day": row.requests_per_day,
    }
    return {name: value for name, value in values.items() if value is not None}


def _connection_summary(row: ConnectionRow) -> str:
    parts = [
        f"rpm {row.rpm}" if row.rpm is not None else "",
        f"min gap {row.min_gap_ms} ms" if row.min_gap_ms is not None else "",
        f"max concurrent {row.max_concurrent}" if row.max_concurrent is not None else "",
    ]
    return "; ".join(p for p in parts if p) or "no limits"


def key_summary(row: ApiKeyRow) -> str:
    models = f"models {', '.join(row.allowed_models)}" if row.allowed_models else "all models"
    parts = [
        models,
        f"rpm {row.rpm}" if row.rpm is not None else "",
        f"{row.requests_per_day} per day" if row.requests_per_day is not None else "",
    ]
    return "; ".join(p for p in parts if p)


def combo_controls(row: ComboRow) -> dict[str, Any]:
    values = {"system_prompt": row.system_prompt, "cache": row.cache}
    return {name: value for name, value in values.items() if value is not None}


def clip(text: str | None, width: int = 40) -> str | None:
    """A table cell for long free text: one line, at most ``width`` characters."""
    if text is None:
        return None
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def optional_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    extra: Sequence[tuple[str, Sequence[Any], Any]],
) -> tuple[list[str], list[list[Any]]]:
    """Append each optional column ``(header, cells, shown for None)`` that some row sets;
    a control nobody uses stays out of the table."""
    used = [column for column in extra if any(cell is not None for cell in column[1])]
    table = [
        [*row, *(blank if cells[i] is None else cells[i] for _, cells, blank in used)]
        for i, row in enumerate(rows)
    ]
    return [*headers, *(header for header, _, _ in used)], table


# alias -------------------------------------------------------------------------------------


def register_alias(sub: Any, common: argparse.ArgumentParser) -> None:
    add = sub.add_parser(
        "add",
        parents=[common],
        help="add a model alias",
        description="Add a model name clients may send; it routes to TARGET.",
    )
    add.add_argument("name")
    add.add_argument("target", help="alias/model or a combo name")
    add.add_argument("--replace", action="store_true", help="change an alias of that name")
    add.set_defaults(handler=alias_add)
    lst = sub.add_parser("list", parents=[common], help="list model aliases")
    add_json_flag(lst)
    lst.set_defaults(handler=alias_list)
    remove = sub.add_parser("remove", parents=[common], help="remove a model alias")
    remove.add_argument("name")
    remove.set_defaults(handler=alias_remove)


def alias_add(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        commands.set_model_alias(ctx, args.name, args.target, replace=args.replace)
    print(f"Added model alias {args.name!r} → {args.target}.")
    return 0


def alias_list(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        aliases = ctx.store.state().model_aliases
    if args.json:
        print_json([{"name": name, "target": target} for name, target in aliases])
        return 0
    print_table(
        ("name", "target"),
        aliases,
        empty="No model aliases yet. Add one with `switchboard alias add NAME TARGET`.",
    )
    return 0


def alias_remove(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        commands.remove_model_alias(ctx, args.name)
    print(f"Removed model alias {args.name!r}.")
    return 0


# provider switches -------------------------------------------------------------------------

# action -> (the switch it sets, the state it leaves, what that means)
_SWITCHES: dict[str, tuple[dict[str, bool], str, str]] = {
    "enable": ({"enabled": True}, "enabled", "its connections are used"),
    "disable": ({"enabled": False}, "disabled", "none of its connections is used"),
    "hide": ({"hidden": True}, "hidden", "left out of the model lists, still routable"),
    "show": ({"hidden": False}, "shown", "listed in the model lists again"),
}


def register_provider_switches(sub: Any, common: argparse.ArgumentParser) -> None:
    for action, (_, _, meaning) in _SWITCHES.items():
        parser = sub.add_parser(action, parents=[common], help=f"{action} a provider: {meaning}")
        parser.add_argument("id", help="a catalog id (see `provider list`)")
        parser.set_defaults(handler=provider_switch, switch=action)


def provider_switch(args: argparse.Namespace) -> int:
    switches, state, meaning = _SWITCHES[args.switch]
    with open_context(args) as ctx:
        commands.set_provider(ctx, args.id, **switches)
    print(f"Provider {args.id!r} {state}: {meaning}.")
    return 0


# connection limits -------------------------------------------------------------------------


def register_connection_limits(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "limits",
        parents=[common],
        help="change a connection's rate limits (the stored key is kept)",
        description="Change a connection's rate limits; options not given keep their value. "
        "With no options, prints the current limits.",
    )
    parser.add_argument("name")
    add_connection_limit_flags(parser, clearable=True)
    parser.set_defaults(handler=connection_limits_cmd)


def connection_limits_cmd(args: argparse.Namespace) -> int:
    changes = {
        name: getattr(args, name)
        for name in ("rpm", "min_gap_ms", "max_concurrent")
        if getattr(args, name) is not _KEEP
    }
    with open_context(args) as ctx:
        row = ctx.store.read(lambda conn: get_connection(conn, args.name))
        if row is None:
            raise CliError(f"no connection named {args.name!r} (see `switchboard connection list`)")
        if changes:
            current = commands.entry_from_row(row).model_dump()
            try:
                entry = ConnectionEntry.model_validate({**current, **changes})
            except ValidationError as exc:
                raise describe_error(exc) from None
            row = commands.add_connection(ctx, entry, replace=True)  # api_key None: kept
    print(f"Connection {row.name!r}: {_connection_summary(row)}.")
    return 0


# key limits --------------------------------------------------------------------------------


def register_key_limits(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "limits",
        parents=[common],
        help="change which models a key may use and its request limits",
        description="Change a key's allowed models and request limits; options not given "
        "keep their value. With no options, prints the current ones.",
    )
    parser.add_argument("name")
    add_key_limit_flags(parser, clearable=True)
    parser.set_defaults(handler=key_limits_cmd)


def checked_key(name: str, models: list[str], rpm: int | None, per_day: int | None) -> ApiKeyEntry:
    """The file format's rules for a key's limits, so an export can always be imported."""
    try:
        return ApiKeyEntry(name=name, allowed_models=models, rpm=rpm, requests_per_day=per_day)
    except ValidationError as exc:
        raise describe_error(exc) from None


def _active_key(rows: Sequence[ApiKeyRow], name: str) -> ApiKeyRow:
    found = next((row for row in rows if row.name == name), None)
    if found is None:
        raise CliError(f"no active key named {name!r} (see `switchboard key list`)")
    return found


def key_limits_cmd(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        row = _active_key(ctx.store.read(list_api_keys), args.name)
        if any(value is not _KEEP for value in (args.models, args.rpm, args.per_day)):
            entry = checked_key(
                row.name,
                list(row.allowed_models) if args.models is _KEEP else args.models,
                row.rpm if args.rpm is _KEEP else args.rpm,
                row.requests_per_day if args.per_day is _KEEP else args.per_day,
            )
            commands.set_key_limits(
                ctx,
                row.name,
                allowed_models=tuple(entry.allowed_models),
                rpm=entry.rpm,
                requests_per_day=entry.requests_per_day,
            )
            row = _active_key(ctx.store.read(list_api_keys), args.name)
    print(f"Key {row.name!r}: {key_summary(row)}.")
    return 0
