"""The quota fetch scheduler with a fake fetcher: concurrency bound, backoff, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from gateway.config.snapshot import Upstream
from gateway.usage.counters import Reading
from gateway.usage.fetcher import FetchScheduler
from tests.support.chaos import FakeClock

pytestmark = pytest.mark.timeout(10)


def upstream(name: str, provider: str = "acme") -> Upstream:
    return Upstream(
        connection_id=f"id-{name}",
        connection=name,
        provider=provider,
        provider_name=provider,
        alias=provider,
        dialect="openai",
        base_url="http://127.0.0.1:1",
        headers={},
        models=frozenset(),
        priority=1,
    )


class FakeFetcher:
    def __init__(
        self, *, hold: asyncio.Event | None = None, failing: frozenset[str] = frozenset()
    ) -> None:
        self.hold = hold
        self.failing = set(failing)
        self.entered: asyncio.Queue[str] = asyncio.Queue()  # one item per fetch begun
        self.active = 0
        self.peak = 0
        self.calls: list[str] = []
        self.cancelled = 0

    async def fetch(self, upstream: Upstream) -> list[Reading]:
        self.calls.append(upstream.connection)
        self.entered.put_nowait(upstream.connection)
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if self.hold is not None:
                await self.hold.wait()
            else:
                await asyncio.sleep(0)
            if upstream.connection in self.failing:
                raise RuntimeError("HTTP 503")
            return [Reading("5h", 0.5, 1000.0, 1.0)]
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1


async def test_concurrency_is_bounded_and_every_connection_is_polled() -> None:
    hold = asyncio.Event()
    fetcher = FakeFetcher(hold=hold)
    ups = [upstream(f"c{i}") for i in range(12)] + [upstream("other", provider="nofetcher")]
    applied: list[tuple[str, list[Reading]]] = []
    scheduler = FetchScheduler(
        {"acme": fetcher},
        lambda: ups,
        lambda u, r: applied.append((u.connection, r)),
        concurrency=5,
        clock=FakeClock(0.0),
    )
    poll = asyncio.create_task(scheduler.poll_due())
    for _ in range(5):
        await fetcher.entered.get()
    for _ in range(20):  # more loop turns: no sixth fetch begins
        await asyncio.sleep(0)
    assert fetcher.active == 5
    hold.set()
    assert await poll == 12
    assert fetcher.peak == 5
    assert sorted(name for name, _ in applied) == sorted(f"c{i}" for i in range(12))
    assert applied[0][1] == [Reading("5h", 0.5, 1000.0, 1.0)]


async def test_failures_back_off_exponentially_and_success_resets() -> None:
    clock = FakeClock(0.0)
    fetcher = FakeFetcher(failing=frozenset({"bad"}))
    ups = [upstream("good"), upstream("bad")]
    scheduler = FetchScheduler(
        {"acme": fetcher}, lambda: ups, lambda u, r: None, interval=60, max_backoff=300, clock=clock
    )
    assert await scheduler.poll_due() == 2  # t=0
    assert scheduler.failures == {"id-bad": 1}  # next at 0 + 120
    clock.advance(60)
    assert await scheduler.poll_due() == 1  # t=60: only good
    assert fetcher.calls[-1] == "good"
    clock.advance(60)
    assert await scheduler.poll_due() == 2  # t=120
    assert scheduler.failures == {"id-bad": 2}  # next at 120 + 240
    clock.advance(239)
    assert await scheduler.poll_due() == 1  # t=359: good only
    assert fetcher.calls.count("bad") == 2
    clock.advance(1)
    assert await scheduler.poll_due() == 1  # t=360: bad, a third failure
    assert scheduler.failures == {"id-bad": 3}  # 60 * 2^3 = 480, capped at 300
    fetcher.failing.clear()
    clock.advance(299)
    await scheduler.poll_due()
    assert fetcher.calls.count("bad") == 3
    clock.advance(1)
    await scheduler.poll_due()
    assert fetcher.calls.count("bad") == 4 and scheduler.failures == {}


async def test_stop_cancels_the_loop_and_fetches_in_flight() -> None:
    hold = asyncio.Event()
    fetcher = FakeFetcher(hold=hold)
    scheduler = FetchScheduler({"acme": fetcher}, lambda: [upstream("a")], lambda u, r: None)
    scheduler.start()
    await fetcher.entered.get()
    await scheduler.stop()
    assert fetcher.cancelled == 1 and fetcher.active == 0
    await scheduler.stop()  # twice is fine


async def test_connections_that_left_the_configuration_are_forgotten() -> None:
    clock = FakeClock(0.0)
    ups = [upstream("a"), upstream("b")]
    fetcher = FakeFetcher(failing=frozenset({"b"}))
    scheduler = FetchScheduler({"acme": fetcher}, lambda: ups, lambda u, r: None, clock=clock)
    await scheduler.poll_due()
    assert scheduler.failures == {"id-b": 1}
    ups.pop()
    clock.advance(60)
    await scheduler.poll_due()
    assert scheduler.failures == {}
