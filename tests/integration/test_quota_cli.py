"""``switchboard quota`` and ``switchboard budget``, in-process, against real SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import quota_cmd
from gateway.observe.request_log import INSERT_SQL, LogEntry
from gateway.store.db import open_logs_db
from tests.integration.test_cli import Cli
from tests.support.gateway import import_toml

NOW = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC, a Wednesday


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setattr(quota_cmd, "_now", lambda: NOW)
    import_toml(
        data_dir,
        '[settings]\nbudget_timezone = "UTC"\n'
        '[[api_keys]]\nname = "laptop"\nkey = "sk-sb-0123456789abcdef0123456789abcdef"\n'
        '[[connections]]\nname = "team"\nprovider = "anthropic"\napi_key = "k"\n',
    )
    conn = open_logs_db(data_dir)
    try:
        for n, ago in enumerate((30 * 60, 20 * 60, 10 * 60, 26 * 3600)):
            row = LogEntry(NOW - ago, f"r{n}", "anthropic", key_name="laptop", provider="anthropic")
            row.connection, row.status, row.tokens_in, row.tokens_out = "team", 200, 100, 20
            row.cost_usd = 0.5
            conn.execute(INSERT_SQL, row.row())
    finally:
        conn.close()
    return Cli(capsys, data_dir)


def test_quota_set_show_and_remove(cli: Cli) -> None:
    cli.ok("quota", "set", "team", "--window", "5h", "--limit", "4", "--unit", "requests")
    out = cli.ok(
        "quota", "set", "team", "--window", "weekly", "--limit", "1000", "--unit", "tokens",
        "--reset-weekday", "thu", "--timezone", "Europe/Paris",
    ).out  # fmt: skip
    assert out == "team: weekly window of 1000 tokens.\n"
    shown = cli.json("quota")
    assert [(s["window"], s["used"], s["limit"], s["percent"], s["countdown"]) for s in shown] == [
        ("5h", 3.0, 4.0, 75.0, "resets in 4 h 30 min"),  # the session began 30 min ago
        ("weekly", 480.0, 1000.0, 48.0, "resets in 11 h 53 min"),  # Thu 00:00 Paris
    ]
    table = cli.ok("quota").out.splitlines()
    assert table[0].split() == ["CONNECTION", "WINDOW", "USED", "LIMIT", "LEFT", "RESET", "SOURCE"]
    assert table[1].split() == ["team", "5h", "3", "4", "requests", "25", "%", "resets", "in", "4",
                                "h", "30", "min", "user"]  # fmt: skip
    assert cli.ok("quota", "remove", "team", "--window", "5h").out == "team: 1 window(s) removed.\n"
    bad = cli("quota", "set", "ghost", "--window", "5h", "--limit", "1", "--unit", "usd")
    assert bad.code == 1 and "no connection named 'ghost'" in bad.err
    bad = cli("quota", "set", "team", "--window", "daily", "--limit", "-1", "--unit", "usd")
    assert bad.code == 1 and "quota: limit: Input should be greater than 0" in bad.err


def test_budget_set_list_remove(cli: Cli) -> None:
    assert cli.ok("budget", "set", "key", "laptop", "--period", "day", "--limit", "2").out == (
        "key laptop: $2 per day.\n"
    )
    cli.ok("budget", "set", "tier", "api-key", "--period", "month", "--limit", "10")
    listed = cli.json("budget", "list")
    assert [(b["scope"], b["name"], b["window"], b["used"], b["percent"]) for b in listed] == [
        ("key", "laptop", "day", 1.5, 75.0),
        ("tier", "api-key", "month", 2.0, 20.0),
    ]
    table = [line.split() for line in cli.ok("budget", "list").out.splitlines()]
    assert table[1] == ["key", "laptop", "day", "$1.50", "$2.00", "25", "%", "resets", "in", "12",
                        "h", "53", "min", "budget"]  # fmt: skip
    bad = cli("budget", "set", "tier", "gold", "--period", "day", "--limit", "1")
    assert bad.code == 1 and "no tier named 'gold'" in bad.err
    assert cli.ok("budget", "remove", "key", "laptop").out == "key laptop: 1 budget(s) removed.\n"
    assert cli("budget", "remove", "key", "laptop").code == 1
