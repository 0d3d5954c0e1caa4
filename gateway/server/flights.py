"""Requests in flight by key: the first one runs, the ones with the same key wait for its
answer; an answer may also be kept for a while for later repeats (idempotency).

Bounded: at most ``max_inflight`` keys in flight (more run on their own) and ``max_kept``
answers or ``max_kept_bytes`` bytes kept (the oldest go first). A waiter waits at most
``wait_s``, then runs on its own. A leader that ends without an answer worth sharing (failed,
cut, cancelled) wakes its waiters empty-handed: one of them runs next, the others wait on it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from enum import Enum

from gateway.server.recorded import Recorded

# How many leaders in a row a waiter waits for before running on its own.
_ROUNDS = 3


class Role(Enum):
    LEAD = "lead"  # run the request, then land() its answer
    ALONE = "alone"  # run the request, share nothing (full, or waited long enough)


class Flights:
    def __init__(
        self,
        *,
        max_inflight: int = 10_000,
        max_kept: int = 10_000,
        max_kept_bytes: int = 32 << 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_inflight = max_inflight
        self.max_kept = max_kept
        self.max_kept_bytes = max_kept_bytes
        self._clock = clock
        self._inflight: dict[Hashable, asyncio.Future[Recorded | None]] = {}
        # Answers by key, oldest first, with when they expire (clock time).
        self._kept: OrderedDict[Hashable, tuple[float, Recorded]] = OrderedDict()
        self._kept_bytes = 0

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    @property
    def kept(self) -> int:
        return len(self._kept)

    @property
    def kept_bytes(self) -> int:
        return self._kept_bytes

    async def join(self, key: Hashable, wait_s: float) -> Recorded | Role:
        """A kept or shared answer for ``key``, or what this request must do instead."""
        for _ in range(_ROUNDS):
            now = self._clock()
            self._prune(now)
            kept = self._kept.get(key)
            if kept is not None and kept[0] > now:
                return kept[1]
            future = self._inflight.get(key)
            if future is None:
                if len(self._inflight) >= self.max_inflight:
                    return Role.ALONE
                self._inflight[key] = asyncio.get_running_loop().create_future()
                return Role.LEAD
            try:
                async with asyncio.timeout(wait_s):
                    # shield: a waiter that goes away must not cancel the others' future
                    answer = await asyncio.shield(future)
            except TimeoutError:
                return Role.ALONE
            if answer is not None:
                return answer
        return Role.ALONE

    def land(self, key: Hashable, answer: Recorded | None, keep_s: float = 0.0) -> None:
        """The leader of ``key`` is done: wake its waiters; keep ``answer`` for ``keep_s``."""
        future = self._inflight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(answer)
        if answer is not None and keep_s > 0:
            self._keep(key, answer, self._clock() + keep_s)

    def clear(self) -> None:
        self._kept.clear()
        self._kept_bytes = 0

    def _keep(self, key: Hashable, answer: Recorded, expires: float) -> None:
        size = len(answer.body)
        if size > self.max_kept_bytes:
            return
        self._drop(key)
        self._kept[key] = (expires, answer)
        self._kept_bytes += size
        while len(self._kept) > self.max_kept or self._kept_bytes > self.max_kept_bytes:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: Hashable) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self._kept_bytes -= len(kept[1].body)

    def _prune(self, now: float) -> None:
        # Kept in landing order: with one window for all, the oldest expire first.
        kept = self._kept
        while kept:
            key, (expires, _) = next(iter(kept.items()))
            if expires > now:
                return
            self._drop(key)
