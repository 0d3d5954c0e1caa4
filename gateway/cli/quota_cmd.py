"""``switchboard quota [set|remove]`` and ``switchboard budget set|list|remove``: quota
windows per connection and USD budgets, with what each has used (docs/usage.md)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from gateway.cli.common import (
    add_json_flag,
    data_dir_of,
    open_context,
    print_json,
    print_table,
    validated,
)
from gateway.config import commands
from gateway.config.file_format import BudgetEntry, QuotaEntry
from gateway.config.snapshot import Settings, offline_limits
from gateway.store.db import open_logs_db
from gateway.usage.limits import PERIODS, SCOPES
from gateway.usage.tracker import UsageTracker, WindowState, read_seed
from gateway.usage.windows import UNITS, WEEKDAYS, WINDOW_KINDS


def register(commands_: Any, common: argparse.ArgumentParser) -> None:
    quota = commands_.add_parser(
        "quota",
        parents=[common],
        help="quota windows per connection: used, limit, remaining, reset countdown",
        description="Every connection's quota windows with what they have used, counted from "
        "the request log (docs/usage.md).",
    )
    add_json_flag(quota)
    quota.set_defaults(handler=show_quota)
    sub = quota.add_subparsers(dest="action", metavar="ACTION")
    put = sub.add_parser(
        "set",
        parents=[common],
        help="set (or replace) one window of a connection",
        description="Set a quota window on a connection; one window of each kind.",
    )
    put.add_argument("connection", metavar="CONNECTION")
    put.add_argument("--window", choices=WINDOW_KINDS, required=True)
    put.add_argument("--limit", type=float, required=True, help="the ceiling, in --unit")
    put.add_argument("--unit", choices=UNITS, required=True)
    put.add_argument("--reset-hour", type=int, default=0, help="wall-clock hour it resets (0)")
    put.add_argument("--reset-weekday", choices=WEEKDAYS, default="mon", help="weekly (mon)")
    put.add_argument("--reset-day", type=int, default=1, help="monthly: day of the month (1)")
    put.add_argument("--timezone", default="UTC", help="an IANA name or local (UTC)")
    put.set_defaults(handler=quota_set)
    remove = sub.add_parser(
        "remove", parents=[common], help="remove one window (or all) you set on a connection"
    )
    remove.add_argument("connection", metavar="CONNECTION")
    remove.add_argument("--window", choices=WINDOW_KINDS, help="only this window")
    remove.set_defaults(handler=quota_remove)

    budget = commands_.add_parser(
        "budget",
        parents=[common],
        help="USD budgets per day, week or month for a connection, provider, tier or key",
        description="USD budgets per calendar day, week or month (docs/usage.md).",
    )
    budget.set_defaults(handler=lambda _: _usage(budget))
    actions = budget.add_subparsers(dest="action", metavar="ACTION")
    bset = actions.add_parser("set", parents=[common], help="set (or replace) a budget")
    bset.add_argument("scope", choices=SCOPES)
    bset.add_argument("name", metavar="NAME", help="connection, provider id, tier or key name")
    bset.add_argument("--period", choices=PERIODS, required=True)
    bset.add_argument("--limit", type=float, required=True, help="USD")
    bset.set_defaults(handler=budget_set)
    blist = actions.add_parser("list", parents=[common], help="every budget and what it spent")
    add_json_flag(blist)
    blist.set_defaults(handler=budget_list)
    bremove = actions.add_parser("remove", parents=[common], help="remove a budget")
    bremove.add_argument("scope", choices=SCOPES)
    bremove.add_argument("name", metavar="NAME")
    bremove.add_argument("--period", choices=PERIODS, help="only this period")
    bremove.set_defaults(handler=budget_remove)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _now() -> float:
    return time.time()


def current_states(args: argparse.Namespace, *, budgets: bool) -> list[WindowState]:
    """Every window as a running gateway would count it, read from the request log."""
    now = _now()
    with open_context(args) as ctx:
        state = ctx.store.state()
        limits, tiers = offline_limits(state, ctx.catalog)
    usage = UsageTracker(clock=lambda: now)
    usage.configure(limits, tiers, Settings.from_stored(state.settings).quota_threshold_percent)
    conn = open_logs_db(data_dir_of(args))
    try:
        usage.seed(read_seed(conn, limits, tiers, now))
    finally:
        conn.close()
    return usage.states(budgets=budgets)


def _amount(value: float, unit: str) -> str:
    if unit == "usd":
        return f"${value:,.2f}"
    return f"{value:,.0f}"


def _print(states: list[WindowState], *, first: str, empty: str) -> None:
    rows = [
        (
            s.name if first == "connection" else f"{s.scope} {s.name}",
            s.window,
            _amount(s.used, s.unit),
            _amount(s.limit, s.unit) + ("" if s.unit == "usd" else f" {s.unit}"),
            f"{s.remaining_percent:g} %",
            s.countdown,
            s.source,
        )
        for s in states
    ]
    print_table((first, "window", "used", "limit", "left", "reset", "source"), rows, empty=empty)


def show_quota(args: argparse.Namespace) -> int:
    states = current_states(args, budgets=False)
    if args.json:
        print_json([s.as_dict() for s in states])
    else:
        _print(states, first="connection", empty="No quota windows (see `switchboard quota set`).")
    return 0


def quota_set(args: argparse.Namespace) -> int:
    values = {
        "connection": args.connection,
        "window": args.window,
        "limit": args.limit,
        "unit": args.unit,
        "reset_hour": args.reset_hour,
        "reset_weekday": args.reset_weekday,
        "reset_day": args.reset_day,
        "timezone": args.timezone,
    }
    entry = validated(QuotaEntry, values, "quota")
    with open_context(args) as ctx:
        commands.set_quota(ctx, entry)
    print(f"{entry.connection}: {entry.window} window of {entry.limit:g} {entry.unit}.")
    return 0


def quota_remove(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        removed = commands.remove_quota(ctx, args.connection, args.window)
    print(f"{args.connection}: {removed} window(s) removed.")
    return 0


def budget_set(args: argparse.Namespace) -> int:
    values = {
        "scope": args.scope,
        "name": args.name,
        "period": args.period,
        "limit_usd": args.limit,
    }
    entry = validated(BudgetEntry, values, "budget")
    with open_context(args) as ctx:
        commands.set_budget(ctx, entry)
    print(f"{entry.scope} {entry.name}: ${entry.limit_usd:g} per {entry.period}.")
    return 0


def budget_list(args: argparse.Namespace) -> int:
    states = current_states(args, budgets=True)
    if args.json:
        print_json([s.as_dict() for s in states])
    else:
        _print(states, first="budget", empty="No budgets (see `switchboard budget set`).")
    return 0


def budget_remove(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        removed = commands.remove_budget(ctx, args.scope, args.name, args.period)
    print(f"{args.scope} {args.name}: {removed} budget(s) removed.")
    return 0
