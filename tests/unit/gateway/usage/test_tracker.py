"""Live counts per window: exact sums, skips until the reset, budgets, events once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.observe.request_log import INSERT_SQL, LogEntry
from gateway.store.db import open_logs_db
from gateway.usage.counters import Amounts, Reading
from gateway.usage.events import EventBook, load_fired
from gateway.usage.limits import Limit
from gateway.usage.tracker import Skip, UsageTracker, read_seed
from gateway.usage.windows import ROLLING_S, Window
from tests.support.chaos import FakeClock

UTC = ZoneInfo("UTC")
T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC).timestamp()  # a Monday
Fired = list[tuple[str, str, Mapping[str, object]]]


def quota(window: str, limit: float, unit: str = "requests", name: str = "work") -> Limit:
    return Limit("connection", name, window, Window(window), limit, unit, "user")  # type: ignore[arg-type]


def budget(scope: str, name: str, period: str, usd: float) -> Limit:
    kind = {"day": "daily", "week": "weekly", "month": "monthly"}[period]
    return Limit(scope, name, period, Window(kind), usd, "usd", "budget")  # type: ignore[arg-type]


def entry(
    connection: str = "work",
    *,
    provider: str = "openai",
    key: str | None = "laptop",
    status: int = 200,
    tokens: tuple[int, int] = (10, 5),
    cost: float | None = 0.25,
) -> LogEntry:
    e = LogEntry(T0, "r", "openai", key_name=key, provider=provider, connection=connection)
    e.status, e.tokens_in, e.tokens_out, e.cost_usd = status, tokens[0], tokens[1], cost
    return e


def tracker(limits: list[Limit], clock: FakeClock, fired: Fired | None = None) -> UsageTracker:
    book = EventBook()
    if fired is not None:
        book.emit = lambda kind, detail, data: fired.append((kind, detail, data))
    usage = UsageTracker(clock, book)
    usage.configure(limits, {"openai": "api-key", "deepseek": "cheap"}, 99.0)
    return usage


def test_counts_are_exact_per_unit_and_scope() -> None:
    clock = FakeClock(T0)
    usage = tracker(
        [
            quota("daily", 100),
            quota("weekly", 1000, "tokens"),
            budget("provider", "openai", "month", 10),
            budget("tier", "api-key", "day", 10),
            budget("key", "laptop", "week", 10),
            quota("daily", 100, name="other"),
        ],
        clock,
    )
    usage.record(entry())
    usage.record(entry(status=429, tokens=(0, 0), cost=None))  # refused: nothing used
    usage.record(entry(status=200, tokens=(7, 3), cost=0.5))
    usage.record(entry(provider=None, tokens=(100, 0)))  # type: ignore[arg-type]
    usage.record(entry(provider="deepseek", connection="ds", key=None))
    got = {(s.scope, s.name, s.window): (s.used, s.percent) for s in usage.states()}
    assert got == {
        ("connection", "work", "daily"): (2.0, 2.0),
        ("connection", "work", "weekly"): (25.0, 2.5),
        ("provider", "openai", "month"): (0.75, 7.5),
        ("tier", "api-key", "day"): (0.75, 7.5),
        ("key", "laptop", "week"): (0.75, 7.5),
        ("connection", "other", "daily"): (0.0, 0.0),
    }


def test_a_connection_at_the_threshold_is_skipped_until_the_reset() -> None:
    clock = FakeClock(T0)
    usage = tracker([quota("daily", 3)], clock)
    for _ in range(2):
        usage.record(entry())
    assert usage.blocked("work", "openai") is None
    usage.record(entry())
    clock.advance(48 * 60)  # 10:48; the day resets at midnight UTC
    midnight = datetime(2026, 6, 2, tzinfo=UTC).timestamp()
    assert usage.blocked("work", "openai") == Skip(
        "quota: daily window at 100 % (resets in 13 h 12 min)", midnight
    )
    assert usage.blocked("other", "openai") is None
    clock.now = midnight
    assert usage.blocked("work", "openai") is None
    assert usage.states()[0].used == 0


def test_threshold_below_100() -> None:
    clock = FakeClock(T0)
    usage = tracker([quota("daily", 10)], clock)
    usage.configure(usage.states and [quota("daily", 10)], {}, 80.0)
    for _ in range(7):
        usage.record(entry())
    assert usage.blocked("work", "openai") is None
    usage.record(entry())
    skip = usage.blocked("work", "openai")
    assert skip is not None and skip.reason.startswith("quota: daily window at 80 %")


def test_rolling_window_starts_at_first_request_and_ends_5h_later() -> None:
    clock = FakeClock(T0)
    usage = tracker([quota("5h", 2)], clock)
    clock.advance(600)
    usage.record(entry())
    clock.advance(3600)
    usage.record(entry())
    skip = usage.blocked("work", "openai")
    assert skip == Skip("quota: 5-hour window at 100 % (resets in 4 h)", T0 + 600 + ROLLING_S)
    clock.now = T0 + 600 + ROLLING_S
    assert usage.blocked("work", "openai") is None
    clock.advance(100)
    usage.record(entry())
    state = usage.states()[0]
    assert (state.used, state.starts_at, state.resets_at) == (
        1.0,
        clock.now,
        clock.now + ROLLING_S,
    )


def test_budgets_skip_their_targets_and_say_which() -> None:
    clock = FakeClock(T0)
    usage = tracker(
        [budget("tier", "cheap", "day", 1.0), budget("connection", "work", "week", 0.5)], clock
    )
    usage.record(entry(provider="deepseek", connection="ds"))
    assert usage.blocked("ds", "deepseek") is None
    usage.record(entry(provider="deepseek", connection="ds", cost=0.75))
    skip = usage.blocked("ds", "deepseek")
    assert skip is not None
    assert skip.reason == (
        "budget: tier 'cheap' daily budget of $1.00 is spent ($1.00; resets in 14 h)"
    )
    usage.record(entry(cost=0.5))
    skip = usage.blocked("work", "openai")
    assert skip is not None and skip.reason.startswith("budget: its weekly budget of $0.50")
    assert skip.until == datetime(2026, 6, 8, tzinfo=UTC).timestamp()  # next Monday


def test_key_budget() -> None:
    clock = FakeClock(T0)
    usage = tracker([budget("key", "laptop", "month", 0.5)], clock)
    usage.record(entry())
    assert usage.key_budget("laptop") is None
    usage.record(entry())
    over = usage.key_budget("laptop")
    assert over is not None and over[1] == datetime(2026, 7, 1, tzinfo=UTC).timestamp()
    assert usage.key_budget("someone") is None and usage.key_budget(None) is None


def test_events_fire_once_per_window_and_reset_fires_after_a_warning() -> None:
    clock = FakeClock(T0)
    fired: Fired = []
    usage = tracker([quota("daily", 5), budget("key", "laptop", "day", 1.0)], clock, fired)
    for _ in range(4):  # a burst: at this rate the window runs out in minutes
        usage.record(entry())
    assert [k for k, _, _ in fired] == ["quota_forecast", "quota_warning", "budget_crossed"]
    del fired[0]
    _, detail, data = fired[0]
    assert detail == "work: daily window at 80 % (resets in 14 h)"
    assert data == {
        "scope": "connection",
        "name": "work",
        "connection": "work",
        "window": "daily",
        "limit": 5.0,
        "unit": "requests",
        "percent": 80.0,
        "used": 4.0,
        "resets_at": datetime(2026, 6, 2, tzinfo=UTC).timestamp(),
    }
    usage.record(entry())
    usage.record(entry())
    assert [k for k, _, _ in fired] == ["quota_warning", "budget_crossed", "quota_exhausted"]
    clock.now = datetime(2026, 6, 2, 0, 0, 30, tzinfo=UTC).timestamp()
    usage.tick()
    usage.tick()
    assert [k for k, _, _ in fired][3:] == ["quota_reset"]
    assert fired[3][1] == "work: the daily window has reset"
    usage.record(entry())
    usage.tick()  # a window that never reached 80 % resets quietly
    clock.now = datetime(2026, 6, 3, 1, tzinfo=UTC).timestamp()
    usage.tick()
    assert len(fired) == 4


def test_forecast_fires_once_when_the_window_runs_out_within_30_min() -> None:
    clock = FakeClock(T0)
    fired: Fired = []
    usage = tracker([quota("daily", 100)], clock, fired)
    for _ in range(10):  # 10 requests in 10 minutes: 90 left would last 135 min
        usage.record(entry())
        clock.advance(60)
    assert fired == []
    # The rate: what the last 15 minutes used, over 15 minutes. The 34th request makes it 34
    # per 900 s, and the 66 left last 1747 s, under 30 min.
    for _ in range(23):
        usage.record(entry())
    assert fired == []
    usage.record(entry())
    assert [k for k, _, _ in fired] == ["quota_forecast"]
    assert fired[0][1] == "work: daily window runs out in about 29 min at the current rate"
    assert fired[0][2]["exhausted_at"] == pytest.approx(clock.now + 66 * 900 / 34)
    usage.record(entry())
    assert [k for k, _, _ in fired] == ["quota_forecast"]


def test_a_provider_reading_overrides_the_local_count_until_its_reset() -> None:
    clock = FakeClock(T0)
    usage = tracker([quota("weekly", 1000)], clock)
    usage.record(entry())
    assert usage.apply_reading("work", Reading("weekly", 0.995, T0 + 3600, T0))
    assert not usage.apply_reading("work", Reading("5h", 0.5, None, T0))  # not configured
    state = usage.states()[0]
    assert (state.percent, state.used, state.source, state.resets_at) == (
        99.5,
        995.0,
        "provider",
        T0 + 3600,
    )
    skip = usage.blocked("work", "openai")
    assert skip == Skip("quota: weekly window at 99 % (resets in 1 h)", T0 + 3600)
    clock.advance(3600)
    assert usage.blocked("work", "openai") is None
    assert usage.states()[0].source == "user" and usage.states()[0].used == 1.0


def test_configure_keeps_counts_of_unchanged_limits() -> None:
    clock = FakeClock(T0)
    usage = tracker([quota("daily", 10), quota("weekly", 10)], clock)
    usage.record(entry())
    fresh = usage.configure([quota("daily", 20), quota("monthly", 5)], {}, 99.0)
    assert [x.label for x in fresh] == ["monthly"]
    assert [(s.window, s.used, s.limit) for s in usage.states()] == [
        ("daily", 1.0, 20.0),
        ("monthly", 0.0, 5.0),
    ]


def test_seed_reads_request_log_and_events_survive_a_restart(data_dir: Path) -> None:
    conn = open_logs_db(data_dir)
    try:
        rows = [
            (T0 - 86400, "old", "openai", "work", 200, 1.0),  # yesterday
            (T0 - 7 * 3600, "s1", "openai", "work", 200, 1.0),  # an earlier 5-hour session
            (T0 - 3600, "s2", "openai", "work", 200, 1.0),  # starts the open session
            (T0 - 1800, "s3", "openai", "work", 500, 0.0),  # failed: tokens only
            (T0 - 600, "s4", "deepseek", "ds", 200, 2.0),
        ]
        for ts, rid, provider, connection, status, cost in rows:
            e = entry(connection, provider=provider, status=status, cost=cost)
            e.ts, e.request_id = ts, rid
            conn.execute(INSERT_SQL, e.row())
        limits = [
            quota("5h", 10),
            quota("daily", 100, "tokens"),
            budget("tier", "cheap", "day", 5),
            budget("key", "laptop", "day", 5),
        ]
        seeds = read_seed(conn, limits, {"openai": "api-key", "deepseek": "cheap"}, T0)
        assert seeds == {
            limits[0].key: (T0 - 3600, Amounts(1, 30, 1.0)),
            limits[1].key: (None, Amounts(2, 45, 2.0)),
            limits[2].key: (None, Amounts(1, 15, 2.0)),
            limits[3].key: (None, Amounts(3, 60, 4.0)),
        }
        conn.execute(
            "INSERT INTO quota_events VALUES ('quota:connection:work', '5h', ?, "
            "'quota_warning', ?)",
            (T0 - 3600, T0),
        )
        fired: Fired = []
        clock = FakeClock(T0)
        usage = tracker(limits, clock, fired)
        usage.book.remember(load_fired(conn, T0 - 40 * 86400))
        usage.seed(seeds)
        # 5h at 10 %: no event; the warning for this session already fired before the restart
        assert [k for k, _, _ in fired] == []
        clock.now = T0 - 3600 + ROLLING_S
        usage.tick()
        assert [k for k, _, _ in fired] == ["quota_reset"]
    finally:
        conn.close()
