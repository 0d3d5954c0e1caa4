"""The client-key budget check at the top of the exchange: 429 in the client's dialect."""

from __future__ import annotations

import math

from gateway.server.errors import GatewayError
from gateway.usage.tracker import UsageTracker
from gateway.usage.windows import duration


def admit_budget(usage: UsageTracker, key_name: str | None) -> None:
    """Raise 429 ``budget_exceeded`` when the key has spent one of its budgets."""
    over = usage.key_budget(key_name)
    if over is None:
        return
    count, resets_at = over
    wait = max(math.ceil(resets_at - usage.clock()), 1)
    limit = count.limit
    error = GatewayError(
        429,
        f"API key {key_name!r} has spent its {limit.title} of ${limit.limit:.2f} "
        f"(${count.amount():.2f} used); it resets in {duration(wait)}.",
        code="budget_exceeded",
    )
    error.retry_after = wait
    raise error
