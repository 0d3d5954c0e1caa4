"""``switchboard price list|set|remove``: the prices request costs are computed with."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.cli.common import (
    add_json_flag,
    open_context,
    print_json,
    print_table,
    validated,
)
from gateway.config import commands
from gateway.config.file_format import PriceEntry
from gateway.providers.catalog import Catalog
from gateway.providers.pricing import FREE, ModelPrice


def register(commands_: Any, common: argparse.ArgumentParser) -> None:
    parser = commands_.add_parser(
        "price",
        parents=[common],
        help="model prices (USD per 1M tokens) used for request costs",
        description="Model prices (USD per 1M tokens) used for request costs (docs/usage.md).",
    )
    parser.set_defaults(handler=lambda _: _usage(parser))
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    lst = sub.add_parser(
        "list", parents=[common], help="the shipped prices with your own on top, and their source"
    )
    add_json_flag(lst)
    lst.set_defaults(handler=price_list)

    put = sub.add_parser(
        "set",
        parents=[common],
        help="set your price for alias/model (or alias/* for all its models)",
        description="Set your price for a model, in USD per 1M tokens. It comes before the "
        "shipped price. Cache prices default to the input price.",
    )
    put.add_argument("model", metavar="ALIAS/MODEL")
    put.add_argument("--input", type=float, required=True, help="per 1M input tokens")
    put.add_argument("--output", type=float, required=True, help="per 1M output tokens")
    put.add_argument("--cache-read", type=float, help="per 1M cached input tokens")
    put.add_argument("--cache-write", type=float, help="per 1M tokens written to the cache")
    put.set_defaults(handler=price_set)

    remove = sub.add_parser(
        "remove", parents=[common], help="drop your price: the shipped one (if any) applies again"
    )
    remove.add_argument("model", metavar="ALIAS/MODEL")
    remove.set_defaults(handler=price_remove)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def price_rows(catalog: Catalog, overrides: dict[str, ModelPrice]) -> list[dict[str, Any]]:
    """Every price that applies: yours, then the shipped ones you did not override, then the
    providers that cost nothing; sorted by model within each part."""
    rows = [_row(name, price, "yours", None) for name, price in sorted(overrides.items())]
    shipped = []
    for info in catalog.providers:
        entry = catalog.prices.providers.get(info.id)
        for model, price in entry.models.items() if entry else ():
            name = f"{info.alias}/{model}"
            if name not in overrides and f"{info.alias}/*" not in overrides:
                shipped.append(_row(name, price, "catalog", entry.as_of if entry else None))
    rows += sorted(shipped, key=lambda row: row["model"])
    for info in catalog.providers:
        if info.tier in ("free", "local") and f"{info.alias}/*" not in overrides:
            rows.append(_row(f"{info.alias}/*", FREE, info.tier, None))
    return rows


def _row(model: str, price: ModelPrice, source: str, as_of: str | None) -> dict[str, Any]:
    return {
        "model": model,
        "input": price.input,
        "output": price.output,
        "cache_read": price.cache_read,
        "cache_write": price.cache_write,
        "source": source,
        "as_of": as_of,
    }


def price_list(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        state = ctx.store.state()
        overrides = {
            row.model: ModelPrice.model_validate(row, from_attributes=True)
            for row in state.price_overrides
        }
        rows = price_rows(ctx.catalog, overrides)
        file_date = ctx.catalog.prices_as_of
    if args.json:
        print_json(rows)
        return 0

    def source(row: dict[str, Any]) -> str:
        if row["source"] != "catalog":
            return str(row["source"])
        # Undated pages are no newer than the table itself.
        return f"catalog, {row['as_of']}" if row["as_of"] else f"catalog, by {file_date}"

    table = [
        (
            row["model"],
            _money(row["input"]),
            _money(row["output"]),
            _money(row["cache_read"]),
            _money(row["cache_write"]),
            source(row),
        )
        for row in rows
    ]
    print_table(
        ("model", "input", "output", "cache read", "cache write", "source"), table, empty=""
    )
    print('USD per 1M tokens. Unlisted models cost "unknown" until you set a price.')
    return 0


def _money(value: float | None) -> str | None:
    return None if value is None else f"${value:g}"


def price_set(args: argparse.Namespace) -> int:
    values = {
        "input": args.input,
        "output": args.output,
        "cache_read": args.cache_read,
        "cache_write": args.cache_write,
    }
    entry = validated(PriceEntry, values, f"price {args.model}")
    with open_context(args) as ctx:
        key = commands.set_price(ctx, args.model, entry)
    print(
        f"Price for {key}: ${entry.input:g} input, ${entry.output:g} output per 1M tokens"
        + (f", ${entry.cache_read:g} cached" if entry.cache_read is not None else "")
        + (f", ${entry.cache_write:g} cache write" if entry.cache_write is not None else "")
        + "."
    )
    return 0


def price_remove(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        key = commands.remove_price(ctx, args.model)
    print(f"Your price for {key} is removed; the shipped price (if any) applies again.")
    return 0
