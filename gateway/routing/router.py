"""Live routing state shared by every request: breakers, cooldowns, statistics, each
connection's last error and the strategies' counters. Used from the gateway's event loop
only; every map is bounded."""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.routing.breaker import (
    CONNECTION_BREAKER,
    PROVIDER_BREAKER,
    BreakerBoard,
    BreakerConfig,
)
from gateway.routing.cooldown import Cooldowns
from gateway.routing.credentials import LoginMarks
from gateway.routing.last_error import LastErrors
from gateway.routing.ratelimit import RateLimiter
from gateway.routing.stats import TargetStats
from gateway.routing.strategies import RoundRobinState, StickyState


def connection_key(connection_id: str) -> str:
    return f"conn:{connection_id}"


def model_key(connection_id: str, model: str) -> str:
    return f"conn:{connection_id}:{model}"


MAX_TARGETS = 4096
_STATE_PREFIXES = ("conn:", "prov:")


def provider_key(provider: str) -> str:
    return f"prov:{provider}"


@dataclass
class Router:
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    breakers: BreakerBoard = field(init=False)
    cooldowns: Cooldowns = field(init=False)
    stats: TargetStats = field(init=False)
    last_errors: LastErrors = field(init=False)  # by connection_key, for the health view
    round_robin: RoundRobinState = field(default_factory=RoundRobinState)
    sticky: StickyState = field(default_factory=StickyState)
    provider_breaker: BreakerConfig = PROVIDER_BREAKER
    connection_breaker: BreakerConfig = CONNECTION_BREAKER
    limits: RateLimiter = field(init=False)  # per-connection rpm, gap, concurrency
    logins: LoginMarks = field(default_factory=LoginMarks)  # connections that need a login
    # combo target (alias/model) -> the provider breaker key it was last sent to, so combo
    # strategies can put a target whose provider is down last (bounded like every map here)
    target_providers: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def configure_breakers(self, provider: BreakerConfig, connection: BreakerConfig) -> None:
        """Adopt new thresholds (a settings change); each breaker keeps its state and takes
        the new config the next time it is used."""
        if provider != self.provider_breaker:
            self.provider_breaker = provider
        if connection != self.connection_breaker:
            self.connection_breaker = connection

    def __post_init__(self) -> None:
        self.breakers = BreakerBoard(self.clock)
        self.cooldowns = Cooldowns(self.clock)
        self.stats = TargetStats(self.clock)
        self.last_errors = LastErrors(self.clock)
        self.limits = RateLimiter(self.clock)

    # the strategies' StatsView ------------------------------------------------------------

    def success_rate(self, key: str) -> float:
        return self.stats.success_rate(key)

    def latency_ms(self, key: str) -> float | None:
        return self.stats.latency_ms(key)

    def uses(self, key: str) -> int:
        return self.stats.uses(key)

    def in_flight(self, key: str) -> int:
        return self.stats.in_flight(key)

    def breaker_open(self, key: str) -> bool:
        """For a connection key, its breaker; for a combo target, its provider's breaker."""
        if key.startswith(_STATE_PREFIXES):
            return self.breakers.is_open(key)
        provider = self.target_providers.get(key)
        return provider is not None and self.breakers.is_open(provider)

    def note_target(self, label: str, provider: str) -> None:
        """Remember which provider a combo target went to (see breaker_open)."""
        known = self.target_providers
        if known.get(label) != (key := provider_key(provider)):
            known[label] = key
            known.move_to_end(label)
            if len(known) > MAX_TARGETS:
                known.popitem(last=False)

    # gates --------------------------------------------------------------------------------

    def blocked(self, connection_id: str, provider: str, model: str) -> str | None:
        """Why this model on this connection must not be tried now, or None."""
        if (login := self.logins.get(connection_id)) is not None:
            return login
        key = connection_key(connection_id)
        for cooling in (key, model_key(connection_id, model)):
            until = self.cooldowns.until(cooling)
            if until is not None:
                reason = self.cooldowns.reason(cooling) or "cooling down"
                return f"{reason}; cooling down for {until - self.clock():.0f} s more"
        provider_breaker = self.breakers.for_key(provider_key(provider), self.provider_breaker)
        if not provider_breaker.allow():
            return "the provider's circuit breaker is open"
        if not self.breakers.for_key(key, self.connection_breaker).allow():
            provider_breaker.release()  # its half-open probe slot was not used after all
            return "the connection's circuit breaker is open"
        return None

    def outcome(
        self, connection_id: str, provider: str, *, ok: bool | None, reason: str | None = None
    ) -> None:
        """Tell both breakers how an attempt went: True success, False a failure that counts
        (408, 5xx, timeouts, connection errors, invalid 200s), None says nothing (429, 4xx).
        The ``reason`` of any failure, counted or not, becomes the connection's last error."""
        if ok is not True and reason is not None:
            self.last_errors.record(connection_key(connection_id), reason)
        for key, config in (
            (provider_key(provider), self.provider_breaker),
            (connection_key(connection_id), self.connection_breaker),
        ):
            breaker = self.breakers.for_key(key, config)
            if ok is True:
                breaker.record_success()
            elif ok is False:
                breaker.record_failure(reason)
            else:
                breaker.release()
