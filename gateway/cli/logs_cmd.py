"""``switchboard logs [--tail N] [--follow]``: the request log."""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import datetime
from typing import Any

import orjson

from gateway.cli.common import add_json_flag, data_dir_of
from gateway.observe.request_log import LogRow, recent_rows
from gateway.store.db import LOGS_DB_NAME, open_logs_db


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "logs",
        parents=[common],
        help="show the request log",
        description="Show the newest requests, oldest first.",
    )
    parser.add_argument("--tail", type=int, default=20, metavar="N", help="rows to show (20)")
    parser.add_argument(
        "--follow", "-f", action="store_true", help="keep printing new requests until Ctrl+C"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=show_logs)


def show_logs(args: argparse.Namespace) -> int:
    data_dir = data_dir_of(args)
    conn = open_logs_db(data_dir)
    try:
        rows = recent_rows(conn, limit=max(args.tail, 0))
        emit = _print_json_line if args.json else _print_line
        if not rows and not args.follow and not args.json and _last_id(conn) == 0:
            print(f"No requests logged yet ({data_dir / LOGS_DB_NAME}).")
        for row in rows:
            emit(row)
        last = rows[-1].id if rows else _last_id(conn)
        while args.follow:
            time.sleep(0.5)
            for row in recent_rows(conn, limit=1000, after_id=last):
                emit(row)
                last = row.id
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()
    return 0


def _last_id(conn: Any) -> int:
    row = conn.execute("SELECT max(id) FROM request_log").fetchone()
    return int(row[0] or 0)


def _print_line(row: LogRow) -> None:
    when = datetime.fromtimestamp(row.ts).strftime("%Y-%m-%d %H:%M:%S")
    target = f"{row.provider}/{row.upstream_model}" if row.provider else "-"
    tokens = f"{row.tokens_in or 0}→{row.tokens_out or 0} tok" if row.tokens_in is not None else "-"
    if row.estimated:
        tokens = "~" + tokens  # our estimate: the upstream reported none (docs/usage.md)
    error = f"  {row.error}" if row.error else ""
    print(
        f"{when}  {row.status}  {row.latency_ms:8.1f} ms  {row.client_dialect:<9} "
        f"{row.requested_model or '-'} → {target} [{row.connection or '-'}]  {tokens}"
        f"{_cost(row)}  key={row.key_name or '-'}  id={row.request_id}{error}",
        flush=True,
    )


def _cost(row: LogRow) -> str:
    """ "" when the request was not priced (it reached no upstream), else two spaces and the
    cost: "$0.001234", "$0 (local)", "cost unknown"."""
    if row.price_source is None:
        return ""
    if row.cost_usd is None:
        priced = row.tokens_in is not None or row.tokens_out is not None
        return "  cost unknown" if priced and row.price_source == "unknown" else ""
    if row.price_source in ("free", "local"):
        return f"  $0 ({row.price_source})"
    return f"  ${row.cost_usd:.6f}"


def _print_json_line(row: LogRow) -> None:
    # One object per line, so --follow --json is a stream of JSON lines.
    print(orjson.dumps(dataclasses.asdict(row)).decode(), flush=True)
