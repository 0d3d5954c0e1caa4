"""The health view over a router on a fake clock: breakers, cooldowns, last errors, latency
percentiles, wall-clock conversion, and scoped and global resets."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from gateway.config.snapshot import Upstream
from gateway.routing.health import (
    BreakerHealth,
    CooldownHealth,
    ErrorSeen,
    Latency,
    UnknownTarget,
    build_report,
    reset,
)
from gateway.routing.last_error import MAX_TEXT, LastError, LastErrors
from gateway.routing.router import Router, connection_key, model_key, provider_key

WALL = 1_700_000_000.0  # the wall clock when the fake monotonic clock reads 1000


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def upstream(name: str, provider: str, priority: int = 1) -> Upstream:
    return Upstream(
        connection_id=f"id{name}",
        connection=name,
        provider=provider,
        provider_name=provider.title(),
        alias=provider,
        dialect="openai",
        base_url="http://127.0.0.1:1/v1",
        headers=MappingProxyType({}),
        models=frozenset({"gpt-x"}),
        priority=priority,
    )


UPSTREAMS = (upstream("a", "openai"), upstream("b", "openai", 2), upstream("c", "anthropic"))
CLOSED = BreakerHealth("closed", 0, None, None, None)


def router_and_wall() -> tuple[Router, FakeClock, FakeClock]:
    clock = FakeClock()
    wall = FakeClock(WALL)
    return Router(clock=clock), clock, wall


def fail(router: Router, name: str, provider: str, reason: str, *, counts: bool = True) -> None:
    router.outcome(f"id{name}", provider, ok=False if counts else None, reason=reason)


def test_every_connection_appears_before_any_request() -> None:
    router, _, wall = router_and_wall()
    report = build_report(router, UPSTREAMS, wall=wall)
    assert report.at == WALL
    assert [(p.provider, p.name, p.breaker) for p in report.providers] == [
        ("anthropic", "Anthropic", CLOSED),
        ("openai", "Openai", CLOSED),
    ]
    assert [[c.connection for c in p.connections] for p in report.providers] == [["c"], ["a", "b"]]
    fresh = report.providers[1].connections[0]
    assert (fresh.connection_id, fresh.provider, fresh.problem) == ("ida", "openai", None)
    assert (fresh.breaker, fresh.cooldown, fresh.model_cooldowns) == (CLOSED, None, ())
    assert (fresh.last_error, fresh.success_rate, fresh.requests, fresh.in_flight) == (
        None,
        1.0,
        0,
        0,
    )
    assert fresh.latency_ms is None
    assert len(router.breakers) == 0  # reading created nothing


def test_open_breaker_is_shown_with_its_wall_clock_end() -> None:
    router, clock, wall = router_and_wall()
    for _ in range(5):  # the connection breaker's threshold
        fail(router, "a", "openai", "server_error: HTTP 503")
    clock.now, wall.now = 1010.0, WALL + 10.0
    a = build_report(router, UPSTREAMS, wall=wall).providers[1].connections[0]
    assert a.breaker == BreakerHealth("open", 5, WALL + 30.0, 20.0, "server_error: HTTP 503")
    provider = build_report(router, UPSTREAMS, wall=wall).providers[1].breaker
    assert provider == BreakerHealth("closed", 5, None, None, "server_error: HTTP 503")
    assert a.last_error == ErrorSeen("server_error: HTTP 503", WALL, 10.0)
    clock.now = 1030.0  # open phase over: half-open, no end time
    a = build_report(router, UPSTREAMS, wall=wall).providers[1].connections[0]
    assert a.breaker == BreakerHealth("half_open", 5, None, None, "server_error: HTTP 503")


def test_wall_clock_is_derived_from_the_offset_at_report_time() -> None:
    router, _, wall = router_and_wall()
    router.cooldowns.set(connection_key("ida"), 1060.0, "credits_exhausted", 1)
    wall.now = WALL + 3600.0  # the wall clock jumped (NTP); the monotonic one did not
    a = build_report(router, UPSTREAMS, wall=wall).providers[1].connections[0]
    assert a.cooldown == CooldownHealth(None, WALL + 3660.0, 60.0, "credits_exhausted", 1)


def test_connection_and_model_cooldowns() -> None:
    router, clock, wall = router_and_wall()
    cooldowns = router.cooldowns
    cooldowns.set(model_key("ida", "gpt-y"), 1045.5, "rate_limited", 2)
    cooldowns.set(model_key("ida", "gpt-x"), 1005.0, "server_error", 1)
    cooldowns.set(model_key("ida", "ns/model:tag"), 1100.0, "rate_limited", 1)
    cooldowns.set(connection_key("idb"), 1300.0, "quota_exhausted", 1)
    cooldowns.set(model_key("idgone", "gpt-x"), 1300.0, "rate_limited", 1)  # not configured
    fail(router, "a", "openai", "rate_limited: slow down", counts=False)
    clock.now, wall.now = 1001.0, WALL + 1.0
    openai = build_report(router, UPSTREAMS, wall=wall).providers[1]
    a, b = openai.connections
    assert a.cooldown is None
    assert a.model_cooldowns == (
        CooldownHealth("gpt-x", WALL + 5.0, 4.0, "server_error", 1),
        CooldownHealth("gpt-y", WALL + 45.5, 44.5, "rate_limited", 2),
        CooldownHealth("ns/model:tag", WALL + 100.0, 99.0, "rate_limited", 1),
    )
    assert a.breaker == CLOSED  # a 429 is not the breaker's business...
    assert a.last_error == ErrorSeen("rate_limited: slow down", WALL, 1.0)  # ...but is shown
    assert b.cooldown == CooldownHealth(None, WALL + 300.0, 299.0, "quota_exhausted", 1)
    assert b.model_cooldowns == ()
    clock.now = 1005.0  # a cooldown ends exactly at its time
    a = build_report(router, UPSTREAMS, wall=wall).providers[1].connections[0]
    assert [c.model for c in a.model_cooldowns] == ["gpt-y", "ns/model:tag"]


def test_success_rate_requests_and_latency_percentiles() -> None:
    router, _, wall = router_and_wall()
    stats = router.stats
    key = connection_key("idc")
    for latency in range(1, 101):  # 1..100 ms
        stats.finish(stats.start(key), True, float(latency))
    stats.finish(stats.start(key), False, 5.0)  # failures feed no latency
    stats.start(key)  # still in flight
    c = build_report(router, UPSTREAMS, wall=wall).providers[0].connections[0]
    assert c.latency_ms == Latency(50.0, 95.0, 99.0)
    assert (c.requests, c.in_flight) == (102, 1)
    assert c.success_rate == round(102 / 103, 4)  # (100 + prior 2) / (101 + 2), no decay yet


def test_report_is_json_able() -> None:
    router, _, wall = router_and_wall()
    router.cooldowns.set(model_key("ida", "gpt-x"), 1010.0, "rate_limited", 1)
    router.stats.finish(router.stats.start(connection_key("ida")), True, 12.0)
    data = build_report(router, UPSTREAMS[:1], wall=wall).to_dict()
    assert data == {
        "at": WALL,
        "providers": (
            {
                "provider": "openai",
                "name": "Openai",
                "breaker": {
                    "state": "closed",
                    "failures": 0,
                    "open_until": None,
                    "seconds_left": None,
                    "last_error": None,
                },
                "connections": (
                    {
                        "connection": "a",
                        "connection_id": "ida",
                        "provider": "openai",
                        "problem": None,
                        "breaker": {
                            "state": "closed",
                            "failures": 0,
                            "open_until": None,
                            "seconds_left": None,
                            "last_error": None,
                        },
                        "cooldown": None,
                        "model_cooldowns": (
                            {
                                "model": "gpt-x",
                                "until": WALL + 10.0,
                                "seconds_left": 10.0,
                                "reason": "rate_limited",
                                "level": 1,
                            },
                        ),
                        "last_error": None,
                        "success_rate": 1.0,
                        "requests": 1,
                        "in_flight": 0,
                        "latency_ms": {"p50": 12.0, "p95": 12.0, "p99": 12.0},
                    },
                ),
            },
        ),
    }


def trouble_everywhere() -> Router:
    router = Router(clock=FakeClock())
    for _ in range(8):  # trips the connection breaker of a and the openai provider breaker
        fail(router, "a", "openai", "server_error: 503")
    fail(router, "b", "openai", "timeout: read")
    fail(router, "c", "anthropic", "server_error: 500")
    router.cooldowns.set(model_key("ida", "gpt-x"), 1100.0, "server_error", 1)
    router.cooldowns.set(connection_key("idb"), 1100.0, "credits_exhausted", 1)
    router.cooldowns.set(model_key("idc", "claude"), 1100.0, "rate_limited", 1)
    for name in "abc":
        router.stats.finish(router.stats.start(connection_key(f"id{name}")), True, 10.0)
    return router


def test_reset_one_connection_leaves_the_rest() -> None:
    router = trouble_everywhere()
    assert reset(router, UPSTREAMS, connection="a") == 2  # its breaker and its model cooldown
    assert router.breakers.get(connection_key("ida")) is None
    assert router.cooldowns.until(model_key("ida", "gpt-x")) is None
    assert router.last_errors.get(connection_key("ida")) is None
    assert router.stats.uses(connection_key("ida")) == 1  # statistics kept unless asked
    assert router.breakers.is_open(provider_key("openai"))  # shared: not this connection's
    assert router.cooldowns.until(connection_key("idb")) == 1100.0
    assert router.last_errors.get(connection_key("idb")) == LastError("timeout: read", 1000.0)
    assert reset(router, UPSTREAMS, connection="a") == 0  # nothing left to clear


def test_reset_one_provider_covers_its_connections() -> None:
    router = trouble_everywhere()
    # openai's breaker, a's and b's breakers, a's model cooldown and b's connection cooldown
    assert reset(router, UPSTREAMS, provider="openai", stats=True) == 5
    assert not router.breakers.is_open(provider_key("openai"))
    for key in (connection_key("ida"), connection_key("idb"), provider_key("openai")):
        assert router.breakers.get(key) is None
    assert router.cooldowns.until(connection_key("idb")) is None
    assert router.stats.uses(connection_key("ida")) == 0
    assert router.last_errors.get(connection_key("ida")) is None
    # anthropic untouched
    assert router.breakers.get(connection_key("idc")) is not None
    assert router.cooldowns.until(model_key("idc", "claude")) == 1100.0
    assert router.stats.uses(connection_key("idc")) == 1


def test_reset_everything_including_unconfigured_keys() -> None:
    router = trouble_everywhere()
    router.cooldowns.set(model_key("idgone", "x"), 1100.0, "rate_limited", 1)
    assert reset(router, UPSTREAMS) == 9  # 3 connection + 2 provider breakers, 4 cooldowns
    assert (len(router.breakers), len(router.cooldowns), len(router.last_errors)) == (0, 0, 0)
    assert len(router.stats) == 3
    assert reset(router, UPSTREAMS, stats=True) == 0
    assert len(router.stats) == 0


def test_reset_of_an_unknown_name_says_so() -> None:
    router = trouble_everywhere()
    with pytest.raises(UnknownTarget, match="no enabled connection is named 'zz'"):
        reset(router, UPSTREAMS, connection="zz")
    with pytest.raises(UnknownTarget, match=r"'gemini' \(providers: anthropic, openai\)"):
        reset(router, UPSTREAMS, provider="gemini")
    with pytest.raises(ValueError, match="not both"):
        reset(router, UPSTREAMS, provider="openai", connection="a")
    assert len(router.breakers) == 5  # nothing was cleared


def test_connection_ids_that_prefix_each_other_are_kept_apart() -> None:
    router = Router(clock=FakeClock())
    ups = (upstream("a", "openai"), upstream("ab", "openai"))  # ids "ida" and "idab"
    router.cooldowns.set(model_key("idab", "m"), 1100.0, "rate_limited", 1)
    router.cooldowns.set(model_key("ida", "m"), 1100.0, "rate_limited", 1)
    report = build_report(router, ups, wall=FakeClock(WALL)).providers[0]
    assert [len(c.model_cooldowns) for c in report.connections] == [1, 1]
    assert reset(router, ups, connection="a") == 1
    assert router.cooldowns.until(model_key("idab", "m")) == 1100.0


def test_last_errors_are_bounded_and_truncated() -> None:
    clock = FakeClock()
    errors = LastErrors(clock, max_entries=3)
    for key in "abcd":
        clock.now += 1
        errors.record(key, f"boom {key}")
    errors.record("b", "x" * 10_000)  # b is the newest now
    errors.record("e", "e")
    assert len(errors) == 3
    assert (errors.get("a"), errors.get("c")) == (None, None)
    assert errors.get("b") == LastError("x" * MAX_TEXT, 1004.0)
    assert errors.get("d") == LastError("boom d", 1004.0)
    assert errors.discard(lambda key: key in "bd") == 2
    assert len(errors) == 1
    with pytest.raises(ValueError):
        LastErrors(clock, max_entries=0)


def test_router_records_the_reason_of_any_failure_only() -> None:
    router = Router(clock=FakeClock())
    router.outcome("x", "p", ok=None, reason="rate_limited: 429")
    assert router.last_errors.get(connection_key("x")) == LastError("rate_limited: 429", 1000.0)
    router.outcome("x", "p", ok=True, reason="ignored")
    router.outcome("x", "p", ok=False)  # no reason: nothing to show
    assert router.last_errors.get(connection_key("x")) == LastError("rate_limited: 429", 1000.0)
