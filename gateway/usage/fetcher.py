"""Provider quota endpoints: the fetcher interface and the polling scheduler.

A fetcher asks one provider how much of each window a connection has used; its readings
stand in for the local count of that window (tracker.apply_reading). The scheduler polls
every connection that has a fetcher every ``interval`` seconds, at most ``concurrency`` at a
time; a failing connection backs off exponentially (interval x 2^failures, at most
``max_backoff``). No provider-specific fetcher ships yet: they come with the providers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

from gateway.config.snapshot import Upstream
from gateway.usage.counters import Reading

log = logging.getLogger("switchboard.usage")


class QuotaFetcher(Protocol):
    async def fetch(self, upstream: Upstream) -> list[Reading]:
        """The provider's view of this connection's windows; raise on any failure."""
        ...


Apply = Callable[[Upstream, list[Reading]], None]
Sleep = Callable[[float], Awaitable[None]]


class FetchScheduler:
    def __init__(
        self,
        fetchers: Mapping[str, QuotaFetcher],  # by catalog provider id
        upstreams: Callable[[], Iterable[Upstream]],
        apply: Apply,
        *,
        interval: float = 60.0,
        concurrency: int = 5,
        max_backoff: float = 3600.0,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._fetchers = fetchers
        self._upstreams = upstreams
        self._apply = apply
        self.interval = interval
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._due: dict[str, float] = {}  # connection id -> when to poll next
        self.failures: dict[str, int] = {}  # connection id -> consecutive failures
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self._fetchers:
            self._task = asyncio.create_task(self._run(), name="quota-fetch")

    async def stop(self) -> None:
        """Cancel the loop and every fetch in flight."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def poll_due(self) -> int:
        """Poll every connection that is due, concurrently (bounded); how many were polled."""
        now = self._clock()
        due = []
        known = set()
        for upstream in self._upstreams():
            fetcher = self._fetchers.get(upstream.provider)
            if fetcher is None:
                continue
            known.add(upstream.connection_id)
            if self._due.get(upstream.connection_id, 0.0) <= now:
                due.append(self._poll(fetcher, upstream))
        for gone in [c for c in self._due if c not in known]:  # bounded by the connections
            del self._due[gone]
            self.failures.pop(gone, None)
        await asyncio.gather(*due)
        return len(due)

    async def _run(self) -> None:
        while True:
            await self.poll_due()
            await self._sleep(self._next_wait())

    def _next_wait(self) -> float:
        now = self._clock()
        upcoming = [due - now for due in self._due.values()]
        return max(min(upcoming, default=self.interval), 1.0)

    async def _poll(self, fetcher: QuotaFetcher, upstream: Upstream) -> None:
        key = upstream.connection_id
        async with self._slots:
            try:
                readings = await asyncio.wait_for(fetcher.fetch(upstream), self.timeout)
                self._apply(upstream, readings)
            except Exception as exc:  # any failure: back off, keep the others polling
                failures = self.failures[key] = self.failures.get(key, 0) + 1
                wait = min(self.interval * 2**failures, self.max_backoff)
                self._due[key] = self._clock() + wait
                log.warning(
                    "quota fetch for %s failed (%s); next try in %.0f s",
                    upstream.connection,
                    exc,
                    wait,
                )
                return
        self.failures.pop(key, None)
        self._due[key] = self._clock() + self.interval
