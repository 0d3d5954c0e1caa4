"""What every request handler shares: the current snapshot, the HTTP pool, the request log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from gateway.config.snapshot import Snapshot
from gateway.formats.replay import ReplayCache
from gateway.observe.request_log import RequestLog
from gateway.routing.breaker import BreakerConfig
from gateway.routing.credentials import Credentials
from gateway.routing.router import Router
from gateway.server.key_limits import KeyLimits
from gateway.server.replays import Replays
from gateway.usage.limits import Limit
from gateway.usage.tracker import UsageTracker


@dataclass
class Runtime:
    snapshot: Snapshot  # replaced whole on every configuration change, never mutated
    http: aiohttp.ClientSession
    log: RequestLog
    started_at: float = field(default_factory=time.time)
    models_cache: tuple[int, bytes] | None = None  # (snapshot revision, /v1/models body)
    replay: ReplayCache = field(default_factory=ReplayCache)  # reasoning across dialects
    router: Router = field(default_factory=Router)  # breakers, cooldowns, stats, strategies
    key_limits: KeyLimits = field(default_factory=KeyLimits)  # per client key (key_policies)
    keepalive_s: float = 15.0  # translated streams: a ping after this long without a byte
    credentials: Credentials = field(default_factory=Credentials)  # auth refresh, single-flight
    replays: Replays = field(default_factory=Replays)  # idempotency, dedup, response cache
    usage: UsageTracker = field(default_factory=UsageTracker)  # quota windows and budgets
    unseeded: list[Limit] = field(default_factory=list)  # new limits the service must seed

    def __post_init__(self) -> None:
        self.install(self.snapshot)

    def install(self, snapshot: Snapshot) -> None:
        """Swap in a new configuration and hand its thresholds to the live state."""
        settings = snapshot.settings
        if snapshot.revision != self.snapshot.revision:  # new keys and logins may be in it
            self.router.logins.clear()
            self.credentials.forget()
        self.router.configure_breakers(
            BreakerConfig(settings.provider_breaker_failures, settings.provider_breaker_open_s),
            BreakerConfig(settings.connection_breaker_failures, settings.connection_breaker_open_s),
        )
        self.key_limits.configure(snapshot.key_policies)
        self.unseeded += self.usage.configure(
            snapshot.limits, snapshot.tiers, settings.quota_threshold_percent
        )
        self.snapshot = snapshot


RUNTIME = web.AppKey("runtime", Runtime)
