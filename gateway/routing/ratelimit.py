"""Per-connection rate limits: requests per minute, a minimum gap between request starts, a
maximum of requests in flight, and the limits upstreams announce in their headers.

Used from the gateway's event loop only. Rules and defaults: docs/routing.md "Rate limits".

* **Requests per minute** is a sliding 60-second window counted per whole second of the
  injected clock: a start during second ``s`` counts until ``s + 61``, so no 60-second span
  ever holds more than ``rpm`` starts (a slot may free up to a second late, never early).
  The window keeps at most 61 ``[second, count]`` pairs per connection, whatever the rpm.
* **Minimum gap**: a start no sooner than ``min_gap_ms`` after the previous one.
* **Max concurrent**: a :class:`Slot` is held from the start until ``release()``, which the
  caller makes after the response has been relayed in full (streams included).
* **Learned limits** (every upstream response is shown to :meth:`RateLimiter.learn`): the
  requests limit of OpenAI ``x-ratelimit-*-requests`` and Anthropic
  ``anthropic-ratelimit-requests-*`` headers acts as an rpm for ``LEARNED_TTL_S`` after the
  last header that said so; the remaining count of a successful response is a budget until
  the announced reset (at most ``MAX_LEARNED_WAIT_S`` away), so ``remaining: 0`` holds every
  start until then.
  The stricter of the configured and the learned limit wins.

A request that cannot start at once waits in the connection's FIFO queue, bounded by
``rate_limit_queue_size``, for at most ``rate_limit_max_wait_s``; when the queue is full, or
the window says its turn is further away than that, it is refused at once, so the caller
moves on to the next target. A connection with no limits has no entry here at all: its
:meth:`RateLimiter.take` is one dict lookup and three comparisons.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gateway.routing.retry_after import duration_seconds, seconds_until

if TYPE_CHECKING:
    from gateway.config.snapshot import Upstream

Clock = Callable[[], float]

WINDOW_S: Final = 60
LEARNED_TTL_S: Final = 300.0  # a learned requests limit is forgotten this long after its header
MAX_LEARNED_WAIT_S: Final = 300.0  # a "remaining 0" holds starts no longer than this
MAX_GATES: Final = 4096

# OpenAI (Go durations: "1s", "6m0s", "20ms") and Anthropic (RFC 3339 times).
_OPENAI = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests")
_OPENAI_RESET = "x-ratelimit-reset-requests"
_ANTHROPIC = ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining")
_ANTHROPIC_RESET = "anthropic-ratelimit-requests-reset"


@dataclass(frozen=True, slots=True)
class Refused:
    """No slot within the bounds: why (for the final error) and when one frees, if known."""

    reason: str
    retry_at: float | None  # on the limiter's clock


@dataclass(frozen=True, slots=True)
class LimitView:
    """One connection's limiter state, for tests and the health view."""

    in_flight: int
    waiting: int
    starts_in_window: int
    rpm: int | None  # effective: the stricter of configured and learned
    min_gap_s: float | None
    max_concurrent: int | None
    budget: int | None  # requests the upstream said remain before its reset
    budget_until: float | None


class Slot:
    """Permission to send one request; ``release()`` exactly when its response is done
    (repeated calls are ignored)."""

    __slots__ = ("_gate",)

    def __init__(self, gate: _Gate | None) -> None:
        self._gate = gate

    def release(self) -> None:
        gate = self._gate
        if gate is not None:
            self._gate = None
            gate.finished()


FREE: Final = Slot(None)  # a connection without limits: nothing to count, nothing to release


