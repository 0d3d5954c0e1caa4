"""Quota and budget windows: pure arithmetic on Unix times (docs/usage.md "Quota windows").

A window is rolling (a 5-hour session that starts with the first request after the previous
one ended) or calendar (daily, weekly, monthly, reset at a wall-clock hour in an IANA time
zone or the machine's local zone). Calendar boundaries are computed on wall-clock dates, so a
day across a DST change lasts 23 or 25 hours; a reset hour that does not exist that day (the
spring-forward gap) happens when the gap ends, and one that exists twice (fall back) at its
first occurrence.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WindowKind = Literal["5h", "daily", "weekly", "monthly"]
Unit = Literal["requests", "tokens", "usd"]
WINDOW_KINDS: Final[tuple[WindowKind, ...]] = ("5h", "daily", "weekly", "monthly")
UNITS: Final[tuple[Unit, ...]] = ("requests", "tokens", "usd")
ROLLING_S: Final = 5 * 3600.0
LOCAL: Final = "local"
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TITLES: Final[dict[str, str]] = {
    "5h": "5-hour",
    "daily": "daily",
    "weekly": "weekly",
    "monthly": "monthly",
}


class WindowError(ValueError):
    """A window definition is invalid; the message names the field."""


def zone(name: str) -> tzinfo | None:
    """The time zone called ``name`` ("local": None, the machine's own rules)."""
    if name == LOCAL:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(
            f"unknown time zone {name!r} (an IANA name such as Europe/Paris)"
        ) from None


@dataclass(frozen=True, slots=True)
class Window:
    """One window's shape. ``reset_hour`` applies to calendar windows, ``reset_weekday``
    (0 = Monday) to weekly ones, ``reset_day`` (clamped to the month's length) to monthly."""

    kind: WindowKind
    reset_hour: int = 0
    reset_weekday: int = 0
    reset_day: int = 1
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.kind not in WINDOW_KINDS:
            raise WindowError(f"window {self.kind!r}: one of {', '.join(WINDOW_KINDS)}")
        if not 0 <= self.reset_hour <= 23:
            raise WindowError(f"reset_hour {self.reset_hour}: 0 to 23")
        if not 0 <= self.reset_weekday <= 6:
            raise WindowError(f"reset_weekday {self.reset_weekday}: 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.reset_day <= 31:
            raise WindowError(f"reset_day {self.reset_day}: 1 to 31")
        zone(self.timezone)

    @property
    def rolling(self) -> bool:
        return self.kind == "5h"

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def current(self, now: float, anchor: float | None = None) -> tuple[float, float]:
        """(start, end) of the window ``now`` is in. A rolling window started at ``anchor``
        (its first request); with no open one (none, or it ended) one would start now."""
        if self.rolling:
            if anchor is not None and anchor <= now < anchor + ROLLING_S:
                return anchor, anchor + ROLLING_S
            return now, now + ROLLING_S
        tz = zone(self.timezone)
        today = _wall(now, tz).date()
        start_day = self._start_on_or_before(today)
        start = _instant(start_day, self.reset_hour, tz)
        if start > now:  # today's reset is still ahead: the window began at the previous one
            start_day = self._start_on_or_before(start_day - timedelta(days=1))
            start = _instant(start_day, self.reset_hour, tz)
        return start, _instant(self._next_start(start_day), self.reset_hour, tz)

    def _start_on_or_before(self, day: date) -> date:
        if self.kind == "daily":
            return day
        if self.kind == "weekly":
            return day - timedelta(days=(day.weekday() - self.reset_weekday) % 7)
        this_month = _clamped(day.year, day.month, self.reset_day)
        if this_month <= day:
            return this_month
        year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        return _clamped(year, month, self.reset_day)

    def _next_start(self, start_day: date) -> date:
        if self.kind == "daily":
            return start_day + timedelta(days=1)
        if self.kind == "weekly":
            return start_day + timedelta(days=7)
        year, month = (
            (start_day.year, start_day.month + 1)
            if start_day.month < 12
            else (start_day.year + 1, 1)
        )
        return _clamped(year, month, self.reset_day)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _wall(ts: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz) if tz is not None else datetime.fromtimestamp(ts)


def _instant(day: date, hour: int, tz: tzinfo | None) -> float:
    """The Unix time of ``hour``:00 on ``day`` in ``tz`` (None: local). With fold 0 a time
    in the spring-forward gap takes the offset before the change, which for a whole-hour gap
    is the instant the gap ends; a time that exists twice is its first occurrence."""
    wall = datetime(day.year, day.month, day.day, hour)
    if tz is None:
        return wall.timestamp()  # the C library's local rules
    return wall.replace(tzinfo=tz).timestamp()


def countdown(seconds: float) -> str:
    """ "resets in 45 s", "resets in 12 min", "resets in 1 h 12 min", "resets in 3 d 4 h"."""
    return "resets in " + duration(seconds)


def duration(seconds: float) -> str:
    total = max(math.ceil(seconds), 0)
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min"
    if total < 86400:
        hours, minutes = divmod(total // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(total // 3600, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(used: float, limit: float) -> float:
    """Used as a percentage of the limit (a zero limit is always full)."""
    return 100.0 if limit <= 0 else used * 100.0 / limit
