"""Today's totals from the request log (requests, tokens, cost), for the desktop's Home page
and tray tooltip. A plain SQL function over a reader connection: call it off the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import apsw

from gateway.providers.catalog import Catalog


@dataclass(frozen=True, slots=True)
class TodaySummary:
    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0  # at catalog prices; replayed answers cost nothing
    unpriced: int = 0  # answered upstream by a model without a known price

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


# One row per (provider, model) so prices are looked up once per model, not per request.
_SQL = """
SELECT provider, upstream_model, replay IS NOT NULL, count(*),
       coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0)
FROM request_log WHERE ts >= ?
GROUP BY provider, upstream_model, replay IS NOT NULL
"""


def start_of_today(now: float | None = None) -> float:
    """Local midnight as Unix time."""
    moment = datetime.fromtimestamp(time.time() if now is None else now)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def today_summary(
    conn: apsw.Connection, catalog: Catalog, *, clock: Callable[[], float] = time.time
) -> TodaySummary:
    requests = tokens_in = tokens_out = unpriced = 0
    cost = 0.0
    for provider, model, replayed, count, t_in, t_out in conn.execute(
        _SQL, (start_of_today(clock()),)
    ):
        requests += count
        tokens_in += t_in
        tokens_out += t_out
        if replayed or provider is None or not (t_in or t_out):
            continue
        info = catalog.get(provider)
        price = info.price_for(model) if info is not None and model else None
        if price is None:
            unpriced += count
        else:
            cost += (t_in * price.input + t_out * price.output) / 1_000_000
    return TodaySummary(requests, tokens_in, tokens_out, round(cost, 6), unpriced)
