"""One limit's live count: what the current window has used, the recent rate (for the
forecast) and, when a provider reported it, the provider's own reading."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

from gateway.usage.limits import Limit
from gateway.usage.windows import percent

FORECAST_SPAN_S: Final = 900.0  # the rate is measured over the last 15 minutes
_SLOT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class Reading:
    """What a provider's quota endpoint said about one window."""

    window: str  # 5h, daily, weekly, monthly
    used_fraction: float  # 0..1
    resets_at: float | None = None  # Unix time
    at: float = 0.0


@dataclass(slots=True)
class Amounts:
    requests: int = 0
    tokens: int = 0
    usd: float = 0.0

    def of(self, unit: str) -> float:
        if unit == "requests":
            return float(self.requests)
        if unit == "tokens":
            return float(self.tokens)
        return self.usd


@dataclass(slots=True)
class Count:
    """The current window of one limit. ``anchor``: a rolling window's first request."""

    limit: Limit
    start: float
    end: float
    anchor: float | None = None
    used: Amounts = field(default_factory=Amounts)
    reading: Reading | None = None
    # (minute, amount in the limit's unit), the last FORECAST_SPAN_S only: at most 16 slots
    recent: deque[list[float]] = field(default_factory=deque)

    def amount(self) -> float:
        return self.used.of(self.limit.unit)

    def reading_applies(self, now: float) -> bool:
        reading = self.reading
        return reading is not None and (reading.resets_at is None or now < reading.resets_at)

    def percent(self, now: float) -> float:
        if self.reading is not None and self.reading_applies(now):
            return self.reading.used_fraction * 100.0
        return percent(self.amount(), self.limit.limit)

    def resets_at(self, now: float) -> float:
        reading = self.reading
        if reading is not None and reading.resets_at is not None and now < reading.resets_at:
            return reading.resets_at
        return self.end

    def add(self, now: float, requests: int, tokens: int, usd: float) -> None:
        used = self.used
        used.requests += requests
        used.tokens += tokens
        used.usd += usd
        amount = Amounts(requests, tokens, usd).of(self.limit.unit)
        if amount:
            slot = float(now // _SLOT_S)
            recent = self.recent
            if recent and recent[-1][0] == slot:
                recent[-1][1] += amount
            else:
                recent.append([slot, amount])
            oldest = slot - FORECAST_SPAN_S // _SLOT_S
            while recent[0][0] < oldest:
                recent.popleft()

    def exhausted_at(self, now: float) -> float | None:
        """When the window runs out at the rate of the last 15 minutes (what they used, over
        15 minutes); None with no recent use, or while a provider's reading stands in."""
        if self.reading_applies(now):
            return None
        oldest = (now // _SLOT_S - FORECAST_SPAN_S // _SLOT_S) * _SLOT_S
        recent = sum(amount for slot, amount in self.recent if slot * _SLOT_S >= oldest)
        if recent <= 0:
            return None
        left = self.limit.limit - self.amount()
        return now + max(left, 0.0) * FORECAST_SPAN_S / recent
