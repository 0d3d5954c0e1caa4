"""Selection strategies: order combo targets and provider accounts for one request.

Every function returns the full fallback order (first = tried first; every candidate appears
exactly once). Pure over plain data: live figures come through ``StatsView``, randomness
through the caller's ``random.Random``, rotation memory through bounded state objects the
caller keeps. The exact rules are in docs/routing/strategies.md; keep the two in step.

Common to every strategy: candidates are first put in list order (ascending ``position``,
ties in input order), then those whose circuit breaker is open are moved to the end, in list
order, as a last resort; the strategy orders only the rest.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Generic, Literal, Protocol, TypeVar, get_args

ComboStrategy = Literal[
    "priority",
    "weighted",
    "round-robin",
    "random",
    "least-used",
    "cost-optimized",
    "p2c",
    "latency-optimized",
]
STRATEGIES: tuple[str, ...] = get_args(ComboStrategy)
ACCOUNT_STRATEGIES: tuple[str, ...] = ("fill-first", "round-robin", "p2c", "random", "least-used")
# The reference names the list-order strategy both ways; both spellings are accepted for
# combos and accounts alike, and the tuples list the canonical one.
_LIST_ORDER = frozenset({"priority", "fill-first"})

DEFAULT_STATE_ENTRIES = 1024

_V = TypeVar("_V")


class StatsView(Protocol):
    """The live figures the strategies read (implemented by gateway.routing.stats).

    ``breaker_open`` is true only for an open breaker: half-open must read false so that
    its probe request can be routed."""

    def success_rate(self, key: str) -> float: ...
    def latency_ms(self, key: str) -> float | None: ...
    def uses(self, key: str) -> int: ...
    def in_flight(self, key: str) -> int: ...
    def breaker_open(self, key: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    weight: float = 1.0
    cost_per_mtok: float | None = None
    position: int = 0  # order in the combo's target list or the provider's connection list


class _BoundedMap(Generic[_V]):
    """An LRU-bounded map: one entry per combo/provider, the least recently used evicted."""

    __slots__ = ("_entries", "max_entries")

    def __init__(self, max_entries: int = DEFAULT_STATE_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: dict[str, _V] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def _take(self, key: str) -> _V | None:
        # Popping and re-inserting keeps dict order = recency order, so eviction is O(1).
        return self._entries.pop(key, None)

    def _put(self, key: str, value: _V) -> None:
        entries = self._entries
        entries[key] = value
        if len(entries) > self.max_entries:
            del entries[next(iter(entries))]


class RoundRobinState(_BoundedMap[int]):
    """Per-combo rotation counters. Not thread-safe: use it from the gateway's loop only."""

    __slots__ = ()

    def advance(self, key: str) -> int:
        """Return the counter for ``key`` (0 when new or evicted) and increment it."""
        value = self._take(key) or 0
        self._put(key, (value + 1) & 0xFFFFFFFF)
        return value


class StickyState(_BoundedMap[tuple[str, int, int]]):
    """Per-provider sticky account: (account key, its position, consecutive uses)."""

    __slots__ = ()

    def current(self, key: str) -> tuple[str, int, int] | None:
        return self._entries.get(key)


_Orderer = Callable[[list[Candidate], StatsView, random.Random], list[Candidate]]
_POSITION = attrgetter("position")


def order_targets(
    strategy: str,
    candidates: Sequence[Candidate],
    stats: StatsView,
    rng: random.Random,
    state: RoundRobinState,
    *,
    key: str = "",
) -> list[Candidate]:
    """The fallback order of a combo's targets. ``key`` names the combo for round-robin."""
    if strategy == "round-robin":
        closed, opened = _split(candidates, stats)
        start = state.advance(key)
        ordered = _rotate(closed, start)
    else:
        orderer = _ORDERERS.get("priority" if strategy in _LIST_ORDER else strategy)
        if orderer is None:
            raise ValueError(_unknown(strategy, STRATEGIES))
        closed, opened = _split(candidates, stats)
        ordered = orderer(closed, stats, rng)
    ordered.extend(opened)
    return ordered


def order_accounts(
    strategy: str,
    accounts: Sequence[Candidate],
    stats: StatsView,
    rng: random.Random,
    state: StickyState,
    *,
    key: str = "",
    sticky_uses: int = 1,
) -> list[Candidate]:
    """The fallback order of one provider's accounts. ``key`` names the provider (sticky
    round-robin keeps one entry per key); ``sticky_uses`` is N, the requests an account
    stays first for under round-robin."""
    if strategy == "round-robin":
        if sticky_uses < 1:
            raise ValueError(f"sticky_uses must be at least 1, got {sticky_uses}")
        closed, opened = _split(accounts, stats)
        ordered = _sticky(closed, state, key, sticky_uses)
    else:
        name = "priority" if strategy in _LIST_ORDER else strategy
        orderer = _ORDERERS.get(name) if name in _ACCOUNT_SHARED else None
        if orderer is None:
            raise ValueError(_unknown(strategy, ACCOUNT_STRATEGIES))
        closed, opened = _split(accounts, stats)
        ordered = orderer(closed, stats, rng)
    ordered.extend(opened)
    return ordered


