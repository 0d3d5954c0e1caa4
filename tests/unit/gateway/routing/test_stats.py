"""Live target statistics: EWMA maths against hand-computed values, percentiles, bounds."""

from __future__ import annotations

import math

import pytest

from gateway.routing.stats import PRIOR_WEIGHT, TargetStats, TargetView


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def observe(stats: TargetStats, key: str, ok: bool, latency_ms: float = 100.0) -> None:
    stats.finish(stats.start(key), ok, latency_ms)


def test_unknown_key_uses_the_prior() -> None:
    stats = TargetStats(FakeClock())
    assert stats.success_rate("x") == 1.0
    assert stats.latency_ms("x") is None
    assert stats.percentiles("x") is None
    assert stats.uses("x") == 0
    assert stats.in_flight("x") == 0
    assert stats.last_used("x") is None


def test_prior_weight_of_two_successes() -> None:
    stats = TargetStats(FakeClock())
    assert PRIOR_WEIGHT == 2.0
    observe(stats, "a", ok=False)
    assert stats.success_rate("a") == pytest.approx(2 / 3)  # (0 + 2) / (1 + 2)
    observe(stats, "a", ok=False)
    assert stats.success_rate("a") == pytest.approx(2 / 4)
    observe(stats, "b", ok=True)
    assert stats.success_rate("b") == 1.0


def test_same_instant_samples_are_a_plain_mean() -> None:
    stats = TargetStats(FakeClock())
    for ok, latency in [(True, 100.0), (True, 300.0), (False, 5.0), (True, 200.0)]:
        observe(stats, "a", ok, latency)
    assert stats.success_rate("a") == pytest.approx((3 + 2) / (4 + 2))
    assert stats.latency_ms("a") == pytest.approx(200.0)  # the failure's 5 ms is ignored


def test_time_decay_by_half_life() -> None:
    clock = FakeClock(0.0)
    stats = TargetStats(clock, half_life_s=60.0)
    observe(stats, "a", ok=True, latency_ms=100.0)
    clock.now = 60.0  # one half-life: the first sample now weighs 0.5
    observe(stats, "a", ok=False)
    # successes 0.5, outcomes 1.5
    assert stats.success_rate("a") == pytest.approx((0.5 + 2) / (1.5 + 2))
    clock.now = 120.0  # read-time decay: 0.25 and 0.75, prior unchanged
    assert stats.success_rate("a") == pytest.approx((0.25 + 2) / (0.75 + 2))
    observe(stats, "a", ok=True, latency_ms=400.0)
    # latency: (100 * 0.25 + 400) / (0.25 + 1); successes 0.25 + 1, outcomes 0.75 + 1
    assert stats.latency_ms("a") == pytest.approx(425.0 / 1.25)
    assert stats.success_rate("a") == pytest.approx((1.25 + 2) / (1.75 + 2))


def test_non_half_life_interval() -> None:
    clock = FakeClock(0.0)
    stats = TargetStats(clock, half_life_s=10.0)
    observe(stats, "a", ok=True, latency_ms=50.0)
    clock.now = 5.0
    observe(stats, "a", ok=True, latency_ms=150.0)
    w = 2**-0.5
    assert stats.latency_ms("a") == pytest.approx((50 * w + 150) / (w + 1))


def test_idle_target_drifts_back_to_the_prior() -> None:
    clock = FakeClock()
    stats = TargetStats(clock)
    for _ in range(20):
        observe(stats, "a", ok=False)
    assert stats.success_rate("a") < 0.1
    clock.now += 3600.0
    assert stats.success_rate("a") == pytest.approx(1.0, abs=1e-6)
    assert stats.latency_ms("a") is None  # no success was ever recorded


def test_in_flight_uses_and_last_used() -> None:
    clock = FakeClock()
    stats = TargetStats(clock)
    first = stats.start("a")
    clock.now = 1001.0
    second = stats.start("a")
    assert stats.in_flight("a") == 2
    assert stats.uses("a") == 2
    assert stats.last_used("a") == 1001.0
    stats.finish(first, ok=True, latency_ms=10.0)
    stats.finish(first, ok=True, latency_ms=10.0)  # repeat ignored
    assert stats.in_flight("a") == 1
    stats.cancel(second)
    stats.cancel(second)
    stats.finish(second, ok=False, latency_ms=1.0)  # already cancelled: ignored
    assert stats.in_flight("a") == 0
    assert stats.uses("a") == 2
    assert stats.success_rate("a") == 1.0
    assert stats.percentiles("a") == (10.0, 10.0, 10.0)


