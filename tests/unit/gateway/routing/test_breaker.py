"""Circuit breaker transitions and the bounded breaker board, on a fake clock."""

from __future__ import annotations

import pytest

from gateway.routing.breaker import (
    CONNECTION_BREAKER,
    PROVIDER_BREAKER,
    BreakerBoard,
    BreakerConfig,
    BreakerState,
    BreakerView,
    CircuitBreaker,
)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


CONFIG = BreakerConfig(failure_threshold=3, open_seconds=10.0)


def tripped(clock: FakeClock) -> CircuitBreaker:
    breaker = CircuitBreaker(CONFIG, clock)
    for _ in range(3):
        breaker.record_failure("HTTP 503")
    return breaker


def test_defaults() -> None:
    assert BreakerConfig() == PROVIDER_BREAKER == BreakerConfig(8, 60.0)
    assert BreakerConfig(5, 30.0) == CONNECTION_BREAKER


@pytest.mark.parametrize(("threshold", "seconds"), [(0, 1.0), (1, -1.0)])
def test_invalid_config(threshold: int, seconds: float) -> None:
    with pytest.raises(ValueError):
        BreakerConfig(threshold, seconds)


def test_closed_until_threshold_then_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(CONFIG, clock)
    states = []
    for _ in range(3):
        assert breaker.allow()
        assert breaker.open_until is None
        breaker.record_failure("HTTP 502")
        states.append(breaker.state)
    assert states == [BreakerState.CLOSED, BreakerState.CLOSED, BreakerState.OPEN]
    assert breaker.open_until == 1010.0
    assert not breaker.allow()
    assert breaker.view() == BreakerView(BreakerState.OPEN, 3, 1010.0, "HTTP 502")


def test_success_resets_the_consecutive_count() -> None:
    breaker = CircuitBreaker(CONFIG, FakeClock())
    for _ in range(10):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 0


def test_stays_open_and_late_outcomes_do_not_change_it() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.now = 1009.999
    breaker.record_failure("late")  # ignored: must not push the open phase further out
    breaker.record_success()  # a request sent before the breaker opened proves nothing
    assert breaker.state is BreakerState.OPEN
    assert breaker.open_until == 1010.0
    assert breaker.last_error == "HTTP 503"
    assert not breaker.allow()


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.now = 1010.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.open_until is None
    assert breaker.allow()
    assert not breaker.allow()
    clock.now = 1015.0
    assert not breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN


def test_probe_success_closes() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.now = 1012.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 0
    assert breaker.allow()
    assert breaker.allow()
    assert breaker.last_error == "HTTP 503"  # kept for the health view


def test_probe_failure_reopens_for_another_period() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.now = 1012.0
    assert breaker.allow()
    breaker.record_failure("timeout")
    assert breaker.state is BreakerState.OPEN
    assert breaker.open_until == 1022.0
    assert breaker.failures == 4
    assert not breaker.allow()
    clock.now = 1022.0
    assert breaker.allow()


def test_outcome_after_expiry_without_probe_counts() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.now = 1011.0
    breaker.record_failure()  # the upstream still fails once the open phase is over
    assert breaker.open_until == 1021.0
    clock.now = 1021.0
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_release_frees_the_probe_without_a_verdict() -> None:
    """429 and client errors are not counted: the caller calls release(), never
    record_failure(), so a rate-limited upstream never trips its breaker."""
    clock = FakeClock()
    breaker = CircuitBreaker(CONFIG, clock)
    for _ in range(100):
        breaker.release()
    assert breaker.state is BreakerState.CLOSED
    breaker = tripped(clock)
    clock.now = 1010.0
    assert breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()


def test_lost_probe_is_replaced_after_open_seconds() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.now = 1010.0
    assert breaker.allow()
    clock.now = 1019.999
    assert not breaker.allow()
    clock.now = 1020.0
    assert breaker.allow()
    assert not breaker.allow()