def p2c_score(stats: StatsView, key: str) -> float:
    """success_rate / (1 + latency_ms / 1000): higher is better. A rate outside [0, 1] is
    clamped (NaN counts as 0); unknown, negative or NaN latency counts as 0 ms."""
    rate = stats.success_rate(key)
    if not rate >= 0.0:
        rate = 0.0
    elif rate > 1.0:
        rate = 1.0
    latency = stats.latency_ms(key)
    if latency is None or not latency > 0.0:
        return rate
    return rate / (1.0 + latency / 1000.0)


def _unknown(strategy: str, valid: tuple[str, ...]) -> str:
    return f"unknown strategy {strategy!r}; valid strategies: {', '.join(valid)}"


def _split(
    candidates: Sequence[Candidate], stats: StatsView
) -> tuple[list[Candidate], list[Candidate]]:
    # sorted() is stable and linear on input that is already in order (the usual case).
    closed: list[Candidate] = []
    opened: list[Candidate] = []
    is_open = stats.breaker_open
    for candidate in sorted(candidates, key=_POSITION):
        (opened if is_open(candidate.key) else closed).append(candidate)
    return closed, opened


def _rotate(items: list[Candidate], start: int) -> list[Candidate]:
    if not items:
        return items
    cut = start % len(items)
    return items[cut:] + items[:cut] if cut else items


def _priority(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    return items


def _weighted(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    # Efraimidis-Spirakis: sorting by E/w with E ~ Exp(1) gives the same distribution as
    # repeated weighted draws without replacement, in O(n log n) and one random() each.
    draw = rng.random
    log = math.log
    keyed: list[tuple[float, int]] = []
    rest: list[Candidate] = []
    for index, candidate in enumerate(items):
        weight = candidate.weight
        if weight > 0.0:
            keyed.append((-log(1.0 - draw()) / weight, index))
        else:
            rest.append(candidate)  # also NaN weights: they never compare > 0
    keyed.sort()
    ordered = [items[index] for _, index in keyed]
    ordered.extend(rest)
    return ordered


def _shuffle(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    rng.shuffle(items)
    return items


def _least_used(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    uses = stats.uses
    items.sort(key=lambda c: uses(c.key))
    return items


def _cost_key(candidate: Candidate) -> tuple[int, float]:
    cost = candidate.cost_per_mtok
    if cost is None or cost != cost:  # unknown or NaN: last
        return (1, 0.0)
    return (0, cost)


def _cost(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    items.sort(key=_cost_key)
    return items


def _latency(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    latency_ms = stats.latency_ms
    uses = stats.uses

    def rank(candidate: Candidate) -> tuple[int, float]:
        latency = latency_ms(candidate.key)
        if latency is None or latency != latency:
            # Never tried: first, so it gets measured once. Tried but still unmeasured
            # (it only ever failed): last, so it cannot hold the front forever.
            return (0, 0.0) if uses(candidate.key) == 0 else (2, 0.0)
        return (1, latency)

    items.sort(key=rank)
    return items


def _p2c(items: list[Candidate], stats: StatsView, rng: random.Random) -> list[Candidate]:
    count = len(items)
    if count < 2:
        return items
    in_flight = stats.in_flight
    # Rank tuples: higher score, then fewer requests in flight, then list order.
    ranks = [(-p2c_score(stats, c.key), in_flight(c.key), i) for i, c in enumerate(items)]
    first = rng.randrange(count)
    second = rng.randrange(count - 1)
    if second >= first:
        second += 1
    winner = min(ranks[first], ranks[second])[2]
    ranks.sort()
    ordered = [items[winner]]
    ordered.extend(items[rank[2]] for rank in ranks if rank[2] != winner)
    return ordered


def _sticky(
    items: list[Candidate], state: StickyState, key: str, sticky_uses: int
) -> list[Candidate]:
    if not items:
        return items  # every breaker open: nothing to stick to, state unchanged
    entry = state._take(key)
    start, uses = 0, 1
    if entry is not None:
        current, position, used = entry
        index = next((i for i, c in enumerate(items) if c.key == current), -1)
        if index < 0:
            # The sticky account is gone (cooling down, removed, breaker open): the next
            # one after it in list order takes over, wrapping to the first.
            start = next((i for i, c in enumerate(items) if c.position > position), 0)
        elif used < sticky_uses:
            start, uses = index, used + 1
        else:
            start = (index + 1) % len(items)
    first = items[start]
    state._put(key, (first.key, first.position, uses))
    return _rotate(items, start)


_ORDERERS: dict[str, _Orderer] = {
    "priority": _priority,
    "weighted": _weighted,
    "random": _shuffle,
    "least-used": _least_used,
    "cost-optimized": _cost,
    "p2c": _p2c,
    "latency-optimized": _latency,
}
_ACCOUNT_SHARED = frozenset({"priority", "p2c", "random", "least-used"})
