"""What a failed attempt does to the cooldowns, on a fake clock."""

from __future__ import annotations

from gateway.config.snapshot import Upstream
from gateway.routing.attempts import Attempts
from gateway.routing.cooldown import CooldownView
from gateway.routing.failures import Failure, FailureClass
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
