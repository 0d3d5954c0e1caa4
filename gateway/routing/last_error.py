"""The newest failure of each key (a connection), with the clock time it happened, for the
health view. The breaker keeps only failures it counts; this also keeps rate limits and client
errors, which say why a connection is cooling down. Bounded like the other routing maps;
single-threaded (the gateway loop); times are in the injected monotonic clock's seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from gateway.routing.keyed import discard_matching

Clock = Callable[[], float]
MAX_TEXT = 500  # a reason is one line; an upstream that sends a novel must not grow memory


@dataclass(frozen=True, slots=True)
class LastError:
    text: str
    at: float  # clock time


class LastErrors:
    """At most ``max_entries`` keys; the key that failed least recently is evicted first."""

    __slots__ = ("_clock", "_entries", "max_entries")

    def __init__(self, clock: Clock, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[str, LastError] = OrderedDict()

    def record(self, key: str, text: str) -> None:
        entries = self._entries
        entries[key] = LastError(text[:MAX_TEXT], self._clock())
        entries.move_to_end(key)
        if len(entries) > self.max_entries:
            entries.popitem(last=False)

    def get(self, key: str) -> LastError | None:
        return self._entries.get(key)

    def discard(self, matches: Callable[[str], bool]) -> int:
        """Forget every key that ``matches`` (a health reset); returns how many."""
        return discard_matching(self._entries, matches)

    def __len__(self) -> int:
        return len(self._entries)
