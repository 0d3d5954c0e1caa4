"""What one client API key may do: its allowed models and its request limits.

Counts live in memory, per key name, in fixed slots (1 s slots for the minute, 1 min slots
for the day), so memory per key is bounded whatever the limit: a request counts from the
moment it is admitted until its slot has left the window — between 60 and 61 s for ``rpm``,
between 24 h and 24 h 1 min for ``requests_per_day``. Counts restart with the gateway.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase

from gateway.config.snapshot import KeyPolicy
from gateway.server.errors import GatewayError

MINUTE_S = 60.0
DAY_S = 86400.0
MINUTE_SLOT_S = 1.0
DAY_SLOT_S = 60.0


class SlidingCount:
    """Requests in the last ``window_s`` seconds, counted in slots of ``slot_s`` seconds.

    A request in slot k counts while the current slot is at most k + window/slot, so never
    less than the whole window. Holds at most window/slot + 1 non-empty slots.
    """

    __slots__ = ("_slot_s", "_slots", "_span", "_total")

    def __init__(self, window_s: float, slot_s: float) -> None:
        self._slot_s = slot_s
        self._span = round(window_s / slot_s)  # slots a request counts for, after its own
        self._slots: deque[list[int]] = deque()  # [slot index, requests], oldest first
        self._total = 0

    def _slot(self, now: float) -> int:
        return math.floor(now / self._slot_s)

    def count(self, now: float) -> int:
        oldest = self._slot(now) - self._span
        slots = self._slots
        while slots and slots[0][0] < oldest:
            self._total -= slots.popleft()[1]
        return self._total

    def add(self, now: float) -> None:
        slot = self._slot(now)
        slots = self._slots
        if slots and slots[-1][0] == slot:
            slots[-1][1] += 1
        else:
            slots.append([slot, 1])
        self._total += 1

    def wait(self, now: float, limit: int) -> float:
        """Seconds until fewer than ``limit`` requests count (call after ``count``)."""
        remaining = self._total
        for slot, requests in self._slots:
            remaining -= requests
            if remaining < limit:
                return max((slot + self._span + 1) * self._slot_s - now, 0.0)
        return 0.0


class KeyLimits:
    """Per-key request counters, checked once per request at the top of the exchange."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._minute: dict[str, SlidingCount] = {}
        self._day: dict[str, SlidingCount] = {}

    def configure(self, policies: Mapping[str, KeyPolicy]) -> None:
        """A new configuration: forget the counts of keys that lost that limit, so the
        counters are bounded by the keys configured."""
        for name in list(self._minute):
            if (policy := policies.get(name)) is None or policy.rpm is None:
                del self._minute[name]
        for name in list(self._day):
            if (policy := policies.get(name)) is None or policy.requests_per_day is None:
                del self._day[name]

    def admit(
        self,
        key_name: str | None,
        policies: Mapping[str, KeyPolicy],
        models: Iterable[str],
        *,
        counted: bool = True,
    ) -> None:
        """Raise 403 ``model_not_allowed`` or 429 ``key_rate_limited``; else count the
        request (unless ``counted`` is False: token counting is free)."""
        if key_name is None:
            return
        policy = policies.get(key_name)
        if policy is None:
            return
        if policy.allowed_models:
            for model in models:
                if not any(fnmatchcase(model, pattern) for pattern in policy.allowed_models):
                    raise _not_allowed(key_name, model, policy.allowed_models)
        if not counted:
            return
        now = self.clock()
        windows: list[tuple[SlidingCount, int, str]] = []
        if policy.rpm is not None:
            minute = self._minute.get(key_name)
            if minute is None:
                minute = self._minute[key_name] = SlidingCount(MINUTE_S, MINUTE_SLOT_S)
            windows.append((minute, policy.rpm, f"{policy.rpm} requests per minute (rpm)"))
        if policy.requests_per_day is not None:
            day = self._day.get(key_name)
            if day is None:
                day = self._day[key_name] = SlidingCount(DAY_S, DAY_SLOT_S)
            windows.append(
                (
                    day,
                    policy.requests_per_day,
                    f"{policy.requests_per_day} requests per rolling 24 hours (requests_per_day)",
                )
            )
        full = [(w.wait(now, limit), text) for w, limit, text in windows if w.count(now) >= limit]
        if full:
            wait_s, text = max(full)
            raise _limited(key_name, text, wait_s)
        for window, _, _ in windows:
            window.add(now)


def _not_allowed(key_name: str, model: str, patterns: tuple[str, ...]) -> GatewayError:
    return GatewayError(
        403,
        f"API key {key_name!r} may not use model {model!r}; it may use: "
        + ", ".join(patterns)
        + ".",
        code="model_not_allowed",
    )


def _limited(key_name: str, limit: str, wait_s: float) -> GatewayError:
    seconds = max(math.ceil(wait_s), 1)
    error = GatewayError(
        429,
        f"API key {key_name!r} is over its limit of {limit}; retry in {seconds} s.",
        code="key_rate_limited",
    )
    error.retry_after = seconds
    return error
