"""Live usage per quota window and budget, fed when each request ends.

The tracker holds one :class:`Count` per configured limit (memory is bounded by the
configuration), seeded at start from request_log, and answers the request path's questions
in O(limits of that target): is this connection (provider, tier) over a window or a budget,
is this client key over its budget. Used from the gateway's event loop only, except
:func:`read_seed`, which reads logs.db off the loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import apsw

from gateway.observe.usage import succeeded
from gateway.usage import events
from gateway.usage.counters import Amounts, Count, Reading
from gateway.usage.events import EventBook
from gateway.usage.limits import Limit
from gateway.usage.windows import ROLLING_S, countdown

if TYPE_CHECKING:
    from gateway.observe.request_log import LogEntry

WARNING_PERCENT: Final = 80.0
FORECAST_S: Final = 1800.0  # quota_forecast when a window runs out within 30 min
ANCHOR_LOOKBACK: Final = 4  # rolling windows: sessions walked back when seeding


@dataclass(frozen=True, slots=True)
class Skip:
    """Why a target must not be tried, and when that ends (Unix time)."""

    reason: str
    until: float


@dataclass(frozen=True, slots=True)
class WindowState:
    """One window or budget, as the tray, `switchboard quota` and `budget list` show it."""

    scope: str
    name: str
    window: str  # 5h, daily, weekly, monthly; for budgets day, week, month
    unit: str
    used: float
    limit: float
    percent: float
    remaining_percent: float
    starts_at: float
    resets_at: float
    countdown: str
    source: str  # user, catalog, budget, provider (a quota endpoint's reading)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


Seed = dict[tuple[str, str, str], tuple[float | None, Amounts]]  # limit key -> (anchor, used)


class UsageTracker:
    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        book: EventBook | None = None,
    ) -> None:
        self.clock = clock  # wall-clock Unix time: windows follow the calendar
        self.book = book if book is not None else EventBook()
        self.threshold = 99.0
        self._counts: dict[tuple[str, str, str], Count] = {}
        self._by_target: dict[tuple[str, str], list[Count]] = {}  # (scope, name) -> counts
        self._tiers: Mapping[str, str] = {}

    # configuration --------------------------------------------------------------------------

    def configure(
        self, limits: Sequence[Limit], tiers: Mapping[str, str], threshold: float
    ) -> list[Limit]:
        """Adopt a new configuration; counts of unchanged limits are kept. Returns the new
        limits, which start at zero until :meth:`seed` fills them in."""
        now = self.clock()
        self.threshold = threshold
        self._tiers = tiers
        old = self._counts
        counts: dict[tuple[str, str, str], Count] = {}
        fresh: list[Limit] = []
        for limit in limits:
            count = old.get(limit.key)
            if count is None or count.limit.window != limit.window:
                start, end = limit.window.current(now)
                count = Count(limit, start, end)
                fresh.append(limit)
            else:
                count.limit = limit  # a new ceiling applies to what was counted
            counts[limit.key] = count
        self._counts = counts
        by_target: dict[tuple[str, str], list[Count]] = {}
        for count in counts.values():
            by_target.setdefault((count.limit.scope, count.limit.name), []).append(count)
        self._by_target = by_target
        return fresh

    def seed(self, seeds: Seed) -> None:
        """Counts read from request_log (:func:`read_seed`) for the limits it names."""
        now = self.clock()
        for key, (anchor, used) in seeds.items():
            count = self._counts.get(key)
            if count is None:
                continue
            count.anchor = anchor
            count.start, count.end = count.limit.window.current(now, anchor)
            count.used = used
            self._check(count, now)

    # the request path -----------------------------------------------------------------------

    def record(self, entry: LogEntry) -> None:
        """A request ended (its usage settled): add it to every limit it counts for."""
        if entry.provider is None or not self._counts:
            return  # answered here: nothing was used upstream
        requests = int(succeeded(entry.status, entry.error))
        tokens = (entry.tokens_in or 0) + (entry.tokens_out or 0)
        usd = entry.cost_usd or 0.0
        if not (requests or tokens or usd):
            return
        now = self.clock()
        for count in self._targets(entry.connection, entry.provider, entry.key_name):
            self._roll(count, now)
            if count.limit.window.rolling and count.anchor is None:
                count.anchor = now
                count.start, count.end = now, now + ROLLING_S
            count.add(now, requests, tokens, usd)
            self._check(count, now)

    def blocked(self, connection: str, provider: str) -> Skip | None:
        """A connection over a quota window (at the threshold) or a budget of its own, its
        provider's or its tier's; the skip lasts until that window resets."""
        now = self.clock()
        for count in self._targets(connection, provider, None):
            self._roll(count, now)
            limit = count.limit
            used = count.percent(now)
            if limit.budget:
                if used < 100.0:
                    continue
                who = f"{limit.scope} {limit.name!r}" if limit.scope != "connection" else "its"
                resets = count.resets_at(now)
                return Skip(
                    f"budget: {who} {limit.title} of ${limit.limit:.2f} is spent "
                    f"(${count.amount():.2f}; {countdown(resets - now)})",
                    resets,
                )
            if used >= self.threshold:
                resets = count.resets_at(now)
                return Skip(
                    f"quota: {limit.title} at {_pct(used)} ({countdown(resets - now)})", resets
                )
        return None

    def key_budget(self, key_name: str | None) -> tuple[Count, float] | None:
        """A client key's spent budget (the count and when it resets), if any."""
        if key_name is None:
            return None
        counts = self._by_target.get(("key", key_name))
        if not counts:
            return None
        now = self.clock()
        for count in counts:
            self._roll(count, now)
            if count.percent(now) >= 100.0:
                return count, count.resets_at(now)
        return None

    # provider readings ----------------------------------------------------------------------

    def apply_reading(self, connection: str, reading: Reading) -> bool:
        """A provider's quota endpoint reported on one window of ``connection``; it stands in
        for the local count until it resets or a newer reading comes. False when that
        connection has no such window configured."""
        for count in self._by_target.get(("connection", connection), ()):
            if count.limit.label == reading.window and not count.limit.budget:
                now = self.clock()
                self._roll(count, now)
                count.reading = reading
                self._check(count, now)
                return True
        return False

    # views and housekeeping -----------------------------------------------------------------

    def states(self, *, budgets: bool | None = None) -> list[WindowState]:
        """Every window (``budgets`` False: quota windows only; True: budgets only)."""
        now = self.clock()
        result = []
        for count in self._counts.values():
            limit = count.limit
            if budgets is not None and limit.budget != budgets:
                continue
            self._roll(count, now)
            used_pct = count.percent(now)
            resets = count.resets_at(now)
            reading = count.reading_applies(now)
            result.append(
                WindowState(
                    scope=limit.scope,
                    name=limit.name,
                    window=limit.label,
                    unit=limit.unit,
                    used=round(used_pct * limit.limit / 100, 6) if reading else count.amount(),
                    limit=limit.limit,
                    percent=round(used_pct, 2),
                    remaining_percent=round(max(100.0 - used_pct, 0.0), 2),
                    starts_at=count.start,
                    resets_at=resets,
                    countdown=countdown(resets - now),
                    source="provider" if reading else limit.source,
                )
            )
        return result

    def tick(self) -> None:
        """Roll windows that ended (quota_reset events fire here even with no traffic)."""
        now = self.clock()
        for count in self._counts.values():
            self._roll(count, now)
        self.book.forget_before(now - events.KEEP_S)

    # internals ------------------------------------------------------------------------------

    def _targets(self, connection: str | None, provider: str, key: str | None) -> list[Count]:
        found: list[Count] = []
        get = self._by_target.get
        for target in (
            ("connection", connection or ""),
            ("provider", provider),
            ("tier", self._tiers.get(provider, "")),
            ("key", key or ""),
        ):
            found.extend(get(target, ()))
        return found

    def _roll(self, count: Count, now: float) -> None:
        """Start the next window when the current one ended."""
        limit = count.limit
        if limit.window.rolling and count.anchor is None:
            count.start, count.end = now, now + ROLLING_S  # would start with the next request
            return
        if count.start <= now < count.end:
            return
        ended_start = count.start
        if limit.window.rolling:
            count.anchor = None  # the next session starts with its next request
        count.start, count.end = limit.window.current(now, count.anchor)
        count.used = Amounts()
        count.recent.clear()
        if count.reading is not None and (
            count.reading.resets_at is None or count.reading.resets_at <= now
        ):
            count.reading = None
        scope, label, _ = limit.key
        if not limit.budget and self.book.fired((scope, label, ended_start, events.WARNING)):
            self.book.fire(
                (scope, label, ended_start, events.RESET),
                now,
                f"{_who(limit)}: the {limit.title} has reset",
                {**_data(limit), "resets_at": count.end, "percent": 0.0, "used": 0.0},
            )

    def _check(self, count: Count, now: float) -> None:
        """Fire the events this window's use has earned (each once per window). Most calls
        earn none: the messages are built only for an event that fires."""
        limit = count.limit
        used = count.percent(now)
        scope, label, _ = limit.key
        due: list[str] = []
        if limit.budget:
            if used >= 100.0:
                due.append(events.BUDGET)
        else:
            if used >= WARNING_PERCENT:
                due.append(events.WARNING)
            if used >= 100.0:
                due.append(events.EXHAUSTED)
        due = [kind for kind in due if not self.book.fired((scope, label, count.start, kind))]
        runs_out = None
        forecast = (scope, label, count.start, events.FORECAST)
        if not limit.budget and used < 100.0 and not self.book.fired(forecast):
            runs_out = count.exhausted_at(now)
        resets = count.resets_at(now)
        if runs_out is not None and runs_out - now < FORECAST_S and runs_out < resets:
            due.append(events.FORECAST)
        if not due:
            return
        data = {
            **_data(limit),
            "percent": round(used, 2),
            "used": count.amount(),
            "resets_at": resets,
        }
        when = countdown(resets - now)
        who = _who(limit)
        for kind in due:
            if kind == events.BUDGET:
                detail = f"{who}: {limit.title} of ${limit.limit:.2f} spent ({when})"
            elif kind == events.WARNING:
                detail = f"{who}: {limit.title} at {_pct(used)} ({when})"
            elif kind == events.EXHAUSTED:
                detail = f"{who}: {limit.title} used up ({when})"
            else:
                assert runs_out is not None
                left = countdown(runs_out - now).removeprefix("resets in ")
                detail = f"{who}: {limit.title} runs out in about {left} at the current rate"
                data = {**data, "exhausted_at": runs_out}
            self.book.fire((scope, label, count.start, kind), now, detail, data)