def test_threshold_of_one_and_zero_open_seconds() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(1, 0.0), clock)
    breaker.record_failure()
    assert breaker.state is BreakerState.HALF_OPEN  # open for zero seconds
    assert breaker.allow()


def test_board_reuses_breakers_and_adopts_new_config() -> None:
    clock = FakeClock()
    board = BreakerBoard(clock)
    breaker = board.for_key("provider:openai", CONFIG)
    assert board.for_key("provider:openai", CONFIG) is breaker
    breaker.record_failure()
    breaker.record_failure()
    stricter = BreakerConfig(failure_threshold=2, open_seconds=5.0)
    same = board.for_key("provider:openai", stricter)
    assert same is breaker and same.config is stricter
    assert same.failures == 2
    same.record_failure()
    assert same.state is BreakerState.OPEN
    assert same.open_until == 1005.0


def test_board_evicts_least_recently_used() -> None:
    board = BreakerBoard(FakeClock(), max_entries=3)
    for key in ("a", "b", "c"):
        board.for_key(key, CONFIG)
    board.for_key("a", CONFIG)  # refreshed: "b" is now the oldest
    assert board.get("b") is not None  # get() does not refresh
    board.for_key("d", CONFIG)
    assert len(board) == 3
    assert board.get("b") is None
    assert set(board.snapshot()) == {"a", "c", "d"}


def test_board_insert_beyond_bound_drops_the_first() -> None:
    board = BreakerBoard(FakeClock(), max_entries=4096)
    for i in range(4097):
        board.for_key(f"k{i}", CONFIG)
    assert len(board) == 4096
    assert board.get("k0") is None
    assert board.get("k1") is not None


def test_board_snapshot() -> None:
    clock = FakeClock()
    board = BreakerBoard(clock)
    board.for_key("ok", CONFIG)
    bad = board.for_key("bad", CONFIG)
    for _ in range(3):
        bad.record_failure("connection refused")
    assert board.snapshot() == {
        "ok": BreakerView(BreakerState.CLOSED, 0, None, None),
        "bad": BreakerView(BreakerState.OPEN, 3, 1010.0, "connection refused"),
    }
    clock.now = 1010.0
    assert board.snapshot()["bad"].state is BreakerState.HALF_OPEN


def test_board_is_open_peeks() -> None:
    clock = FakeClock()
    board = BreakerBoard(clock)
    assert not board.is_open("unknown")
    assert len(board) == 0
    bad = board.for_key("bad", CONFIG)
    assert not board.is_open("bad")
    for _ in range(3):
        bad.record_failure()
    assert board.is_open("bad")
    clock.now = 1010.0
    assert not board.is_open("bad")  # half-open: the probe must be routable


def test_board_memory_is_bounded() -> None:
    clock = FakeClock()
    board = BreakerBoard(clock)
    config = BreakerConfig(3, 1.0)
    for i in range(1_000_000):
        clock.now += 0.001
        breaker = board.for_key(f"connection:{i % 10_000}", config)
        if breaker.allow():
            breaker.record_failure()
    assert len(board) == 4096
    assert len(board.snapshot()) == 4096


def test_board_rejects_zero_bound() -> None:
    with pytest.raises(ValueError):
        BreakerBoard(FakeClock(), max_entries=0)


def test_discard_forgets_matching_breakers_only() -> None:
    clock = FakeClock()
    board = BreakerBoard(clock)
    for key in ("conn:a", "conn:b", "prov:p"):
        for _ in range(3):
            board.for_key(key, CONFIG).record_failure("HTTP 503")
    assert board.discard(lambda key: key.startswith("conn:")) == 2
    assert board.get("conn:a") is None and board.get("conn:b") is None
    assert board.is_open("prov:p")
    assert board.for_key("conn:a", CONFIG).view() == BreakerView(BreakerState.CLOSED, 0, None, None)
    assert board.discard(lambda key: False) == 0
    assert len(board) == 2
