"""The per-connection limiter on a fake clock: rpm window, minimum gap, concurrency, the
bounded wait queue, limits learned from OpenAI and Anthropic headers, and its own bounds."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from types import MappingProxyType

import pytest

from gateway.config.snapshot import Upstream
from gateway.routing.ratelimit import (
    FREE,
    LEARNED_TTL_S,
    MAX_LEARNED_WAIT_S,
    RateLimiter,
    Refused,
    Slot,
)

WALL = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = 1000.25) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def upstream(
    cid: str = "c1",
    *,
    rpm: int | None = None,
    min_gap_ms: int | None = None,
    max_concurrent: int | None = None,
) -> Upstream:
    return Upstream(
        connection_id=cid,
        connection=f"conn-{cid}",
        provider="openai",
        provider_name="OpenAI",
        alias="openai",
        dialect="openai",
        base_url="http://127.0.0.1:1/v1",
        headers=MappingProxyType({}),
        models=frozenset(),
        priority=1,
        rpm=rpm,
        min_gap_ms=min_gap_ms,
        max_concurrent=max_concurrent,
    )


def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock, wall=lambda: WALL + clock.now)


def granted(value: Slot | Refused | None) -> Slot:
    assert isinstance(value, Slot) and value is not FREE, value
    return value


def refused(value: Slot | Refused | None) -> Refused:
    assert isinstance(value, Refused), value
    return value


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_a_connection_without_limits_costs_no_entry() -> None:
    limits = limiter(FakeClock())
    plain = upstream()
    for _ in range(1000):
        slot = limits.take(plain)
        assert slot is FREE
        slot.release()
    assert len(limits) == 0 and limits.view("c1") is None


async def test_rpm_is_a_sliding_minute_and_a_far_slot_gives_up_at_once() -> None:
    clock = FakeClock(1000.25)
    limits = limiter(clock)
    up = upstream(rpm=2)
    granted(limits.take(up)).release()
    clock.now = 1010.5
    granted(limits.take(up)).release()
    assert limits.take(up) is None
    # The first start (second 1000) leaves the window at 1061: 61 s away, past a 30 s wait.
    answer = refused(await limits.wait(up, 30.0, 100))
    assert answer.retry_at == 1061.0
    assert answer.reason == (
        "rate limit (2 of 2 requests in the last minute): 0 requests waiting, the next slot "
        "is in 51 s (rate_limit_max_wait_s 30)"
    )
    view = limits.view("c1")
    assert view is not None and view.waiting == 0 and view.starts_in_window == 2
    clock.now = 1060.999
    assert limits.take(up) is None
    clock.now = 1061.0
    granted(limits.take(up))
    assert limits.take(up) is None  # the 1010 start is still in the window


async def test_a_waiter_starts_when_the_window_frees_a_slot() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream(rpm=1)
    granted(limits.take(up)).release()
    waiter = asyncio.create_task(limits.wait(up, 100.0, 10))
    await settle()
    assert not waiter.done() and limits.view("c1").waiting == 1  # type: ignore[union-attr]
    clock.now = 1060.9
    limits.poll()
    await settle()
    assert not waiter.done()
    clock.now = 1061.0
    limits.poll()
    granted(await asyncio.wait_for(waiter, 1))


async def test_min_gap_spaces_starts_and_queued_requests_count_their_turn() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream(min_gap_ms=500)
    granted(limits.take(up)).release()
    assert limits.take(up) is None
    first = asyncio.create_task(limits.wait(up, 30.0, 10))
    await settle()
    # A second waiter's turn is two gaps away: past a 0.9 s wait, so it gives up at once.
    late = refused(await limits.wait(up, 0.9, 10))
    assert late.retry_at == 1001.0 and "1 requests waiting" in late.reason
    clock.now = 1000.499
    limits.poll()
    await settle()
    assert not first.done()
    clock.now = 1000.5
    limits.poll()
    granted(await asyncio.wait_for(first, 1)).release()
    assert limits.take(up) is None
    clock.now = 1001.0
    granted(limits.take(up))


async def test_max_concurrent_holds_the_slot_until_release_and_serves_in_order() -> None:
    limits = limiter(FakeClock())
    up = upstream(max_concurrent=1)
    holder = granted(limits.take(up))
    order: list[str] = []

    async def queued(name: str) -> Slot:
        slot = granted(await limits.wait(up, 30.0, 10))
        order.append(name)
        return slot

    second = asyncio.create_task(queued("second"))
    await settle()
    third = asyncio.create_task(queued("third"))
    await settle()
    assert limits.take(up) is None  # a newcomer does not jump the queue
    assert order == []
    holder.release()
    holder.release()  # repeated: ignored, not a second free slot
    await settle()
    assert order == ["second"] and not third.done()
    (await second).release()
    await settle()
    assert order == ["second", "third"]
    view = limits.view("c1")
    assert view is not None and (view.in_flight, view.waiting) == (1, 0)
    (await third).release()
    assert limits.view("c1").in_flight == 0  # type: ignore[union-attr]


async def test_a_full_queue_refuses_at_once() -> None:
    limits = limiter(FakeClock())
    up = upstream(max_concurrent=1)
    holder = granted(limits.take(up))
    waiters = [asyncio.create_task(limits.wait(up, 30.0, 2)) for _ in range(2)]
    await settle()
    answer = refused(await limits.wait(up, 30.0, 2))
    assert answer.retry_at is None  # concurrency: nobody knows when a slot frees
    assert answer.reason == (
        "rate limit (1 of max_concurrent 1 in flight): 2 requests waiting, the queue is full "
        "(rate_limit_queue_size 2)"
    )
    holder.release()
    for task in waiters:
        (await asyncio.wait_for(task, 1)).release()  # type: ignore[union-attr]


async def test_the_wait_is_bounded_by_max_wait() -> None:
    limits = limiter(FakeClock())
    up = upstream(max_concurrent=1)
    holder = granted(limits.take(up))
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = refused(await limits.wait(up, 0.05, 10))
    assert 0.05 <= loop.time() - started < 1.0
    assert answer.reason == (
        "rate limit (1 of max_concurrent 1 in flight): no slot within rate_limit_max_wait_s "
        "(0.05 s)"
    )
    assert limits.view("c1").waiting == 0  # type: ignore[union-attr]
    holder.release()
    granted(limits.take(up))


async def test_a_cancelled_waiter_frees_its_place() -> None:
    limits = limiter(FakeClock())
    up = upstream(max_concurrent=1)
    holder = granted(limits.take(up))
    head = asyncio.create_task(limits.wait(up, 30.0, 2))
    await settle()
    gone = asyncio.create_task(limits.wait(up, 30.0, 2))
    await settle()
    refused(await limits.wait(up, 30.0, 2))  # both places are taken
    gone.cancel()  # not the head: it must leave the queue all the same
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert limits.view("c1").waiting == 1  # type: ignore[union-attr]
    next_in_line = asyncio.create_task(limits.wait(up, 30.0, 2))
    await settle()
    assert not next_in_line.done()  # queued, not refused
    holder.release()
    granted(await asyncio.wait_for(head, 1)).release()
    granted(await asyncio.wait_for(next_in_line, 1)).release()
    assert limits.view("c1").in_flight == 0  # type: ignore[union-attr]


async def test_a_slot_granted_as_the_waiter_is_cancelled_is_given_back() -> None:
    limits = limiter(FakeClock())
    up = upstream(max_concurrent=1)
    holder = granted(limits.take(up))
    waiter = asyncio.create_task(limits.wait(up, 30.0, 5))
    await settle()
    holder.release()  # grants the waiter's future...
    waiter.cancel()  # ...but its task is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await waiter
    view = limits.view("c1")
    assert view is not None and (view.in_flight, view.waiting) == (0, 0)
    granted(limits.take(up))


async def test_openai_headers_teach_a_budget_that_holds_starts_until_the_reset() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream()
    limits.learn(
        up,
        {
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "1",
            "x-ratelimit-reset-requests": "6m0s",
        },
        200,
    )
    view = limits.view("c1")
    assert view is not None and view.rpm == 60 and view.budget == 1
    assert view.budget_until == 1000.0 + MAX_LEARNED_WAIT_S  # 6 minutes, capped
    granted(limits.take(up)).release()  # the one remaining request
    assert limits.take(up) is None
    answer = refused(await limits.wait(up, 30.0, 10))
    assert answer.retry_at == 1000.0 + MAX_LEARNED_WAIT_S
    assert "the upstream said 0 requests remain until its reset" in answer.reason
    limits.learn(
        up, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20ms"}, 200
    )
    clock.now = 1000.019
    assert limits.take(up) is None
    clock.now = 1000.02
    granted(limits.take(up))


async def test_anthropic_headers_reset_at_an_rfc3339_time() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream()
    reset = dt.datetime.fromtimestamp(WALL + 1000.0 + 20, dt.UTC).isoformat()
    limits.learn(
        up,
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset.replace("+00:00", "Z"),
        },
        200,
    )
    assert limits.take(up) is None
    answer = refused(await limits.wait(up, 10.0, 10))
    assert answer.retry_at == pytest.approx(1020.0)
    waiter = asyncio.create_task(limits.wait(up, 30.0, 10))  # 20 s fits a 30 s wait
    await settle()
    clock.now = 1020.0
    limits.poll()
    granted(await asyncio.wait_for(waiter, 1))
    assert limits.view("c1").rpm == 50  # type: ignore[union-attr]


def test_a_learned_limit_acts_as_rpm_and_expires() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream()
    limits.learn(
        up, {"x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "9"}, 200
    )
    granted(limits.take(up)).release()
    assert limits.take(up) is None  # 1 per minute, learned
    clock.now = 1000.0 + LEARNED_TTL_S
    assert limits.take(up) is FREE  # forgotten: the entry goes
    assert len(limits) == 0


def test_configured_and_learned_limits_the_stricter_wins() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream(rpm=5)
    limits.learn(
        up, {"x-ratelimit-limit-requests": "100", "x-ratelimit-remaining-requests": "99"}, 200
    )
    assert limits.view("c1").rpm == 5  # type: ignore[union-attr]
    limits.learn(
        up, {"x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "2"}, 200
    )
    assert limits.view("c1").rpm == 3  # type: ignore[union-attr]


def test_a_failure_teaches_the_limit_but_not_a_hold() -> None:
    limits = limiter(FakeClock())
    up = upstream()
    limits.learn(
        up,
        {
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "1s",
        },
        429,
    )
    view = limits.view("c1")
    assert view is not None and view.rpm == 3 and view.budget is None
    granted(limits.take(up))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-ratelimit-remaining-requests": "lots", "x-ratelimit-reset-requests": "soon"},
        {"x-ratelimit-remaining-requests": "0"},  # no reset: nothing to hold until
        {"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": "x"},
        {"x-ratelimit-limit-requests": "-4", "x-ratelimit-remaining-requests": "-1"},
    ],
)
def test_headers_that_say_nothing_usable_are_ignored(headers: dict[str, str]) -> None:
    limits = limiter(FakeClock())
    limits.learn(upstream(), headers, 200)
    assert len(limits) == 0
    assert limits.take(upstream()) is FREE


def test_a_configuration_change_applies_to_the_live_entry() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    granted(limits.take(upstream(rpm=1))).release()
    assert limits.take(upstream(rpm=1)) is None
    granted(limits.take(upstream(rpm=2)))  # a new snapshot raised the limit
    unlimited = upstream()
    clock.now = 1100.0
    assert limits.take(unlimited) is FREE and len(limits) == 0  # limits removed: entry gone


def test_the_map_is_bounded_least_recently_used_first() -> None:
    limits = RateLimiter(FakeClock(), max_entries=3)
    for cid in ("a", "b", "c"):
        limits.take(upstream(cid, rpm=10))
    limits.take(upstream("a", rpm=10))  # a is used again: b is now the oldest
    limits.take(upstream("d", rpm=10))
    assert len(limits) == 3
    assert limits.view("b") is None
    assert [limits.view(cid) is not None for cid in ("a", "c", "d")] == [True, True, True]
    with pytest.raises(ValueError):
        RateLimiter(FakeClock(), max_entries=0)


def test_the_window_memory_is_bounded_whatever_the_rpm() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream(rpm=1_000_000)
    for step in range(5000):
        clock.now = 1000.0 + step * 0.1
        granted(limits.take(up)).release()
    gate = limits._gates["c1"]
    assert len(gate.window) <= 62
    assert gate.count == sum(starts for _, starts in gate.window)


def test_a_long_queue_waits_for_later_windows() -> None:
    clock = FakeClock(1000.0)
    limits = limiter(clock)
    up = upstream(rpm=2)
    granted(limits.take(up))
    granted(limits.take(up))
    gate = limits._gates["c1"]
    assert gate.ready_at(1000.0, 0) == 1061.0  # both starts of second 1000 leave at 1061
    assert gate.ready_at(1000.0, 1) == 1061.0
    assert gate.ready_at(1000.0, 2) == 1122.0  # a queue longer than the window: a minute more


def test_evicted_entries_still_release_their_slots() -> None:
    limits = RateLimiter(FakeClock(), max_entries=1)
    slot = granted(limits.take(upstream("a", max_concurrent=1)))
    limits.take(upstream("b", max_concurrent=1))
    assert limits.view("a") is None
    slot.release()  # no error; the new "a" entry starts empty
    granted(limits.take(upstream("a", max_concurrent=1)))


def test_upstream_copies_with_equal_limits_share_an_entry() -> None:
    limits = limiter(FakeClock())
    first = upstream(max_concurrent=1)
    granted(limits.take(first))
    assert limits.take(dataclasses.replace(first)) is None
