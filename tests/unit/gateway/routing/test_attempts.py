"""What a failed attempt does to the cooldowns, on a fake clock."""

from __future__ import annotations

import dataclasses

from gateway.config.repository import ComboRow
from gateway.config.snapshot import Snapshot, Upstream
from gateway.routing.attempts import Attempts
from gateway.routing.cooldown import CooldownView
from gateway.routing.failures import Failure, FailureClass
from gateway.routing.plan import plan
from gateway.routing.resolve import Target
from gateway.routing.router import Router, model_key


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


TARGET = Target(
    Upstream(
        connection_id="c1",
        connection="one",
        provider="openai",
        provider_name="OpenAI",
        alias="openai",
        dialect="openai",
        base_url="http://127.0.0.1:9",
        headers={},
        models=frozenset(),
        priority=1,
    ),
    "m",
    "openai/m",
)
KEY = model_key("c1", "m")


def fail(router: Router, cls: FailureClass, retry_at: float | None = None) -> float | None:
    """One request's attempt failing; the retry time its record gives."""
    attempts = Attempts(router, 10)
    token = attempts.start(TARGET)
    attempts.failed(TARGET, Failure(cls, 503, "busy", retry_at), token, 1.0)
    return attempts.records[-1].retry_at


def test_consecutive_failures_back_off_further() -> None:
    clock = FakeClock()
    router = Router(clock=clock)
    assert fail(router, FailureClass.SERVER_ERROR) == 1001.0
    clock.now = 1001.0  # the cooldown is over: the retry fails again
    assert fail(router, FailureClass.SERVER_ERROR) == 1003.0
    assert router.cooldowns.snapshot() == {KEY: CooldownView(1003.0, "server_error", 2)}


def test_concurrent_failures_are_one_episode() -> None:
    """Requests sent before the first failure came back fail during its cooldown: they must
    not raise the level once each (fifty of them would cool the model for the cap)."""
    clock = FakeClock()
    router = Router(clock=clock)
    assert [fail(router, FailureClass.TIMEOUT) for _ in range(50)] == [1001.0] * 50
    assert router.cooldowns.snapshot() == {KEY: CooldownView(1001.0, "timeout", 1)}
    clock.now = 1001.0
    assert fail(router, FailureClass.TIMEOUT) == 1003.0  # the next episode, one level up


def test_a_concurrent_retry_hint_still_extends_the_cooldown() -> None:
    clock = FakeClock()
    router = Router(clock=clock)
    fail(router, FailureClass.SERVER_ERROR)
    assert fail(router, FailureClass.RATE_LIMITED, retry_at=1030.0) == 1030.0
    assert router.cooldowns.snapshot() == {KEY: CooldownView(1030.0, "rate_limited", 1)}


def combo_snapshot(strategy: str) -> Snapshot:
    """Combo ``c``: targets openai/a and ds/b, one account each."""
    other = dataclasses.replace(
        TARGET.upstream, connection_id="c2", connection="two", provider="deepseek", alias="ds"
    )
    return dataclasses.replace(
        Snapshot.empty(),
        upstreams_by_prefix={"openai": (TARGET.upstream,), "ds": (other,)},
        combos={"c": ComboRow("c", strategy, ("openai/a", "ds/b"), True)},
    )


def first_targets(strategy: str, latency_ms: float, requests: int) -> list[str]:
    """The first target of each of ``requests`` requests, every attempt succeeding."""
    snapshot = combo_snapshot(strategy)
    router = Router(clock=FakeClock())
    firsts = []
    for _ in range(requests):
        target = plan(snapshot, "c", router)[0]
        firsts.append(target.label)
        attempts = Attempts(router, 10)
        attempts.succeeded(target, attempts.start(target), latency_ms)
    return firsts


def test_combo_strategies_read_the_figures_of_their_targets() -> None:
    """Attempts feed the combo target's own statistics (alias/model), not only its
    connection's: least-used takes turns and latency-optimized tries the untried one."""
    assert first_targets("least-used", 100.0, 4) == ["openai/a", "ds/b", "openai/a", "ds/b"]
    assert first_targets("latency-optimized", 100.0, 2) == ["openai/a", "ds/b"]
    router = Router(clock=FakeClock())
    attempts = Attempts(router, 10)
    attempts.succeeded(TARGET, attempts.start(TARGET), 250.0)
    assert (router.uses("openai/m"), router.latency_ms("openai/m")) == (1, 250.0)
    assert (router.uses("conn:c1"), router.in_flight("openai/m")) == (1, 0)
