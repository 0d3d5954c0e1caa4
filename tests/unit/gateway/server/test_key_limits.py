"""Per-key policy: allowed model patterns, rpm and requests_per_day, on an injected clock."""

from __future__ import annotations

import pytest

from gateway.config.snapshot import KeyPolicy
from gateway.server.errors import GatewayError
from gateway.server.key_limits import KeyLimits, SlidingCount


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limits(clock: Clock | None = None) -> KeyLimits:
    return KeyLimits(clock=clock or Clock())


def refused(fn: object, *args: object, **kwargs: object) -> GatewayError:
    with pytest.raises(GatewayError) as raised:
        fn(*args, **kwargs)  # type: ignore[operator]
    return raised.value


# Allowed models ----------------------------------------------------------------------------


def test_patterns_allow_matching_models_only() -> None:
    policies = {"ci": KeyPolicy(allowed_models=("openai/*", "coding", "claude-?-x"))}
    keys = limits()
    for model in ("openai/gpt-4o", "openai/a/b", "coding", "claude-3-x"):
        keys.admit("ci", policies, (model, model))
    error = refused(keys.admit, "ci", policies, ("anthropic/claude", "anthropic/claude"))
    assert error.status == 403 and error.code == "model_not_allowed"
    assert error.message == (
        "API key 'ci' may not use model 'anthropic/claude'; it may use: openai/*, coding, "
        "claude-?-x."
    )


def test_matching_is_case_sensitive() -> None:
    policies = {"ci": KeyPolicy(allowed_models=("openai/*",))}
    assert refused(limits().admit, "ci", policies, ("OpenAI/x",)).status == 403


def test_a_pin_must_be_allowed_too() -> None:
    policies = {"ci": KeyPolicy(allowed_models=("coding",))}
    error = refused(limits().admit, "ci", policies, ("coding", "anthropic/claude"))
    assert "'anthropic/claude'" in error.message


def test_keys_without_a_policy_and_keyless_access_pass() -> None:
    policies = {"ci": KeyPolicy(allowed_models=("openai/*",), rpm=1)}
    keys = limits()
    for _ in range(5):
        keys.admit("other", policies, ("anthropic/x",))
        keys.admit(None, policies, ("anthropic/x",))


def test_a_refused_model_does_not_count() -> None:
    policies = {"ci": KeyPolicy(allowed_models=("openai/*",), rpm=1)}
    keys = limits()
    refused(keys.admit, "ci", policies, ("anthropic/x",))
    keys.admit("ci", policies, ("openai/x",))  # the one request of the minute


# rpm ---------------------------------------------------------------------------------------


def test_rpm_refuses_the_third_request_with_retry_after() -> None:
    clock = Clock(1000.0)
    keys = limits(clock)
    policies = {"ci": KeyPolicy(rpm=2)}
    keys.admit("ci", policies, ("m",))
    clock.now = 1010.5
    keys.admit("ci", policies, ("m",))
    error = refused(keys.admit, "ci", policies, ("m",))
    assert error.status == 429 and error.code == "key_rate_limited"
    # The first request (slot 1000) stops counting at 1061: 50.5 s away, rounded up.
    assert error.retry_after == 51
    assert error.message == (
        "API key 'ci' is over its limit of 2 requests per minute (rpm); retry in 51 s."
    )
    clock.now = 1060.9
    refused(keys.admit, "ci", policies, ("m",))
    clock.now = 1061.0
    keys.admit("ci", policies, ("m",))  # the first has left the window
    assert refused(keys.admit, "ci", policies, ("m",)).retry_after == 10  # the second: at 1071


def test_token_counting_is_never_counted_nor_refused_for_limits() -> None:
    keys = limits()
    policies = {"ci": KeyPolicy(rpm=1)}
    for _ in range(3):
        keys.admit("ci", policies, ("m",), counted=False)
    keys.admit("ci", policies, ("m",))
    keys.admit("ci", policies, ("m",), counted=False)  # over the limit, but free
    assert refused(keys.admit, "ci", policies, ("m",)).status == 429


def test_token_counting_still_checks_the_model() -> None:
    policies = {"ci": KeyPolicy(allowed_models=("a/*",))}
    assert refused(limits().admit, "ci", policies, ("b/x",), counted=False).status == 403


def test_keys_are_counted_separately() -> None:
    keys = limits()
    policies = {"a": KeyPolicy(rpm=1), "b": KeyPolicy(rpm=1)}
    keys.admit("a", policies, ("m",))
    keys.admit("b", policies, ("m",))
    refused(keys.admit, "a", policies, ("m",))


# requests_per_day --------------------------------------------------------------------------


def test_requests_per_day_is_a_rolling_24_hours() -> None:
    clock = Clock(0.0)
    keys = limits(clock)
    policies = {"ci": KeyPolicy(requests_per_day=3)}
    for at in (0.0, 3600.0, 7200.0):
        clock.now = at
        keys.admit("ci", policies, ("m",))
    clock.now = 80000.0
    error = refused(keys.admit, "ci", policies, ("m",))
    # Slot 0 (minute 0) counts through minute 1440: free at 86,460 s.
    assert error.retry_after == 6460
    assert "3 requests per rolling 24 hours (requests_per_day)" in error.message
    clock.now = 86460.0
    keys.admit("ci", policies, ("m",))
    refused(keys.admit, "ci", policies, ("m",))


def test_the_longer_wait_of_two_full_windows_is_reported() -> None:
    clock = Clock(0.0)
    keys = limits(clock)
    policies = {"ci": KeyPolicy(rpm=1, requests_per_day=1)}
    keys.admit("ci", policies, ("m",))
    error = refused(keys.admit, "ci", policies, ("m",))
    assert error.retry_after == 86460 and "requests_per_day" in error.message


# Bounds and reconfiguration ------------------------------------------------------------------


def test_sliding_count_keeps_one_entry_per_slot_at_most() -> None:
    window = SlidingCount(60.0, 1.0)
    for step in range(8000):  # 16 requests a second for 500 s
        now = step / 16
        window.count(now)
        window.add(now)
        assert len(window._slots) <= 61
    assert window.count(499.9) == 61 * 16  # slots 439..499
    assert window.count(500.0) == 60 * 16  # slot 439 has left


def test_configure_forgets_keys_that_lost_their_limit() -> None:
    keys = limits()
    policies = {"a": KeyPolicy(rpm=1), "b": KeyPolicy(requests_per_day=1)}
    keys.admit("a", policies, ("m",))
    keys.admit("b", policies, ("m",))
    keys.configure({"a": KeyPolicy(rpm=1)})
    assert set(keys._minute) == {"a"} and keys._day == {}
    refused(keys.admit, "a", {"a": KeyPolicy(rpm=1)}, ("m",))  # a's count survives
    keys.configure({})
    assert keys._minute == {}


def test_a_lowered_limit_applies_to_the_requests_already_counted() -> None:
    keys = limits()
    keys.admit("a", {"a": KeyPolicy(rpm=5)}, ("m",))
    keys.admit("a", {"a": KeyPolicy(rpm=5)}, ("m",))
    keys.configure({"a": KeyPolicy(rpm=2)})
    refused(keys.admit, "a", {"a": KeyPolicy(rpm=2)}, ("m",))
