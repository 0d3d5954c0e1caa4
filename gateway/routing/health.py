"""The routing health view: what the router remembers about each provider and connection,
as plain frozen data (``HealthReport.to_dict()`` is JSON-able), and the reset that forgets it.

Pure functions over a ``Router`` and the snapshot's enabled upstreams, so every connection
appears even before its first request. The router's times are monotonic; the report gives
wall-clock Unix times (``now_wall + (t - router.clock())``) and the seconds left or elapsed.
Fields and rules: docs/routing/health.md.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from gateway.config.snapshot import Upstream
from gateway.routing.breaker import BreakerState, BreakerView
from gateway.routing.cooldown import CooldownView
from gateway.routing.router import Router, connection_key, provider_key

_CONN = connection_key("")  # "conn:": the prefix of a connection's keys and its models' keys


_NEVER_FAILED = BreakerView(BreakerState.CLOSED, 0, None, None)


class UnknownTarget(LookupError):
    """A reset named a provider or connection that no enabled connection matches."""


@dataclass(frozen=True, slots=True)
class BreakerHealth:
    state: str  # closed, open, half_open
    failures: int  # consecutive counted failures
    open_until: float | None  # Unix time the open phase ends; None unless open
    seconds_left: float | None
    last_error: str | None  # the last failure the breaker counted


@dataclass(frozen=True, slots=True)
class CooldownHealth:
    model: str | None  # None: the whole connection cools down
    until: float  # Unix time
    seconds_left: float
    reason: str
    level: int  # consecutive backoff level


@dataclass(frozen=True, slots=True)
class ErrorSeen:
    text: str
    at: float  # Unix time
    seconds_ago: float


@dataclass(frozen=True, slots=True)
class Latency:
    p50: float  # ms, nearest rank over the recent successes
    p95: float
    p99: float


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    connection: str
    connection_id: str
    provider: str
    problem: str | None  # why the connection cannot be used at all (e.g. unreadable key)
    breaker: BreakerHealth
    cooldown: CooldownHealth | None
    model_cooldowns: tuple[CooldownHealth, ...]  # soonest to end first
    last_error: ErrorSeen | None  # any failure, counted by the breaker or not
    success_rate: float  # time-decayed, with the routing prior (1.0 before any outcome)
    requests: int
    in_flight: int
    latency_ms: Latency | None


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    provider: str
    name: str
    breaker: BreakerHealth
    connections: tuple[ConnectionHealth, ...]


@dataclass(frozen=True, slots=True)
class HealthReport:
    at: float  # Unix time the report was made
    providers: tuple[ProviderHealth, ...]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def build_report(
    router: Router, upstreams: Iterable[Upstream], *, wall: Callable[[], float] = time.time
) -> HealthReport:
    """Providers sorted by id; their connections in the snapshot's order (priority, name)."""
    now = router.clock()
    now_wall = wall()
    cooling = _cooldowns_by_connection(router.cooldowns.snapshot())
    grouped: dict[str, list[Upstream]] = {}
    for upstream in upstreams:
        grouped.setdefault(upstream.provider, []).append(upstream)
    providers = []
    for provider in sorted(grouped):
        members = grouped[provider]
        connections = tuple(
            _connection(router, u, cooling.get(u.connection_id, []), now, now_wall) for u in members
        )
        breaker = _breaker(router, provider_key(provider), now, now_wall)
        providers.append(ProviderHealth(provider, members[0].provider_name, breaker, connections))
    return HealthReport(round(now_wall, 3), tuple(providers))


