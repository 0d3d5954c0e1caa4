"""``switchboard usage``: requests, tokens, cost and latency from the hourly rollup."""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from typing import Any

from gateway.cli.common import CliError, add_json_flag, data_dir_of, print_json, print_table
from gateway.observe.analytics import (
    BUCKETS_BY,
    DIMENSIONS,
    UsageReport,
    UsageStats,
    usage,
)
from gateway.observe.histogram import EDGES
from gateway.store.db import open_logs_db

_SPAN = re.compile(r"(\d+)\s*([hdw])")
_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}
_GROUP_TITLE = {"model": "model", "provider": "provider", "connection": "connection", "key": "key"}


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "usage",
        parents=[common],
        help="requests, tokens, cost and latency per model, provider, connection or key",
        description="Usage from the request log's hourly rollup (docs/usage.md).",
    )
    parser.add_argument("--by", choices=DIMENSIONS, default="model", help="group rows (model)")
    parser.add_argument(
        "--since",
        default="7d",
        metavar="WHEN",
        help="how far back: 12h, 7d, 4w, or a local date/time such as 2026-11-01 (7d)",
    )
    parser.add_argument("--bucket", choices=BUCKETS_BY, help="one row per hour or per day")
    add_json_flag(parser)
    parser.set_defaults(handler=show_usage)


def parse_since(text: str, now: float) -> float:
    """``12h``, ``7d``, ``4w`` back from ``now``, or an ISO local date or date-time."""
    text = text.strip()
    if match := _SPAN.fullmatch(text):
        return now - int(match.group(1)) * _SECONDS[match.group(2)]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise CliError(
            f"--since {text!r}: give a span such as 12h, 7d or 4w, or a date such as 2026-11-01"
        ) from None


def _now() -> float:
    return time.time()


def show_usage(args: argparse.Namespace) -> int:
    now = _now()
    since = parse_since(args.since, now)
    conn = open_logs_db(data_dir_of(args))
    try:
        report = usage(conn, by=args.by, since=since, bucket=args.bucket, now=now)
    finally:
        conn.close()
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report)
    return 0


# --------------------------------------------------------------------------- output


def _when(epoch: float, bucket: str | None = "hour") -> str:
    moment = datetime.fromtimestamp(epoch)
    return moment.strftime("%Y-%m-%d" if bucket == "day" else "%Y-%m-%d %H:%M")


def report_json(report: UsageReport) -> dict[str, Any]:
    def iso(epoch: float) -> str:
        return datetime.fromtimestamp(epoch).astimezone().isoformat()

    return {
        "by": report.by,
        "bucket": report.bucket,
        "since": iso(report.since),
        "until": iso(report.until),
        "latency_error": report.latency_error,
        "rows": [
            {
                "period": None if row.period is None else iso(row.period),
                report.by: row.group or None,
                **row.stats.as_dict(),
            }
            for row in report.rows
        ],
        "total": report.total.as_dict(),
    }


def print_report(report: UsageReport) -> None:
    title = _GROUP_TITLE[report.by]
    span = f"{_when(report.since)} to {_when(report.until)}"
    if not report.rows:
        print(f"No requests from {span}.")
        return
    headers = [title, "requests", "ok %", "input", "output", "cached", "reasoning", "cost"]
    headers += ["p50", "p95", "p99"]
    if report.bucket:
        headers.insert(0, report.bucket)
    rows = []
    for row in report.rows:
        cells = [row.group or "-", *_cells(row.stats)]
        if report.bucket:
            cells.insert(0, _when(row.period or 0, report.bucket))
        rows.append(cells)
    total = ["TOTAL", *_cells(report.total)]
    if report.bucket:
        total.insert(0, "")
    print(f"Usage by {title}, {span} (local time)")
    print_table(headers, [*rows, total], empty="")
    notes = []
    if report.total.estimated:
        notes.append(
            f"~ {report.total.estimated:,} request(s) with estimated tokens: the upstream "
            "reported none (docs/usage.md)"
        )
    if report.total.unpriced:
        notes.append(
            f"* cost leaves out {report.total.unpriced:,} request(s) with no known price "
            "(`switchboard price list`, `switchboard price set`)"
        )
    notes.append(f"Latency percentiles are within {report.latency_error:.0%}.")
    for note in notes:
        print(note)


def _cells(stats: UsageStats) -> list[str]:
    rate = stats.success_rate
    mark = "~" if stats.estimated else ""
    return [
        f"{stats.requests:,}",
        "-" if rate is None else f"{rate * 100:.1f}",
        f"{mark}{stats.tokens_in:,}",
        f"{mark}{stats.tokens_out:,}",
        f"{stats.cached_tokens:,}",
        f"{stats.reasoning_tokens:,}",
        f"${stats.cost_usd:,.4f}" + ("*" if stats.unpriced else ""),
        _latency(stats.latency_p50_ms),
        _latency(stats.latency_p95_ms),
        _latency(stats.latency_p99_ms),
    ]


def _latency(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= EDGES[-1]:
        return f">={ms / 1000:.0f} s"
    if ms < 1:
        return "<1 ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"
