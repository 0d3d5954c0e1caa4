"""Live statistics per routing target: time-decayed success rate and latency, recent latency
percentiles, in-flight count, uses and last use — the inputs of p2c, least-used and
latency-optimized selection and of the health view.

Formulas, prior and defaults: docs/routing/health.md. Every call is O(1) except
``percentiles`` and ``snapshot``. Memory is bounded: at most ``max_entries`` keys (least
recently started evicted) and ``ring_size`` latencies per key. Single-threaded (the gateway
loop); times are in the injected monotonic clock's seconds.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from gateway.routing.keyed import discard_matching

Clock = Callable[[], float]

# The prior: every key starts as if it had PRIOR_WEIGHT successes that never decay. A new or
# long-idle target therefore scores 1.0 (optimistic, so it gets tried), one early failure
# only lowers it to 2/3, and real evidence outweighs the prior after a few requests.
PRIOR_WEIGHT = 2.0
PRIOR_RATE = 1.0


@dataclass(frozen=True, slots=True)
class TargetView:
    success_rate: float
    latency_ms: float | None
    percentiles: tuple[float, float, float] | None  # p50, p95, p99 of recent successes
    in_flight: int
    uses: int
    last_used: float | None


class _Entry:
    __slots__ = (
        "in_flight",
        "last_used",
        "lat_den",
        "lat_num",
        "ok_weight",
        "ring",
        "ring_pos",
        "updated",
        "uses",
        "weight",
    )

    def __init__(self, now: float) -> None:
        self.ok_weight = 0.0  # decayed count of successes
        self.weight = 0.0  # decayed count of outcomes
        self.lat_num = 0.0  # decayed sum of success latencies
        self.lat_den = 0.0  # decayed count of success latencies
        self.updated = now  # time the decayed sums refer to
        self.ring = array("d")
        self.ring_pos = 0
        self.in_flight = 0
        self.uses = 0
        self.last_used = now


class StatsToken:
    """One started attempt; finish or cancel it exactly once (repeats are ignored)."""

    __slots__ = ("_done", "_entry")

    def __init__(self, entry: _Entry) -> None:
        self._entry = entry
        self._done = False


class TargetStats:
    __slots__ = ("_clock", "_decay_rate", "_entries", "half_life_s", "max_entries", "ring_size")

    def __init__(
        self,
        clock: Clock,
        max_entries: int = 4096,
        half_life_s: float = 60.0,
        ring_size: int = 256,
    ) -> None:
        if max_entries < 1 or ring_size < 1:
            raise ValueError("max_entries and ring_size must be at least 1")
        if not half_life_s > 0:
            raise ValueError("half_life_s must be positive")
        self._clock = clock
        self.max_entries = max_entries
        self.half_life_s = half_life_s
        self.ring_size = ring_size
        self._decay_rate = math.log(2.0) / half_life_s  # weight(age) = exp(-age * rate)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def start(self, key: str) -> StatsToken:
        now = self._clock()
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Entry(now)
            if len(entries) > self.max_entries:
                entries.popitem(last=False)
        else:
            entries.move_to_end(key)
        entry.in_flight += 1
        entry.uses += 1
        entry.last_used = now
        return StatsToken(entry)

    def finish(self, token: StatsToken, ok: bool, latency_ms: float) -> None:
        """Record the attempt's outcome. Only successes feed latency: a failure that returns
        in 2 ms (connection refused) must not make its target look fast."""
        if token._done:
            return
        token._done = True
        entry = token._entry
        entry.in_flight -= 1
        now = self._clock()
        age = now - entry.updated
        if age > 0.0:
            decay = math.exp(-age * self._decay_rate)
            entry.ok_weight *= decay
            entry.weight *= decay
            entry.lat_num *= decay
            entry.lat_den *= decay
            entry.updated = now
        entry.weight += 1.0
        if not ok:
            return
        entry.ok_weight += 1.0
        if not math.isfinite(latency_ms):
            return
        if latency_ms < 0.0:
            latency_ms = 0.0
        entry.lat_num += latency_ms
        entry.lat_den += 1.0
        ring = entry.ring
        if len(ring) < self.ring_size:
            ring.append(latency_ms)
        else:
            pos = entry.ring_pos
            ring[pos] = latency_ms
            entry.ring_pos = pos + 1 if pos + 1 < len(ring) else 0

    def cancel(self, token: StatsToken) -> None:
        """The attempt ended with no outcome worth recording (e.g. the client went away)."""
        if not token._done:
            token._done = True
            token._entry.in_flight -= 1

    def success_rate(self, key: str) -> float:
        entry = self._entries.get(key)
        if entry is None:
            return PRIOR_RATE
        decay = math.exp(-(self._clock() - entry.updated) * self._decay_rate)
        return (entry.ok_weight * decay + PRIOR_WEIGHT * PRIOR_RATE) / (
            entry.weight * decay + PRIOR_WEIGHT
        )

    def latency_ms(self, key: str) -> float | None:
        """Time-decayed mean latency of successes (decay cancels out of the ratio)."""
        entry = self._entries.get(key)
        if entry is None or entry.lat_den <= 0.0:
            return None
        return entry.lat_num / entry.lat_den

    def uses(self, key: str) -> int:
        entry = self._entries.get(key)
        return 0 if entry is None else entry.uses

    def in_flight(self, key: str) -> int:
        entry = self._entries.get(key)
        return 0 if entry is None else entry.in_flight

    def last_used(self, key: str) -> float | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.last_used

    def percentiles(self, key: str) -> tuple[float, float, float] | None:
        """Nearest-rank p50, p95, p99 over the last ``ring_size`` successful latencies."""
        entry = self._entries.get(key)
        if entry is None or not entry.ring:
            return None
        return _percentiles(entry.ring)

    def discard(self, matches: Callable[[str], bool]) -> int:
        """Forget every key that ``matches`` (a health reset): it reads as new again.
        Attempts still in flight on a dropped key finish harmlessly, unrecorded, as after
        an eviction. Returns how many keys were dropped. O(entries)."""
        return discard_matching(self._entries, matches)

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> dict[str, TargetView]:
        return {
            key: TargetView(
                success_rate=self.success_rate(key),
                latency_ms=self.latency_ms(key),
                percentiles=_percentiles(entry.ring) if entry.ring else None,
                in_flight=entry.in_flight,
                uses=entry.uses,
                last_used=entry.last_used,
            )
            for key, entry in self._entries.items()
        }


def _percentiles(ring: array[float]) -> tuple[float, float, float]:
    data = sorted(ring)
    n = len(data)
    # Nearest rank: the smallest value with at least p % of the data at or below it, i.e.
    # index ceil(p * n / 100) - 1, in integers so 0.95 * n cannot round the wrong way.
    return (
        data[(50 * n + 99) // 100 - 1],
        data[(95 * n + 99) // 100 - 1],
        data[(99 * n + 99) // 100 - 1],
    )
