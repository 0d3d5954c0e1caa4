"""``switchboard usage``, ``switchboard price`` and the cost in ``switchboard logs``, in-process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import usage_cmd
from gateway.observe.request_log import INSERT_SQL, LogEntry
from gateway.observe.rollup import add_rows
from gateway.store.db import open_logs_db
from tests.integration.test_cli import Cli

NOW = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC
HOUR = 3600


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], data_dir: Path) -> Cli:
    return Cli(capsys, data_dir)


@pytest.fixture(autouse=True)
def utc_at_now(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(usage_cmd, "_now", lambda: NOW)
    yield
    monkeypatch.undo()
    time.tzset()


def entry(ts: float, n: int, **values: Any) -> LogEntry:
    base: dict[str, Any] = {
        "ts": ts,
        "request_id": f"req-{n}",
        "client_dialect": "anthropic",
        "key_name": "laptop",
        "requested_model": "coding",
        "provider": "anthropic",
        "connection": "team",
        "upstream_model": "claude-sonnet-5-5",
        "status": 200,
        "latency_ms": 120.0,
    }
    base.update(values)
    return LogEntry(**base)


ENTRIES = [
    # Two hours ago: two Sonnet requests, one of them mostly from the cache.
    entry(NOW - 2 * HOUR, 1, tokens_in=1000, tokens_out=200, cached_tokens=600, cost_usd=0.00438,
          price_source="catalog"),
    entry(NOW - 2 * HOUR + 60, 2, tokens_in=3000, tokens_out=100, reasoning_tokens=40,
          cost_usd=0.0105, price_source="catalog", latency_ms=480.0),
    # An hour ago: one estimated, unpriced request and one rate-limited one.
    entry(NOW - HOUR, 3, key_name="ci", provider="openai", connection="work",
          upstream_model="gpt-x", tokens_in=900, tokens_out=30, estimated=True,
          price_source="unknown", latency_ms=2500.0, client_dialect="openai"),
    entry(NOW - HOUR + 5, 4, key_name="ci", provider="openai", connection="work",
          upstream_model="gpt-x", status=429, error="upstream 429: slow down", latency_ms=30.0,
          price_source="unknown"),
    # Eight days ago: outside the default 7 days.
    entry(NOW - 8 * 86400, 5, tokens_in=10, tokens_out=10, cost_usd=1.0, price_source="catalog"),
]  # fmt: skip


def write(data_dir: Path, entries: list[LogEntry]) -> None:
    conn = open_logs_db(data_dir)
    try:
        rows = [e.row() for e in entries]
        with conn:
            conn.executemany(INSERT_SQL, rows)
            add_rows(conn, rows)
    finally:
        conn.close()


def test_usage_when_empty(cli: Cli) -> None:
    assert cli.ok("usage").out == "No requests from 2026-11-11 11:00 to 2026-11-18 12:00.\n"
    report = cli.json("usage")
    assert report["rows"] == [] and report["total"]["requests"] == 0


def test_usage_table_by_model(cli: Cli, data_dir: Path) -> None:
    write(data_dir, ENTRIES)
    # By hand: latencies 120 and 480 ms fall in the buckets [101.6, 128) and [406.4, 512),
    # reported at their geometric middles 114 and 456 ms; 30 ms -> 28.5, 2,500 ms -> 2,299.
    assert cli.ok("usage").out.splitlines() == [
        "Usage by model, 2026-11-11 11:00 to 2026-11-18 12:00 (local time)",
        "MODEL              REQUESTS  OK %   INPUT   OUTPUT  CACHED  REASONING  COST      P50     "
        "P95     P99",
        "claude-sonnet-5-5  2         100.0  4,000   300     600     40         $0.0149   114 ms  "
        "456 ms  456 ms",
        "gpt-x              2         50.0   ~900    ~30     0       0          $0.0000*  29 ms   "
        "2.3 s   2.3 s",
        "TOTAL              4         75.0   ~4,900  ~330    600     40         $0.0149*  114 ms  "
        "2.3 s   2.3 s",
        "~ 1 request(s) with estimated tokens: the upstream reported none (docs/usage.md)",
        "* cost leaves out 1 request(s) with no known price (`switchboard price list`, "
        "`switchboard price set`)",
        "Latency percentiles are within 12%.",
    ]


def test_usage_by_key_per_hour_and_since(cli: Cli, data_dir: Path) -> None:
    write(data_dir, ENTRIES)
    lines = cli.ok("usage", "--by", "key", "--bucket", "hour", "--since", "3h").out.splitlines()
    assert lines[0] == "Usage by key, 2026-11-18 08:00 to 2026-11-18 12:00 (local time)"
    assert [line.split()[:4] for line in lines[2:5]] == [
        ["2026-11-18", "09:00", "laptop", "2"],
        ["2026-11-18", "10:00", "ci", "2"],
        ["TOTAL", "4", "75.0", "~4,900"],
    ]
    everything = cli.json("usage", "--by", "provider", "--since", "2026-11-01")
    assert [(r["provider"], r["requests"]) for r in everything["rows"]] == [
        ("anthropic", 3),
        ("openai", 2),
    ]
    assert everything["since"] == "2026-11-01T00:00:00+00:00"
    assert everything["total"]["cost_usd"] == pytest.approx(1.01488)


def test_usage_json(cli: Cli, data_dir: Path) -> None:
    write(data_dir, ENTRIES)
    report = cli.json("usage", "--by", "connection", "--bucket", "day")
    assert (report["by"], report["bucket"]) == ("connection", "day")
    assert report["until"] == "2026-11-18T12:00:00+00:00"
    assert report["latency_error"] == pytest.approx(0.122462, abs=1e-6)
    team, work = report["rows"]
    assert team["period"] == "2026-11-18T00:00:00+00:00" and team["connection"] == "team"
    assert team == {
        **team,
        "requests": 2,
        "succeeded": 2,
        "success_rate": 1.0,
        "tokens_in": 4000,
        "tokens_out": 300,
        "cached_tokens": 600,
        "cache_write_tokens": 0,
        "reasoning_tokens": 40,
        "estimated": 0,
        "unpriced": 0,
    }
    assert team["cost_usd"] == pytest.approx(0.01488)
    assert team["latency_ms"]["avg"] == 300.0
    assert (work["connection"], work["unpriced"], work["estimated"]) == ("work", 1, 1)


def test_usage_refuses_a_bad_since(cli: Cli) -> None:
    result = cli("usage", "--since", "last week")
    assert result.code == 1
    assert result.err == (
        "switchboard: --since 'last week': give a span such as 12h, 7d or 4w, or a date such "
        "as 2026-11-01\n"
    )


def test_price_set_list_remove(cli: Cli) -> None:
    out = cli.ok("price", "set", "deepseek/deepseek-flash", "--input", "0.25", "--output", "1",
                 "--cache-read", "0.005").out  # fmt: skip
    assert out == (
        "Price for ds/deepseek-flash: $0.25 input, $1 output per 1M tokens, $0.005 cached.\n"
    )
    rows = cli.json("price", "list")
    assert rows[0] == {
        "model": "ds/deepseek-flash",
        "input": 0.25,
        "output": 1.0,
        "cache_read": 0.005,
        "cache_write": None,
        "source": "yours",
        "as_of": None,
    }
    assert not any(r["model"] == "ds/deepseek-flash" and r["source"] == "catalog" for r in rows)
    gemini = next(r for r in rows if r["model"] == "gemini/gemini-3.8-flash")
    assert (gemini["input"], gemini["source"], gemini["as_of"]) == (0.75, "catalog", "2026-10-07")
    assert rows[-4:] == [
        {"model": f"{alias}/*", "input": 0.0, "output": 0.0, "cache_read": 0.0,
         "cache_write": 0.0, "source": tier, "as_of": None}
        for alias, tier in (("nvidia", "free"), ("ollama", "local"), ("lm-studio", "local"),
                            ("llama-cpp", "local"))
    ]  # fmt: skip
    table = cli.ok("price", "list").out.splitlines()
    assert table[0].split() == ["MODEL", "INPUT", "OUTPUT", "CACHE", "READ", "CACHE", "WRITE",
                                "SOURCE"]  # fmt: skip
    assert table[1].split() == ["ds/deepseek-flash", "$0.25", "$1", "$0.005", "-", "yours"]
    groq = next(line for line in table if line.startswith("groq/llama-3.1-8b-instant"))
    assert groq.split()[-3:] == ["catalog,", "by", "2026-11-17"]
    assert table[-1] == 'USD per 1M tokens. Unlisted models cost "unknown" until you set a price.'

    assert cli.ok("price", "remove", "ds/deepseek-flash").out == (
        "Your price for ds/deepseek-flash is removed; the shipped price (if any) applies again.\n"
    )
    assert cli.json("price", "list")[0]["source"] == "catalog"


def test_price_errors(cli: Cli) -> None:
    bad = cli("price", "set", "ghost/m", "--input", "1", "--output", "1")
    assert bad.code == 1 and "unknown prefix 'ghost'" in bad.err
    negative = cli("price", "set", "openai/x", "--input", "-1", "--output", "1")
    assert negative.code == 1
    assert negative.err == (
        "switchboard: price openai/x: input: Input should be greater than or equal to 0\n"
    )
    missing = cli("price", "remove", "openai/x")
    assert missing.code == 1
    assert missing.err == (
        "switchboard: no price of yours for 'openai/x' (see `switchboard price list`)\n"
    )


def test_logs_show_the_cost(cli: Cli, data_dir: Path) -> None:
    write(data_dir, [ENTRIES[0], ENTRIES[2], ENTRIES[3]])
    lines = cli.ok("logs").out.splitlines()
    assert lines[0].endswith("1000→200 tok  $0.004380  key=laptop  id=req-1")
    assert lines[1].endswith("~900→30 tok  cost unknown  key=ci  id=req-3")
    assert lines[2].endswith("-  key=ci  id=req-4  upstream 429: slow down")
    free = entry(NOW, 6, provider="ollama", tokens_in=5, tokens_out=5, cost_usd=0.0,
                 price_source="local")  # fmt: skip
    write(data_dir, [free])
    assert (
        cli.ok("logs", "--tail", "1")
        .out.rstrip()
        .endswith("5→5 tok  $0 (local)  key=laptop  id=req-6")
    )
