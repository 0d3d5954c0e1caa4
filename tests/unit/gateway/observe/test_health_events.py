"""Health transitions as events: a provider's breaker, all its connections failing or needing
a login, recovery, login marks set and cleared — each once per transition, on a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from types import MappingProxyType

import pytest

from gateway.config.snapshot import Upstream
from gateway.observe.events import Event
from gateway.observe.health_events import HealthTracker, watch_health
from gateway.routing.breaker import BreakerConfig
from gateway.routing.credentials import NEEDS_LOGIN
from gateway.routing.router import Router, provider_key


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def upstream(name: str, provider: str, *, alias: str = "") -> Upstream:
    return Upstream(
        connection_id=f"id{name}",
        connection=name,
        provider=provider,
        provider_name=provider.title(),
        alias=alias or provider,
        dialect="openai",
        base_url="http://127.0.0.1:1/v1",
        headers=MappingProxyType({}),
        models=frozenset({"gpt-x"}),
        priority=1,
    )


UPSTREAMS = (upstream("a", "openai"), upstream("b", "openai"), upstream("c", "anthropic"))


def world() -> tuple[Router, FakeClock, HealthTracker]:
    clock = FakeClock()
    router = Router(clock=clock)
    # Small thresholds: the provider opens after 3 counted failures, a connection after 2.
    router.configure_breakers(BreakerConfig(3, 60.0), BreakerConfig(2, 30.0))
    return router, clock, HealthTracker()


def fail(router: Router, name: str, provider: str, reason: str = "server_error: HTTP 503") -> None:
    router.outcome(f"id{name}", provider, ok=False, reason=reason)


def succeed(router: Router, name: str, provider: str) -> None:
    router.outcome(f"id{name}", provider, ok=True)


def down(provider: str, name: str, reason: str) -> Event:
    data = {"provider": provider, "name": name, "reason": reason}
    return Event("provider_down", f"{name} is down: {reason}", data)


def recovered(provider: str, name: str) -> Event:
    data = {"provider": provider, "name": name, "reason": ""}
    return Event("provider_recovered", f"{name} is available again", data)


def test_nothing_happens_on_a_healthy_router() -> None:
    router, _, tracker = world()
    assert tracker.poll(router, UPSTREAMS) == []
    assert tracker.poll(router, UPSTREAMS) == []
    assert len(router.breakers) == 0  # polling peeks: it creates no breaker


def test_the_provider_breaker_opening_and_closing_is_one_event_each() -> None:
    router, clock, tracker = world()
    fail(router, "a", "openai")
    fail(router, "b", "openai")  # two connections, one failure each: neither opens
    assert tracker.poll(router, UPSTREAMS) == []
    fail(router, "a", "openai", "timeout: no answer in 10 s")  # the provider's third
    reason = "its circuit breaker is open (last error: timeout: no answer in 10 s)"
    assert tracker.poll(router, UPSTREAMS) == [down("openai", "Openai", reason)]
    assert tracker.poll(router, UPSTREAMS) == []  # still down: said once
    clock.now += 60.0  # half-open: a probe may go, but nothing is decided yet
    assert tracker.poll(router, UPSTREAMS) == []
    succeed(router, "b", "openai")  # the probe answers: the provider breaker closes
    assert tracker.poll(router, UPSTREAMS) == [recovered("openai", "Openai")]
    assert tracker.poll(router, UPSTREAMS) == []
    for _ in range(3):  # and down again: a new transition, a new event
        fail(router, "b", "openai", "server_error: HTTP 500")
    again = "its circuit breaker is open (last error: server_error: HTTP 500)"
    assert tracker.poll(router, UPSTREAMS) == [down("openai", "Openai", again)]


def test_every_connection_open_is_down_and_one_closed_again_is_up() -> None:
    router, clock, tracker = world()
    router.configure_breakers(BreakerConfig(100, 60.0), BreakerConfig(2, 30.0))
    fail(router, "a", "openai", "connection: refused")
    fail(router, "a", "openai", "connection: refused")
    assert tracker.poll(router, UPSTREAMS) == []  # b still works
    fail(router, "b", "openai")
    fail(router, "b", "openai")
    reason = "every connection's circuit breaker is open (last error: connection: refused)"
    assert tracker.poll(router, UPSTREAMS) == [down("openai", "Openai", reason)]
    clock.now += 30.0  # both half-open
    assert tracker.poll(router, UPSTREAMS) == []
    succeed(router, "b", "openai")
    assert tracker.poll(router, UPSTREAMS) == [recovered("openai", "Openai")]


def test_a_login_mark_is_one_event_and_its_end_another() -> None:
    router, _, tracker = world()
    router.logins.mark("idc")
    data = {
        "connection": "c",
        "connection_id": "idc",
        "provider": "anthropic",
        "name": "Anthropic",
        "reason": NEEDS_LOGIN,
    }
    # c is anthropic's only connection, so the provider is down as well.
    assert tracker.poll(router, UPSTREAMS) == [
        Event("login_needed", f"c (Anthropic) {NEEDS_LOGIN}", data),
        down("anthropic", "Anthropic", "every connection needs a login"),
    ]
    assert tracker.poll(router, UPSTREAMS) == []
    router.logins.clear()  # a new configuration (or a health reset) forgets the marks
    restored = {**data, "reason": ""}
    assert tracker.poll(router, UPSTREAMS) == [
        Event("login_restored", "c (Anthropic) no longer needs a login", restored),
        recovered("anthropic", "Anthropic"),
    ]
    router.logins.mark("idc", "needs login: token revoked")
    events = tracker.poll(router, UPSTREAMS)
    assert [e.kind for e in events] == ["login_needed", "provider_down"]
    assert events[0].data["reason"] == "needs login: token revoked"


def test_one_login_and_one_failing_connection_take_the_provider_down() -> None:
    router, _, tracker = world()
    router.configure_breakers(BreakerConfig(100, 60.0), BreakerConfig(2, 30.0))
    router.logins.mark("ida")
    assert [e.kind for e in tracker.poll(router, UPSTREAMS)] == ["login_needed"]  # b works
    fail(router, "b", "openai")
    fail(router, "b", "openai")
    assert tracker.poll(router, UPSTREAMS) == [
        down("openai", "Openai", "every connection is failing or needs a login")
    ]


def test_forgotten_providers_and_unusable_connections_make_no_events() -> None:
    router, _, tracker = world()
    for _ in range(3):
        fail(router, "c", "anthropic")
    assert [e.kind for e in tracker.poll(router, UPSTREAMS)] == ["provider_down"]
    # anthropic leaves the configuration: forgotten, no "recovered"
    assert tracker.poll(router, UPSTREAMS[:2]) == []
    router.breakers.discard(lambda key: True)
    assert tracker.poll(router, UPSTREAMS) == []  # back, healthy, never seen down
    # A connection whose key cannot be read is a configuration problem, not an outage.
    broken = dataclasses.replace(upstream("d", "mistral"), problem="its API key cannot be read")
    router.logins.mark("idd")
    assert tracker.poll(router, (*UPSTREAMS, broken)) == []


def test_a_custom_server_is_named_by_its_alias() -> None:
    router, _, tracker = world()
    lab = upstream("lab", "custom-openai:lab", alias="lab")
    breaker = router.breakers.for_key(provider_key(lab.provider), router.provider_breaker)
    for _ in range(3):
        breaker.record_failure()
    assert tracker.poll(router, (lab,)) == [
        down("custom-openai:lab", "lab", "its circuit breaker is open")
    ]


async def test_the_watcher_emits_transitions_and_survives_a_failing_poll(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, _, _ = world()
    emitted: list[Event] = []
    reads = 0
    enough = asyncio.Event()

    def read() -> tuple[Router, tuple[Upstream, ...]] | None:
        nonlocal reads
        reads += 1
        if reads == 6:
            enough.set()
        if reads == 1:
            return None  # not started yet: nothing to watch
        if reads == 2:
            raise RuntimeError("boom")
        return router, UPSTREAMS

    router.logins.mark("ida")
    task = asyncio.create_task(watch_health(read, emitted.append, interval=0))
    try:
        with caplog.at_level(logging.ERROR, "switchboard.health_events"):
            await enough.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [e.kind for e in emitted] == ["login_needed"]  # once, though polled four times
    assert [r.getMessage() for r in caplog.records] == ["health poll failed"]