def reset(
    router: Router,
    upstreams: Collection[Upstream],
    *,
    provider: str | None = None,
    connection: str | None = None,
    stats: bool = False,
) -> int:
    """Forget breakers, cooldowns and last errors (and with ``stats`` the statistics) of
    everything, of one provider (its breaker and all its connections) or of one connection
    (by name; the provider's shared breaker is left alone). Returns how many breakers that
    were not healthy (open, half-open or counting failures) and live cooldowns were cleared.
    """
    if provider is not None and connection is not None:
        raise ValueError("reset one provider or one connection, not both")
    matches: Callable[[str], bool]
    ids: set[str] | None = None  # None: every connection
    if connection is not None:
        ids = {u.connection_id for u in upstreams if u.connection == connection}
        if not ids:
            raise UnknownTarget(f"no enabled connection is named {connection!r}")
        matches = _connection_matcher(ids)
    elif provider is not None:
        ids = {u.connection_id for u in upstreams if u.provider == provider}
        if not ids:
            known = ", ".join(sorted({u.provider for u in upstreams})) or "none"
            raise UnknownTarget(
                f"no enabled connection uses the provider {provider!r} (providers: {known})"
            )
        own_key = provider_key(provider)
        of_connection = _connection_matcher(ids)

        def matches(key: str) -> bool:
            return key == own_key or of_connection(key)
    else:

        def matches(key: str) -> bool:
            return True

    cleared = sum(
        1
        for key, view in router.breakers.snapshot().items()
        if matches(key) and (view.state is not BreakerState.CLOSED or view.failures)
    )
    cleared += sum(1 for key in router.cooldowns.snapshot() if matches(key))
    router.breakers.discard(matches)
    router.cooldowns.discard(matches)
    router.last_errors.discard(matches)
    if ids is None:
        cleared += len(router.logins)
        router.logins.clear()
    else:
        for connection_id in ids:
            if router.logins.get(connection_id) is not None:
                cleared += 1
                router.logins.clear(connection_id)
    if stats:
        router.stats.discard(matches)
    return cleared


def _connection_matcher(ids: Collection[str]) -> Callable[[str], bool]:
    """Keys of these connections: ``conn:<id>`` and ``conn:<id>:<model>``."""

    def matches(key: str) -> bool:
        return key.startswith(_CONN) and key[len(_CONN) :].partition(":")[0] in ids

    return matches


def _cooldowns_by_connection(
    live: dict[str, CooldownView],
) -> dict[str, list[tuple[str | None, CooldownView]]]:
    by_connection: dict[str, list[tuple[str | None, CooldownView]]] = {}
    for key, view in live.items():
        if key.startswith(_CONN):
            # Connection ids are uuid hex: the first ":" after the prefix starts the model.
            connection_id, _, model = key[len(_CONN) :].partition(":")
            by_connection.setdefault(connection_id, []).append((model or None, view))
    return by_connection


def _connection(
    router: Router,
    upstream: Upstream,
    cooling: list[tuple[str | None, CooldownView]],
    now: float,
    now_wall: float,
) -> ConnectionHealth:
    key = connection_key(upstream.connection_id)
    whole = None
    per_model = []
    for model, view in cooling:
        entry = CooldownHealth(
            model,
            round(now_wall + (view.until - now), 3),
            round(view.until - now, 3),
            view.reason,
            view.level,
        )
        if model is None:
            whole = entry
        else:
            per_model.append(entry)
    per_model.sort(key=lambda c: (c.until, c.model or ""))
    seen = router.last_errors.get(key)
    last_error = (
        ErrorSeen(seen.text, round(now_wall + (seen.at - now), 3), round(now - seen.at, 3))
        if seen is not None
        else None
    )
    stats = router.stats
    percentiles = stats.percentiles(key)
    return ConnectionHealth(
        connection=upstream.connection,
        connection_id=upstream.connection_id,
        provider=upstream.provider,
        problem=upstream.problem,
        breaker=_breaker(router, key, now, now_wall),
        cooldown=whole,
        model_cooldowns=tuple(per_model),
        last_error=last_error,
        success_rate=round(stats.success_rate(key), 4),
        requests=stats.uses(key),
        in_flight=stats.in_flight(key),
        latency_ms=Latency(*(round(p, 1) for p in percentiles)) if percentiles else None,
    )


def _breaker(router: Router, key: str, now: float, now_wall: float) -> BreakerHealth:
    breaker = router.breakers.get(key)  # a peek: reading must not refresh or create
    view = (
        breaker.view() if breaker is not None else BreakerView(BreakerState.CLOSED, 0, None, None)
    )
    until = view.open_until
    return BreakerHealth(
        state=str(view.state),
        failures=view.failures,
        open_until=round(now_wall + (until - now), 3) if until is not None else None,
        seconds_left=round(until - now, 3) if until is not None else None,
        last_error=view.last_error,
    )
