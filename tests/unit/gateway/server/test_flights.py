"""Single flight by key: one leader, waiters get its answer; kept answers expire; bounded."""

from __future__ import annotations

import asyncio

import pytest

from gateway.server.flights import Flights, Role
from gateway.server.recorded import Recorded

pytestmark = pytest.mark.timeout(10)


def answer(text: str = "hi", status: int = 200) -> Recorded:
    return Recorded(status, "application/json", text.encode(), 3, 4)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_first_leads_and_the_others_get_its_answer() -> None:
    flights = Flights()
    assert await flights.join("k", 5) is Role.LEAD
    waiters = [asyncio.create_task(flights.join("k", 5)) for _ in range(9)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flights.land("k", answer("one"))
    results = await asyncio.gather(*waiters)
    assert [r.body for r in results if isinstance(r, Recorded)] == [b"one"] * 9
    assert flights.inflight == 0
    assert await flights.join("k", 5) is Role.LEAD  # nothing kept (keep_s 0): a new flight


async def test_other_keys_do_not_wait() -> None:
    flights = Flights()
    assert await flights.join("a", 5) is Role.LEAD
    assert await flights.join("b", 5) is Role.LEAD
    assert flights.inflight == 2


async def test_a_leader_without_an_answer_hands_over_to_one_waiter() -> None:
    flights = Flights()
    assert await flights.join("k", 5) is Role.LEAD
    waiters = [asyncio.create_task(flights.join("k", 5)) for _ in range(3)]
    await asyncio.sleep(0)
    flights.land("k", None)  # failed, cut or cancelled
    await settle()
    done = [w for w in waiters if w.done()]
    assert [w.result() for w in done] == [Role.LEAD]  # one leads, two wait for it
    flights.land("k", answer("second"))
    rest = await asyncio.gather(*(w for w in waiters if w not in done))
    assert [r.body for r in rest if isinstance(r, Recorded)] == [b"second", b"second"]


async def test_a_cancelled_waiter_leaves_the_others_waiting() -> None:
    flights = Flights()
    await flights.join("k", 5)
    first = asyncio.create_task(flights.join("k", 5))
    second = asyncio.create_task(flights.join("k", 5))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    flights.land("k", answer("x"))
    result = await second
    assert isinstance(result, Recorded) and result.body == b"x"
    assert first.cancelled()


async def test_a_waiter_waits_at_most_wait_s_then_runs_alone() -> None:
    flights = Flights()
    await flights.join("k", 5)
    assert await flights.join("k", 0.05) is Role.ALONE
    assert flights.inflight == 1  # the leader still owns the key


async def test_a_waiter_outlived_by_three_failed_leaders_runs_alone() -> None:
    flights = Flights()
    await flights.join("k", 5)
    waiter = asyncio.create_task(flights.join("k", 5))
    for _ in range(3):
        await settle()
        assert not waiter.done()
        flights.land("k", None)
        # Another request takes the lead before the waiter wakes up.
        assert await flights.join("k", 5) is Role.LEAD
    assert await waiter is Role.ALONE


async def test_in_flight_keys_are_bounded() -> None:
    flights = Flights(max_inflight=2)
    assert await flights.join("a", 5) is Role.LEAD
    assert await flights.join("b", 5) is Role.LEAD
    assert await flights.join("c", 5) is Role.ALONE
    assert flights.inflight == 2


async def test_a_kept_answer_serves_repeats_until_its_window_ends() -> None:
    clock = Clock()
    flights = Flights(clock=clock)
    assert await flights.join("k", 5) is Role.LEAD
    flights.land("k", answer("kept"), keep_s=5)
    clock.now += 4.9
    kept = await flights.join("k", 5)
    assert isinstance(kept, Recorded) and kept.body == b"kept"
    clock.now += 0.2
    assert await flights.join("k", 5) is Role.LEAD
    assert flights.kept == 0


async def test_kept_answers_are_bounded_by_count_and_bytes_oldest_first() -> None:
    flights = Flights(max_kept=2, max_kept_bytes=10)
    for key in ("a", "b", "c"):
        await flights.join(key, 5)
        flights.land(key, answer("12"), keep_s=60)
    assert flights.kept == 2
    assert await flights.join("a", 5) is Role.LEAD  # the oldest went first
    flights.land("a", None)
    await flights.join("d", 5)
    flights.land("d", answer("123456789"), keep_s=60)  # 9 bytes: only it fits with none else
    assert (flights.kept, flights.kept_bytes) == (1, 9)
    await flights.join("e", 5)
    flights.land("e", answer("x" * 11), keep_s=60)  # larger than the whole budget: not kept
    assert (flights.kept, flights.kept_bytes) == (1, 9)


async def test_failed_answers_are_not_kept() -> None:
    flights = Flights()
    await flights.join("k", 5)
    flights.land("k", None, keep_s=60)
    assert flights.kept == 0