def _pct(value: float) -> str:
    return f"{math.floor(value)} %"


def _who(limit: Limit) -> str:
    return limit.name if limit.scope == "connection" else f"{limit.scope} {limit.name}"


def _data(limit: Limit) -> dict[str, object]:
    data: dict[str, object] = {
        "scope": limit.scope,
        "name": limit.name,
        "window": limit.label,
        "limit": limit.limit,
        "unit": limit.unit,
    }
    if limit.scope == "connection":
        data["connection"] = limit.name
    return data


# seeding from request_log ---------------------------------------------------------------------

_COUNTED = (
    "SELECT coalesce(sum(status >= 200 AND status < 400 "
    "AND (error IS NULL OR error = 'client disconnected')), 0), "
    "coalesce(sum(coalesce(tokens_in, 0) + coalesce(tokens_out, 0)), 0), "
    "coalesce(sum(coalesce(cost_usd, 0)), 0) FROM request_log "
    "WHERE provider IS NOT NULL AND ts >= ? AND ts < ? AND "
)


def read_seed(
    conn: apsw.Connection, limits: Iterable[Limit], tiers: Mapping[str, str], now: float
) -> Seed:
    """What each limit's current window has used so far, from request_log (blocking). A
    rolling window's start is found by walking the connection's requests of the last few
    windows: a session begins with the first request after the previous one ended."""
    seeds: Seed = {}
    for limit in limits:
        anchor: float | None = None
        if limit.window.rolling:
            anchor = _anchor(conn, limit, now)
            if anchor is None:
                continue  # no open session: nothing used
            start = anchor
        else:
            start = limit.window.current(now)[0]
        where, args = _scope_filter(limit, tiers)
        if where is None:
            continue
        row = conn.execute(_COUNTED + where, (start, now + 1, *args)).fetchone()
        assert row is not None  # an aggregate always returns one row
        seeds[limit.key] = (anchor, Amounts(int(row[0]), int(row[1]), float(row[2])))
    return seeds


def _scope_filter(limit: Limit, tiers: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    if limit.scope == "connection":
        return "connection = ?", (limit.name,)
    if limit.scope == "provider":
        return "provider = ?", (limit.name,)
    if limit.scope == "key":
        return "key_name = ?", (limit.name,)
    providers = tuple(p for p, tier in tiers.items() if tier == limit.name)
    if not providers:
        return None, ()
    return f"provider IN ({', '.join('?' for _ in providers)})", providers


def _anchor(conn: apsw.Connection, limit: Limit, now: float) -> float | None:
    rows = conn.execute(
        "SELECT ts FROM request_log WHERE connection = ? AND provider IS NOT NULL "
        "AND ts >= ? AND ts <= ? ORDER BY ts",
        (limit.name, now - ANCHOR_LOOKBACK * ROLLING_S, now),
    )
    anchor: float | None = None
    for (ts,) in rows:
        if anchor is None or ts >= anchor + ROLLING_S:
            anchor = float(ts)
    if anchor is None or anchor + ROLLING_S <= now:
        return None
    return anchor
