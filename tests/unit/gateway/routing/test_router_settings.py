"""The breaker thresholds come from the settings and follow a configuration change."""

from __future__ import annotations

import dataclasses

from gateway.config.snapshot import Settings, Snapshot
from gateway.routing.router import Router, connection_key
from tests.unit.gateway.routing.test_breaker import FakeClock


def snapshot_with(**settings: object) -> Snapshot:
    return dataclasses.replace(Snapshot.empty(), settings=Settings(**settings))  # type: ignore[arg-type]


def fail(router: Router, times: int) -> None:
    for _ in range(times):
        router.outcome("c1", "openai", ok=False, reason="server_error")


def test_settings_set_the_thresholds_and_a_reload_changes_them() -> None:
    from gateway.server.runtime import Runtime

    clock = FakeClock()
    router = Router(clock=clock)
    runtime = Runtime(
        snapshot_with(connection_breaker_failures=2, connection_breaker_open_s=7.0),
        http=None,  # type: ignore[arg-type]
        log=None,  # type: ignore[arg-type]
        router=router,
    )
    fail(router, 1)
    assert router.blocked("c1", "openai", "m") is None
    fail(router, 1)
    assert router.blocked("c1", "openai", "m") == "the connection's circuit breaker is open"
    clock.now += 7.0
    assert router.blocked("c1", "openai", "m") is None  # the one half-open probe
    router.outcome("c1", "openai", ok=True)

    runtime.install(snapshot_with(connection_breaker_failures=4))
    fail(router, 3)
    assert not router.breaker_open(connection_key("c1"))
    fail(router, 1)
    assert router.breaker_open(connection_key("c1"))


def test_provider_threshold_comes_from_settings() -> None:
    from gateway.server.runtime import Runtime

    router = Router(clock=FakeClock())
    Runtime(
        snapshot_with(provider_breaker_failures=3, connection_breaker_failures=100),
        http=None,  # type: ignore[arg-type]
        log=None,  # type: ignore[arg-type]
        router=router,
    )
    fail(router, 3)
    assert router.blocked("c2", "openai", "m") == "the provider's circuit breaker is open"
