"""Today's totals from the request log: counted since local midnight, priced per model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gateway.observe.request_log import INSERT_SQL, LogEntry
from gateway.observe.today import TodaySummary, start_of_today, today_summary
from gateway.providers.catalog import default_catalog
from gateway.store.db import open_logs_db

NOON = datetime(2026, 11, 20, 12, 0, 0).timestamp()


def add(conn: object, ts: float, provider: str | None, model: str | None, t_in: int | None,
        t_out: int | None, replay: str | None = None) -> None:  # fmt: skip
    entry = LogEntry(ts, f"r{ts}", "openai", provider=provider, upstream_model=model,
                     status=200, tokens_in=t_in, tokens_out=t_out, replay=replay)  # fmt: skip
    conn.execute(INSERT_SQL, entry.row())  # type: ignore[attr-defined]


def test_start_of_today_is_local_midnight() -> None:
    assert start_of_today(NOON) == datetime(2026, 11, 20).timestamp()
    assert (
        start_of_today(datetime(2026, 11, 20, 0, 0, 0).timestamp())
        == datetime(2026, 11, 20).timestamp()
    )


def test_requests_tokens_and_cost_since_midnight(data_dir: Path) -> None:
    conn = open_logs_db(data_dir)
    midnight = start_of_today(NOON)
    add(conn, midnight - 1, "openai", "gpt-6.2-sol", 1_000_000, 1_000_000)  # yesterday
    add(conn, midnight, "openai", "gpt-6.2-sol", 1_000_000, 100_000)  # $2 + $1
    add(conn, NOON, "openai", "gpt-6.2-sol", 500_000, 0)  # $1
    add(conn, NOON, "openai", "not-in-the-catalog", 10, 5)  # no price known
    add(conn, NOON, "openai", "gpt-6.2-sol", 1_000_000, 1_000_000, replay="cache")  # free
    add(conn, NOON, None, None, None, None)  # refused before any upstream
    summary = today_summary(conn, default_catalog(), clock=lambda: NOON)
    conn.close()
    assert summary == TodaySummary(
        requests=5,
        tokens_in=2_500_010,
        tokens_out=1_100_005,
        cost_usd=4.0,
        unpriced=1,
    )
    assert summary.tokens == 3_600_015


def test_local_servers_cost_nothing(data_dir: Path) -> None:
    conn = open_logs_db(data_dir)
    add(conn, NOON, "ollama", "anything-local", 1000, 1000)
    summary = today_summary(conn, default_catalog(), clock=lambda: NOON)
    conn.close()
    assert (summary.requests, summary.cost_usd, summary.unpriced) == (1, 0.0, 0)


def test_an_empty_log(data_dir: Path) -> None:
    conn = open_logs_db(data_dir)
    assert today_summary(conn, default_catalog()) == TodaySummary()
    conn.close()
