"""Quota and budget events, each at most once per limit and window (docs/usage.md "Events").

What fired is remembered in logs.db (table quota_events, written through the logs writer off
the request path) so a restart does not announce the same window again. Memory holds only
the windows still open (at most a few per configured limit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import apsw

from gateway.store.writer import DbWriter

log = logging.getLogger("switchboard.usage")

WARNING: Final = "quota_warning"  # 80 %
EXHAUSTED: Final = "quota_exhausted"  # 100 %
RESET: Final = "quota_reset"  # a window that reached 80 % ended
FORECAST: Final = "quota_forecast"  # runs out within 30 min at the current rate
BUDGET: Final = "budget_crossed"  # a budget is spent
KINDS: Final = (WARNING, EXHAUSTED, RESET, FORECAST, BUDGET)
KEEP_S: Final = 40 * 86400.0  # longer than any window (a month)
MAX_FIRED: Final = 100_000  # a bound whatever the configuration

EventKey = tuple[str, str, float, str]  # (limit scope key, window label, window start, kind)
Emit = Callable[[str, str, Mapping[str, object]], None]  # (kind, detail, data)
_INSERT: Final = (
    "INSERT OR IGNORE INTO quota_events(scope, window, window_start, kind, ts) "
    "VALUES (?, ?, ?, ?, ?)"
)


def load_fired(conn: apsw.Connection, since: float) -> list[EventKey]:
    """The events of windows that started after ``since`` (blocking; a reader connection)."""
    rows = conn.execute(
        "SELECT scope, window, window_start, kind FROM quota_events WHERE window_start >= ?",
        (since,),
    )
    return [(scope, window, float(start), kind) for scope, window, start, kind in rows]


class EventBook:
    def __init__(self, emit: Emit | None = None, writer: DbWriter | None = None) -> None:
        self.emit = emit
        self._writer = writer
        self._fired: dict[EventKey, None] = {}  # insertion-ordered set

    def remember(self, keys: Iterable[EventKey]) -> None:
        for key in keys:
            self._remember(key)

    def _remember(self, key: EventKey) -> None:
        self._fired[key] = None
        if len(self._fired) > MAX_FIRED:
            del self._fired[next(iter(self._fired))]

    def fired(self, key: EventKey) -> bool:
        return key in self._fired

    def fire(self, key: EventKey, now: float, detail: str, data: Mapping[str, object]) -> bool:
        """Emit unless this event already fired for this window; True if it was emitted."""
        if key in self._fired:
            return False
        self._remember(key)
        if self._writer is not None:
            self._writer.append(_INSERT, (*key, now))
        if self.emit is not None:
            try:
                self.emit(key[3], detail, data)
            except Exception:
                log.exception("quota event listener failed")
        return True

    def forget_before(self, start: float) -> None:
        """Drop windows that started before ``start`` (they ended long ago)."""
        for key in [k for k in self._fired if k[2] < start]:
            del self._fired[key]

    def __len__(self) -> int:
        return len(self._fired)