class _Gate:
    """One connection's limits and state."""

    __slots__ = (
        "budget",
        "budget_until",
        "clock",
        "count",
        "in_flight",
        "last_start",
        "learned_rpm",
        "learned_rpm_until",
        "max_concurrent",
        "min_gap_s",
        "rpm",
        "timer",
        "upstream",
        "waiters",
        "window",
    )

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.upstream: Upstream | None = None
        self.rpm: int | None = None
        self.min_gap_s: float | None = None
        self.max_concurrent: int | None = None
        self.learned_rpm: int | None = None
        self.learned_rpm_until = 0.0
        self.budget: int | None = None
        self.budget_until = 0.0
        self.window: deque[list[int]] = deque()  # [second, starts], oldest first
        self.count = 0  # starts in the window
        self.last_start: float | None = None
        self.in_flight = 0
        self.waiters: deque[asyncio.Future[Slot]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def configure(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.rpm = upstream.rpm
        self.min_gap_s = upstream.min_gap_ms / 1000 if upstream.min_gap_ms is not None else None
        self.max_concurrent = upstream.max_concurrent

    # limits -------------------------------------------------------------------------------

    def effective_rpm(self, now: float) -> int | None:
        learned = self.learned_rpm if now < self.learned_rpm_until else None
        if learned is None:
            return self.rpm
        return learned if self.rpm is None else min(self.rpm, learned)

    def live_budget(self, now: float) -> int | None:
        if self.budget is not None and now >= self.budget_until:
            self.budget = None
        return self.budget

    def unlimited(self, now: float) -> bool:
        """Nothing configured or learned applies: the entry can go."""
        return (
            self.rpm is None
            and self.min_gap_s is None
            and self.max_concurrent is None
            and now >= self.learned_rpm_until
            and self.live_budget(now) is None
            and not self.waiters
        )

    def has_room(self) -> bool:
        return self.max_concurrent is None or self.in_flight < self.max_concurrent

    def ready_at(self, now: float, ahead: int) -> float:
        """When the start after ``ahead`` others can happen, counting the window, the gap and
        the learned budget but not concurrency (that depends on releases)."""
        ready = now
        gap = self.min_gap_s
        if gap is not None:
            base = now if self.last_start is None else max(now, self.last_start + gap)
            ready = base + ahead * gap
        needed = ahead + 1
        rpm = self.effective_rpm(now)
        if rpm is not None:
            self._expire(now)
            leaving = needed - (rpm - self.count)  # starts that must leave the window first
            if leaving > 0:
                ready = max(ready, self._window_frees(now, leaving, rpm))
        budget = self.live_budget(now)
        if budget is not None and needed > budget:
            ready = max(ready, self.budget_until)
        return ready

    def _window_frees(self, now: float, leaving: int, rpm: int) -> float:
        for second, starts in self.window:
            leaving -= starts
            if leaving <= 0:
                return float(second + WINDOW_S + 1)
        # More than the window holds: later starts must leave too, about rpm per window.
        oldest = self.window[0][0] if self.window else math.floor(now)
        return float(oldest + (WINDOW_S + 1) * math.ceil((leaving + self.count) / rpm))

    def _expire(self, now: float) -> None:
        window = self.window
        while window and window[0][0] + WINDOW_S + 1 <= now:
            self.count -= window.popleft()[1]

    def binding(self, now: float) -> str:
        """The limits in force, worded for the final error."""
        parts = []
        rpm = self.effective_rpm(now)
        if rpm is not None:
            parts.append(f"{self.count} of {rpm} requests in the last minute")
        if self.min_gap_s is not None:
            parts.append(f"min_gap_ms {round(self.min_gap_s * 1000)}")
        if self.max_concurrent is not None:
            parts.append(f"{self.in_flight} of max_concurrent {self.max_concurrent} in flight")
        budget = self.live_budget(now)
        if budget is not None:
            parts.append(f"the upstream said {budget} requests remain until its reset")
        return ", ".join(parts) or "limits"

    # slots --------------------------------------------------------------------------------

    def can_start(self, now: float) -> bool:
        return not self.waiters and self.has_room() and self.ready_at(now, 0) <= now

    def grant(self, now: float) -> Slot:
        self.in_flight += 1
        self.last_start = now
        second = math.floor(now)
        window = self.window
        if window and window[-1][0] == second:
            window[-1][1] += 1
        else:
            window.append([second, 1])
        self.count += 1
        self._expire(now)
        if self.budget is not None:
            self.budget -= 1
        return Slot(self)

    def finished(self) -> None:
        self.in_flight -= 1
        if self.waiters:
            self.pump()

    def pump(self) -> None:
        """Start waiters in order while they can; wake up again when the head can."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        waiters = self.waiters
        now = self.clock()
        while waiters:
            head = waiters[0]
            if head.done():  # cancelled: its place is free
                waiters.popleft()
                continue
            if not self.has_room():
                return  # a release pumps again
            ready = self.ready_at(now, 0)
            if ready > now:
                loop = asyncio.get_running_loop()
                self.timer = loop.call_later(ready - now, self.pump)
                return
            waiters.popleft()
            head.set_result(self.grant(now))

    def view(self, now: float) -> LimitView:
        self._expire(now)
        budget = self.live_budget(now)
        return LimitView(
            self.in_flight,
            sum(not w.done() for w in self.waiters),
            self.count,
            self.effective_rpm(now),
            self.min_gap_s,
            self.max_concurrent,
            budget,
            self.budget_until if budget is not None else None,
        )


class RateLimiter:
    """Every connection's gate, least recently used first, at most ``max_entries``. A gate
    evicted while busy keeps serving the slots and waiters it has; new requests start a new
    one (a connection that many others pushed out briefly forgets its window)."""

    __slots__ = ("_clock", "_gates", "_wall", "max_entries")

    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        wall: Clock = time.time,
        max_entries: int = MAX_GATES,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self._wall = wall
        self.max_entries = max_entries
        self._gates: OrderedDict[str, _Gate] = OrderedDict()

    def __len__(self) -> int:
        return len(self._gates)

    def take(self, upstream: Upstream) -> Slot | None:
        """A slot now, or None: the request must :meth:`wait` (other requests are queued, or
        a limit holds it back)."""
        gate = self._gates.get(upstream.connection_id)
        if gate is None:
            if (
                upstream.rpm is None
                and upstream.min_gap_ms is None
                and upstream.max_concurrent is None
            ):
                return FREE
            gate = self._add(upstream)
        else:
            self._gates.move_to_end(upstream.connection_id)
            if gate.upstream is not upstream:
                gate.configure(upstream)
        now = self._clock()
        if gate.can_start(now):
            if gate.unlimited(now):
                del self._gates[upstream.connection_id]
                return FREE
            return gate.grant(now)
        return None

    async def wait(self, upstream: Upstream, max_wait_s: float, queue_size: int) -> Slot | Refused:
        """Queue for a slot: a Slot within ``max_wait_s``, or Refused at once when the queue
        holds ``queue_size`` requests already or the window frees no slot in time."""
        gate = self._gates.get(upstream.connection_id)
        if gate is None:  # forgotten meanwhile: start afresh
            return self.take(upstream) or await self.wait(upstream, max_wait_s, queue_size)
        now = self._clock()
        ahead = len(gate.waiters)
        ready = gate.ready_at(now, ahead)
        retry_at = ready if ready > now else None
        if ahead >= queue_size:
            return Refused(
                f"rate limit ({gate.binding(now)}): {ahead} requests waiting, the queue is full "
                f"(rate_limit_queue_size {queue_size})",
                retry_at,
            )
        if ready - now > max_wait_s:
            return Refused(
                f"rate limit ({gate.binding(now)}): {ahead} requests waiting, the next slot is "
                f"in {math.ceil(ready - now)} s (rate_limit_max_wait_s {max_wait_s:g})",
                ready,
            )
        waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        gate.waiters.append(waiter)
        gate.pump()
        slot: Slot | None = None
        try:
            async with asyncio.timeout(max_wait_s):
                slot = await waiter
        except TimeoutError:
            pass
        finally:
            if slot is None:  # timed out, or the request was cancelled
                if waiter.done() and not waiter.cancelled():
                    waiter.result().release()  # granted just as the wait ended
                else:
                    waiter.cancel()
                if waiter in gate.waiters:
                    gate.waiters.remove(waiter)
                gate.pump()
        if slot is not None:
            return slot
        now = self._clock()
        ready = gate.ready_at(now, len(gate.waiters))
        return Refused(
            f"rate limit ({gate.binding(now)}): no slot within rate_limit_max_wait_s "
            f"({max_wait_s:g} s)",
            ready if ready > now else None,
        )

    def learn(self, upstream: Upstream, headers: Mapping[str, str], status: int) -> None:
        """Adopt the requests limit an upstream response announces (OpenAI or Anthropic
        headers); a response without them costs two lookups. Only a success teaches the
        remaining budget: a failure's reset is the cooldown's business (that model on that
        account, docs/routing/failures.md), not a hold on the whole connection."""
        limit_name, remaining_name = _OPENAI
        remaining = headers.get(remaining_name)
        if remaining is not None:
            reset = headers.get(_OPENAI_RESET)
            delay = duration_seconds(reset) if reset else None
        else:
            limit_name, remaining_name = _ANTHROPIC
            remaining = headers.get(remaining_name)
            if remaining is None:
                return
            reset = headers.get(_ANTHROPIC_RESET)
            delay = seconds_until(reset, wall_now=self._wall()) if reset else None
        if status >= 300:
            remaining = None
        self._learn(upstream, _count(headers.get(limit_name)), _count(remaining), delay)

    def _learn(
        self, upstream: Upstream, limit: int | None, remaining: int | None, delay: float | None
    ) -> None:
        if limit is None and (remaining is None or delay is None):
            return
        gate = self._gates.get(upstream.connection_id)
        if gate is None:
            gate = self._add(upstream)
        now = self._clock()
        if limit is not None and limit > 0:
            gate.learned_rpm = limit
            gate.learned_rpm_until = now + LEARNED_TTL_S
        if remaining is not None and delay is not None:
            gate.budget = remaining
            gate.budget_until = now + min(delay, MAX_LEARNED_WAIT_S)
        if gate.waiters:
            gate.pump()

    def poll(self) -> None:
        """Re-check every queue against the clock (timers do this; tests that move a fake
        clock call it)."""
        for gate in list(self._gates.values()):
            if gate.waiters:
                gate.pump()

    def view(self, connection_id: str) -> LimitView | None:
        gate = self._gates.get(connection_id)
        return None if gate is None else gate.view(self._clock())

    def _add(self, upstream: Upstream) -> _Gate:
        gate = _Gate(self._clock)
        gate.configure(upstream)
        gates = self._gates
        gates[upstream.connection_id] = gate
        if len(gates) > self.max_entries:
            gates.popitem(last=False)
        return gate


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None
