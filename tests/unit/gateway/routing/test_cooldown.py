"""Cooldown expiry, backoff levels and bounds, on a fake clock."""

from __future__ import annotations

import pytest

from gateway.routing.cooldown import LEVEL_MEMORY_S, Cooldowns, CooldownView


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_unknown_key() -> None:
    cooldowns = Cooldowns(FakeClock())
    assert cooldowns.until("x") is None
    assert cooldowns.level("x") == 0
    assert cooldowns.reason("x") is None
    cooldowns.clear("x")  # no error


def test_cooldown_expires_at_until() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    cooldowns.set("conn:a", 1005.0, "rate limited", 1)
    assert cooldowns.until("conn:a") == 1005.0
    assert cooldowns.reason("conn:a") == "rate limited"
    clock.now = 1004.999
    assert cooldowns.until("conn:a") == 1005.0
    clock.now = 1005.0
    assert cooldowns.until("conn:a") is None
    assert cooldowns.reason("conn:a") is None


def test_level_survives_expiry_until_success() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    cooldowns.set("conn:a", 1001.0, "HTTP 503", 1)
    clock.now = 1002.0
    assert cooldowns.until("conn:a") is None
    # the first retry fails again: the policy reads the level to back off further
    assert cooldowns.level("conn:a") == 1
    cooldowns.set("conn:a", 1004.0, "HTTP 503", cooldowns.level("conn:a") + 1)
    assert cooldowns.level("conn:a") == 2
    cooldowns.clear("conn:a")
    assert cooldowns.level("conn:a") == 0
    assert cooldowns.until("conn:a") is None
    assert len(cooldowns) == 0


def test_level_forgotten_after_memory_and_entry_dropped_lazily() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    assert LEVEL_MEMORY_S == 600.0
    cooldowns.set("a", 1010.0, "HTTP 500", 3)
    cooldowns.set("b", 1010.0, "HTTP 500", 3)
    clock.now = 1010.0 + 599.0
    assert cooldowns.until("a") is None
    assert cooldowns.level("a") == 3
    assert len(cooldowns) == 2
    clock.now = 1010.0 + 600.0
    assert cooldowns.until("a") is None
    assert len(cooldowns) == 1  # "a" dropped on read
    assert cooldowns.level("b") == 0
    assert len(cooldowns) == 0


def test_live_cooldown_is_never_shortened() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    cooldowns.set("a", 1120.0, "credits exhausted", 0)
    cooldowns.set("a", 1001.0, "HTTP 503", 1)  # a concurrent request's shorter backoff
    assert cooldowns.until("a") == 1120.0
    assert cooldowns.reason("a") == "credits exhausted"
    assert cooldowns.level("a") == 1
    cooldowns.set("a", 1200.0, "quota exhausted", 0)  # longer wins
    assert cooldowns.until("a") == 1200.0
    assert cooldowns.reason("a") == "quota exhausted"
    cooldowns.clear("a")  # shortening on purpose
    cooldowns.set("a", 1001.0, "HTTP 503", 1)
    assert cooldowns.until("a") == 1001.0


def test_expired_cooldown_is_replaced_by_a_shorter_one() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    cooldowns.set("a", 1100.0, "rate limited", 2)
    clock.now = 1100.0
    cooldowns.set("a", 1050.0, "clock skew", 3)  # old window over: anything replaces it
    assert cooldowns.until("a") is None
    cooldowns.set("a", 1101.0, "HTTP 502", 3)
    assert cooldowns.until("a") == 1101.0
    assert cooldowns.reason("a") == "HTTP 502"


def test_lru_bound() -> None:
    cooldowns = Cooldowns(FakeClock(), max_entries=3)
    for key in ("a", "b", "c"):
        cooldowns.set(key, 2000.0, "x", 1)
    cooldowns.set("a", 2000.0, "x", 2)  # refreshed
    cooldowns.set("d", 2000.0, "x", 1)
    assert len(cooldowns) == 3
    assert cooldowns.until("b") is None
    assert cooldowns.level("a") == 2


def test_insert_beyond_default_bound_drops_the_first() -> None:
    cooldowns = Cooldowns(FakeClock())
    for i in range(4097):
        cooldowns.set(f"k{i}", 2000.0, "x", 1)
    assert len(cooldowns) == 4096
    assert cooldowns.until("k0") is None
    assert cooldowns.until("k1") == 2000.0


def test_snapshot_lists_active_and_prunes_stale() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock, level_memory_s=10.0)
    cooldowns.set("live", 1100.0, "rate limited", 2)
    cooldowns.set("ended", 1001.0, "HTTP 500", 1)
    cooldowns.set("stale", 990.0, "HTTP 500", 4)
    clock.now = 1002.0
    assert cooldowns.snapshot() == {"live": CooldownView(1100.0, "rate limited", 2)}
    assert len(cooldowns) == 2  # "ended" still remembers its level; "stale" is gone
    assert cooldowns.level("ended") == 1


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    for i in range(1_000_000):
        clock.now += 0.001
        key = f"connection:{i % 10_000}"
        cooldowns.set(key, clock.now + 5.0, "HTTP 503", cooldowns.level(key) + 1)
    assert len(cooldowns) == 4096
    assert len(cooldowns.snapshot()) <= 4096


def test_rejects_zero_bound() -> None:
    with pytest.raises(ValueError):
        Cooldowns(FakeClock(), max_entries=0)


def test_discard_clears_matching_keys_live_or_remembered() -> None:
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    cooldowns.set("conn:a", 1100.0, "rate limited", 2)
    cooldowns.set("conn:a:m", 1001.0, "HTTP 500", 3)
    cooldowns.set("conn:b", 1100.0, "rate limited", 1)
    clock.now = 1002.0  # conn:a:m ended but still remembers its level
    assert cooldowns.discard(lambda key: key.startswith("conn:a")) == 2
    assert cooldowns.until("conn:a") is None
    assert cooldowns.level("conn:a:m") == 0
    assert cooldowns.until("conn:b") == 1100.0
    assert len(cooldowns) == 1
