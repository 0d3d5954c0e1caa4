"""Window arithmetic: resets, DST changes and time zones, on exact instants."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.usage.windows import ROLLING_S, Window, WindowError, countdown, percent

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def at(tz: ZoneInfo, *parts: int) -> float:
    return datetime(*parts, tzinfo=tz).timestamp()  # type: ignore[misc]


def wall(tz: ZoneInfo, ts: float) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %z")


def span(window: Window, tz: ZoneInfo, now: float) -> tuple[str, str, float]:
    start, end = window.current(now)
    return wall(tz, start), wall(tz, end), (end - start) / 3600


def test_daily_resets_at_the_hour_in_its_zone() -> None:
    daily = Window("daily", reset_hour=9, timezone="Asia/Tokyo")
    assert span(daily, TOKYO, at(TOKYO, 2026, 5, 10, 8, 59)) == (
        "2026-05-09 09:00 +0900",
        "2026-05-10 09:00 +0900",
        24,
    )
    assert span(daily, TOKYO, at(TOKYO, 2026, 5, 10, 9, 0)) == (
        "2026-05-10 09:00 +0900",
        "2026-05-11 09:00 +0900",
        24,
    )


def test_daily_across_spring_forward_in_paris_lasts_23_hours() -> None:
    daily = Window("daily", reset_hour=0, timezone="Europe/Paris")
    assert span(daily, PARIS, at(PARIS, 2026, 3, 29, 12)) == (
        "2026-03-29 00:00 +0100",
        "2026-03-30 00:00 +0200",
        23,
    )


def test_daily_across_fall_back_in_new_york_lasts_25_hours() -> None:
    daily = Window("daily", reset_hour=0, timezone="America/New_York")
    assert span(daily, NEW_YORK, at(NEW_YORK, 2026, 11, 1, 12)) == (
        "2026-11-01 00:00 -0400",
        "2026-11-02 00:00 -0500",
        25,
    )


def test_a_reset_hour_inside_the_spring_gap_happens_when_the_gap_ends() -> None:
    daily = Window("daily", reset_hour=2, timezone="America/New_York")  # 2026-03-08 02:00 absent
    start, end = daily.current(at(NEW_YORK, 2026, 3, 8, 12))
    assert wall(NEW_YORK, start) == "2026-03-08 03:00 -0400"
    assert wall(NEW_YORK, end) == "2026-03-09 02:00 -0400"
    # Just before the jump, the window that began the day before is still open.
    assert wall(NEW_YORK, daily.current(start - 1)[0]) == "2026-03-07 02:00 -0500"
    assert daily.current(start - 1)[1] == start


def test_a_repeated_reset_hour_resets_at_its_first_occurrence() -> None:
    daily = Window("daily", reset_hour=1, timezone="America/New_York")  # 01:00 twice on 11-01
    start, end = daily.current(at(NEW_YORK, 2026, 11, 1, 12))
    assert wall(NEW_YORK, start) == "2026-11-01 01:00 -0400"
    assert (end - start) / 3600 == 25


def test_the_same_instant_is_in_different_days_in_different_zones() -> None:
    now = at(ZoneInfo("UTC"), 2026, 6, 1, 23, 30)
    paris = Window("daily", timezone="Europe/Paris").current(now)
    new_york = Window("daily", timezone="America/New_York").current(now)
    assert wall(PARIS, paris[0]) == "2026-06-02 00:00 +0200"
    assert wall(NEW_YORK, new_york[0]) == "2026-06-01 00:00 -0400"


def test_weekly_resets_on_its_weekday_and_hour() -> None:
    weekly = Window("weekly", reset_weekday=2, reset_hour=17, timezone="Europe/Paris")  # Wed
    # Wednesday 2026-03-25 16:00: the week began the Wednesday before.
    assert span(weekly, PARIS, at(PARIS, 2026, 3, 25, 16)) == (
        "2026-03-18 17:00 +0100",
        "2026-03-25 17:00 +0100",
        168,
    )
    # That week holds the spring change: 167 hours.
    assert span(weekly, PARIS, at(PARIS, 2026, 3, 25, 17)) == (
        "2026-03-25 17:00 +0100",
        "2026-04-01 17:00 +0200",
        167,
    )


def test_monthly_reset_day_is_clamped_to_the_month() -> None:
    monthly = Window("monthly", reset_day=31, timezone="UTC")
    utc = ZoneInfo("UTC")
    assert span(monthly, utc, at(utc, 2026, 2, 15))[:2] == (
        "2026-01-31 00:00 +0000",
        "2026-02-28 00:00 +0000",
    )
    assert span(monthly, utc, at(utc, 2026, 3, 1))[:2] == (
        "2026-02-28 00:00 +0000",
        "2026-03-31 00:00 +0000",
    )
    leap = Window("monthly", reset_day=30, timezone="UTC")
    assert span(leap, utc, at(utc, 2028, 3, 10))[:2] == (
        "2028-02-29 00:00 +0000",
        "2028-03-30 00:00 +0000",
    )


def test_monthly_across_new_year() -> None:
    monthly = Window("monthly", reset_day=15, reset_hour=6, timezone="America/New_York")
    assert span(monthly, NEW_YORK, at(NEW_YORK, 2027, 1, 3))[:2] == (
        "2026-12-15 06:00 -0500",
        "2027-01-15 06:00 -0500",
    )


def test_local_zone_follows_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        start, end = Window("daily", timezone="local").current(at(PARIS, 2026, 3, 29, 12))
        assert (wall(PARIS, start), (end - start) / 3600) == ("2026-03-29 00:00 +0100", 23)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_rolling_window_starts_with_its_first_request() -> None:
    rolling = Window("5h")
    assert rolling.current(1000.0) == (1000.0, 1000.0 + ROLLING_S)  # none open: it would start
    assert rolling.current(2000.0, anchor=1000.0) == (1000.0, 1000.0 + ROLLING_S)
    ended = 1000.0 + ROLLING_S
    assert rolling.current(ended, anchor=1000.0) == (ended, ended + ROLLING_S)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "resets in 0 s"),
        (44.2, "resets in 45 s"),
        (59, "resets in 59 s"),
        (60, "resets in 1 min"),
        (45 * 60 + 59, "resets in 45 min"),
        (3600, "resets in 1 h"),
        (3600 + 12 * 60 + 30, "resets in 1 h 12 min"),
        (86400 - 1, "resets in 23 h 59 min"),
        (86400, "resets in 1 d"),
        (3 * 86400 + 4 * 3600 + 59, "resets in 3 d 4 h"),
        (-5, "resets in 0 s"),
    ],
)
def test_countdown_text(seconds: float, text: str) -> None:
    assert countdown(seconds) == text


def test_percent() -> None:
    assert percent(150, 200) == 75.0
    assert percent(0, 0) == 100.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "hourly"}, "window 'hourly'"),
        ({"kind": "daily", "reset_hour": 24}, "reset_hour 24"),
        ({"kind": "weekly", "reset_weekday": 7}, "reset_weekday 7"),
        ({"kind": "monthly", "reset_day": 0}, "reset_day 0"),
        ({"kind": "daily", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_invalid_windows_say_which_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(WindowError, match=message):
        Window(**kwargs)  # type: ignore[arg-type]