def test_bad_latencies() -> None:
    stats = TargetStats(FakeClock())
    observe(stats, "a", ok=True, latency_ms=math.nan)
    assert stats.latency_ms("a") is None
    assert stats.success_rate("a") == 1.0
    observe(stats, "a", ok=True, latency_ms=-3.0)
    assert stats.latency_ms("a") == 0.0


def test_percentiles_nearest_rank() -> None:
    stats = TargetStats(FakeClock())
    for value in reversed(range(1, 101)):
        observe(stats, "a", ok=True, latency_ms=float(value))
    assert stats.percentiles("a") == (50.0, 95.0, 99.0)
    for latency in (30.0, 10.0, 20.0):
        observe(stats, "b", ok=True, latency_ms=latency)
    assert stats.percentiles("b") == (20.0, 30.0, 30.0)
    for value in range(1, 21):
        observe(stats, "c", ok=True, latency_ms=float(value))
    assert stats.percentiles("c") == (10.0, 19.0, 20.0)


def test_percentile_ring_keeps_the_most_recent() -> None:
    stats = TargetStats(FakeClock(), ring_size=256)
    for value in range(1, 301):
        observe(stats, "a", ok=True, latency_ms=float(value))
    # the ring holds 45..300 (256 values)
    assert stats.percentiles("a") == (45.0 + 127, 45.0 + 243, 45.0 + 253)
    small = TargetStats(FakeClock(), ring_size=4)
    for latency in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0):
        observe(small, "a", ok=True, latency_ms=latency)
    assert small.percentiles("a") == (4.0, 6.0, 6.0)  # ring {3, 4, 5, 6}


def test_lru_bound_and_eviction_while_in_flight() -> None:
    stats = TargetStats(FakeClock(), max_entries=3)
    for key in ("a", "b", "c"):
        observe(stats, key, ok=True)
    token = stats.start("a")  # refreshes "a": "b" is the oldest
    stats.start("d")
    assert len(stats) == 3
    assert stats.uses("b") == 0
    for key in ("e", "f", "g"):
        stats.start(key)
    assert stats.uses("a") == 0  # evicted while its attempt was running
    stats.finish(token, ok=True, latency_ms=1.0)  # harmless, does not resurrect it
    assert stats.uses("a") == 0
    assert len(stats) == 3


def test_insert_beyond_default_bound_drops_the_first() -> None:
    stats = TargetStats(FakeClock())
    for i in range(4097):
        stats.start(f"k{i}")
    assert len(stats) == 4096
    assert stats.uses("k0") == 0
    assert stats.uses("k1") == 1


def test_snapshot() -> None:
    clock = FakeClock()
    stats = TargetStats(clock)
    observe(stats, "a", ok=True, latency_ms=120.0)
    stats.start("b")
    assert stats.snapshot() == {
        "a": TargetView(1.0, 120.0, (120.0, 120.0, 120.0), 0, 1, 1000.0),
        "b": TargetView(1.0, None, None, 1, 1, 1000.0),
    }


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    stats = TargetStats(clock, ring_size=256)
    for i in range(1_000_000):
        clock.now += 0.001
        token = stats.start(f"target:{i % 10_000}")
        stats.finish(token, ok=i % 7 != 0, latency_ms=float(i % 997))
    assert len(stats) == 4096
    assert all(len(entry.ring) <= 256 for entry in stats._entries.values())
    assert all(stats.in_flight(key) == 0 for key in stats.snapshot())


def test_ring_bounded_on_one_hot_key() -> None:
    stats = TargetStats(FakeClock(), ring_size=256)
    for i in range(10_000):
        observe(stats, "hot", ok=True, latency_ms=float(i))
    assert len(stats._entries["hot"].ring) == 256
    assert stats.percentiles("hot") == (9871.0, 9987.0, 9997.0)


@pytest.mark.parametrize(
    "kwargs", [{"max_entries": 0}, {"ring_size": 0}, {"half_life_s": 0.0}, {"half_life_s": -1.0}]
)
def test_invalid_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TargetStats(FakeClock(), **kwargs)  # type: ignore[arg-type]


def test_discard_forgets_matching_keys_and_orphans_in_flight_tokens() -> None:
    stats = TargetStats(FakeClock())
    observe(stats, "a", ok=False)
    token = stats.start("a")
    observe(stats, "b", ok=True, latency_ms=7.0)
    assert stats.discard(lambda key: key == "a") == 1
    assert (stats.success_rate("a"), stats.uses("a"), stats.in_flight("a")) == (1.0, 0, 0)
    stats.finish(token, False, 1.0)  # finishes harmlessly, recorded nowhere
    assert stats.uses("a") == 0 and len(stats) == 1
    assert stats.percentiles("b") == (7.0, 7.0, 7.0)
