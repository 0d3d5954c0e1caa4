"""Circuit breakers: stop sending requests to a provider or connection that keeps failing.

closed ──(failure_threshold consecutive failures)──▶ open ──(open_seconds pass)──▶ half_open
half_open: exactly one probe is let through; its success closes the breaker, its failure opens
it again for another open_seconds. Rules and defaults: docs/routing/health.md.

What counts as a failure is the caller's decision (the failure classifier): 408, 5xx, an
invalid 200 body, timeouts and connection errors call ``record_failure``; 429 and other client
errors must not (a rate limit is the cooldowns' job, not a sign the upstream is down) and call
``release`` instead, which only frees the probe slot.

Single-threaded by design: the gateway's event loop owns every breaker, so there are no locks.
Times are in the injected monotonic clock's seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from gateway.routing.keyed import discard_matching

Clock = Callable[[], float]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 8
    open_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if self.open_seconds < 0:
            raise ValueError("open_seconds must not be negative")


# OmniRoute's provider breaker trips at 8 (OAuth) / 12 (API key) failures and resets after
# 60 / 30 s; one shared default takes the stricter OAuth pair, because a combo has other
# targets to fall back on and a dead provider costs every request a wasted attempt.
PROVIDER_BREAKER = BreakerConfig(failure_threshold=8, open_seconds=60.0)
# A connection is one account: a narrower blast radius and the same account's cooldowns
# already absorb transient errors, so it trips sooner and recovers sooner (OmniRoute's
# breaker class defaults, 5 / 30 s).
CONNECTION_BREAKER = BreakerConfig(failure_threshold=5, open_seconds=30.0)


@dataclass(frozen=True, slots=True)
class BreakerView:
    """One breaker as the health view shows it."""

    state: BreakerState
    failures: int  # consecutive failures since the last success
    open_until: float | None  # clock time the open phase ends; None unless open
    last_error: str | None  # reason of the last counted failure, kept after recovery


class CircuitBreaker:
    __slots__ = (
        "_clock",
        "_open_until",
        "_probe_at",
        "_state",
        "config",
        "failures",
        "last_error",
    )

    def __init__(self, config: BreakerConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._open_until = 0.0
        self._probe_at: float | None = None  # when the half-open probe was granted
        self.failures = 0
        self.last_error: str | None = None

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() >= self._open_until:
            self._to_half_open()
        return self._state

    @property
    def open_until(self) -> float | None:
        return self._open_until if self.state is BreakerState.OPEN else None

    def allow(self) -> bool:
        """May a request go to this target now? In half_open, True hands out the one probe."""
        state = self._state
        if state is BreakerState.CLOSED:
            return True
        now = self._clock()
        if state is BreakerState.OPEN:
            if now < self._open_until:
                return False
            self._to_half_open()
        probe_at = self._probe_at
        # A probe that never reported (its caller was cancelled without release) would wedge
        # the breaker half-open forever; after open_seconds it is presumed lost.
        if probe_at is not None and now - probe_at < self.config.open_seconds:
            return False
        self._probe_at = now
        return True

    def record_success(self) -> None:
        state = self._state
        if state is BreakerState.CLOSED:
            self.failures = 0
            return
        # A success from a request sent before the breaker opened says nothing about now.
        if state is BreakerState.OPEN and self._clock() < self._open_until:
            return
        self._state = BreakerState.CLOSED
        self._probe_at = None
        self.failures = 0

    def record_failure(self, reason: str | None = None) -> None:
        state = self._state
        if state is BreakerState.OPEN:
            if self._clock() < self._open_until:
                return  # late failures must not extend the open phase
            state = BreakerState.HALF_OPEN
        self.failures += 1
        if reason is not None:
            self.last_error = reason
        if state is BreakerState.HALF_OPEN or self.failures >= self.config.failure_threshold:
            self._state = BreakerState.OPEN
            self._open_until = self._clock() + self.config.open_seconds
            self._probe_at = None

    def release(self) -> None:
        """The attempt ended without a verdict on health (429, client error, cancelled)."""
        self._probe_at = None

    def view(self) -> BreakerView:
        state = self.state
        open_until = self._open_until if state is BreakerState.OPEN else None
        return BreakerView(state, self.failures, open_until, self.last_error)

    def _to_half_open(self) -> None:
        self._state = BreakerState.HALF_OPEN
        self._probe_at = None


class BreakerBoard:
    """Breakers by key (e.g. ``provider:openai``, ``connection:<id>``), least recently used
    evicted beyond ``max_entries`` so an unbounded key space cannot grow memory."""

    __slots__ = ("_breakers", "_clock", "max_entries")

    def __init__(self, clock: Clock, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self.max_entries = max_entries
        self._breakers: OrderedDict[str, CircuitBreaker] = OrderedDict()

    def for_key(self, key: str, config: BreakerConfig) -> CircuitBreaker:
        """The key's breaker, created closed if new; a changed config (hot reload) is adopted
        without losing the breaker's state."""
        breakers = self._breakers
        breaker = breakers.get(key)
        if breaker is None:
            breaker = breakers[key] = CircuitBreaker(config, self._clock)
            if len(breakers) > self.max_entries:
                breakers.popitem(last=False)
            return breaker
        breakers.move_to_end(key)
        if breaker.config is not config:
            breaker.config = config
        return breaker

    def get(self, key: str) -> CircuitBreaker | None:
        """Peek without creating or refreshing the entry's recency."""
        return self._breakers.get(key)

    def is_open(self, key: str) -> bool:
        """True only while the key's breaker is open (half-open is not: its probe must be
        routable); an unknown key is closed. Peeks like ``get``."""
        breaker = self._breakers.get(key)
        return breaker is not None and breaker.state is BreakerState.OPEN

    def discard(self, matches: Callable[[str], bool]) -> int:
        """Forget every breaker whose key ``matches`` (a health reset): each comes back
        closed with no failures. Returns how many were dropped. O(entries)."""
        return discard_matching(self._breakers, matches)

    def __len__(self) -> int:
        return len(self._breakers)

    def snapshot(self) -> dict[str, BreakerView]:
        return {key: breaker.view() for key, breaker in self._breakers.items()}
