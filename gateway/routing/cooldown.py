"""Cooldowns: keys (connections, ``connection:model`` lockouts) that must not be used until a
given time, with the consecutive backoff level that produced the wait.

The failure policy computes ``until`` and ``level``; this module only remembers them, bounded.
Rules: docs/routing/health.md. Single-threaded (the gateway loop); times are in the injected
monotonic clock's seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from gateway.routing.keyed import discard_matching

Clock = Callable[[], float]

# After a cooldown ends its level is kept this long, so a failure on the first retry backs off
# further instead of starting again at the bottom; a key idle longer starts afresh.
LEVEL_MEMORY_S = 600.0


@dataclass(frozen=True, slots=True)
class CooldownView:
    until: float
    reason: str
    level: int


class _Entry:
    __slots__ = ("level", "reason", "until")

    def __init__(self, until: float, reason: str, level: int) -> None:
        self.until = until
        self.reason = reason
        self.level = level


class Cooldowns:
    __slots__ = ("_clock", "_entries", "level_memory_s", "max_entries")

    def __init__(
        self, clock: Clock, max_entries: int = 4096, level_memory_s: float = LEVEL_MEMORY_S
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self.max_entries = max_entries
        self.level_memory_s = level_memory_s
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def set(self, key: str, until: float, reason: str, level: int) -> None:
        """Cool ``key`` down until ``until``. A live, later cooldown is never shortened (a
        concurrent 503 must not undo a credits-exhausted lockout); use ``clear`` first to
        shorten on purpose. The level is always the one given."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            entries[key] = _Entry(until, reason, level)
            if len(entries) > self.max_entries:
                entries.popitem(last=False)
            return
        entries.move_to_end(key)
        if until >= entry.until or entry.until <= self._clock():
            entry.until = until
            entry.reason = reason
        entry.level = level

    def until(self, key: str) -> float | None:
        """End of the key's cooldown, or None when it is not cooling down."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if now < entry.until:
            return entry.until
        if now >= entry.until + self.level_memory_s:
            del self._entries[key]
        return None

    def level(self, key: str) -> int:
        """Consecutive backoff level: 0 after ``clear`` or once the level memory has passed."""
        entry = self._entries.get(key)
        if entry is None:
            return 0
        if self._clock() >= entry.until + self.level_memory_s:
            del self._entries[key]
            return 0
        return entry.level

    def reason(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() >= entry.until:
            return None
        return entry.reason

    def clear(self, key: str) -> None:
        """The key succeeded: no cooldown, level back to 0."""
        self._entries.pop(key, None)

    def discard(self, matches: Callable[[str], bool]) -> int:
        """``clear`` every key that ``matches`` (a health reset): no cooldown, level 0.
        Returns how many entries were dropped, live or not. O(entries)."""
        return discard_matching(self._entries, matches)

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> dict[str, CooldownView]:
        """Active cooldowns only; entries past their level memory are dropped on the way."""
        now = self._clock()
        memory = self.level_memory_s
        active: dict[str, CooldownView] = {}
        stale: list[str] = []
        for key, entry in self._entries.items():
            if now < entry.until:
                active[key] = CooldownView(entry.until, entry.reason, entry.level)
            elif now >= entry.until + memory:
                stale.append(key)
        for key in stale:
            del self._entries[key]
        return active
