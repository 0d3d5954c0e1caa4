"""The fixed latency buckets of the hourly usage rollup, and percentiles read from them.

Bucket 0 holds latencies below 1 ms; bucket k (1..57) holds [2^((k-1)/3), 2^(k/3)) ms, three
buckets per doubling; bucket 58 holds 2^19 ms (about 8.7 minutes) and more. A percentile is
the geometric middle of the bucket that holds the nearest-rank value, so it is within
``RELATIVE_ERROR`` (2^(1/6) - 1, about 12.2 %) of the exact one between 1 ms and 2^19 ms;
below 1 ms it is reported as 0.5 ms, above 2^19 ms as 2^19 ms (a lower bound).

The bucket count and edges are part of logs migration 0003 (one column per bucket): never
change them; a finer histogram needs a new table.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Final

BUCKETS: Final = 59
STEPS_PER_DOUBLING: Final = 3
# EDGES[i] is the lower edge of bucket i + 1; the same floats are written into the SQL.
EDGES: Final[tuple[float, ...]] = tuple(2.0 ** (k / STEPS_PER_DOUBLING) for k in range(BUCKETS - 1))
RELATIVE_ERROR: Final[float] = 2.0 ** (1 / (2 * STEPS_PER_DOUBLING)) - 1


def bucket_of(latency_ms: float) -> int:
    """The bucket a latency falls in (0 for anything below 1 ms, NaN included)."""
    return bisect_right(EDGES, latency_ms) if latency_ms >= 1.0 else 0


def representative(bucket: int) -> float:
    """The value reported for a bucket: its geometric middle (see the module doc)."""
    if bucket <= 0:
        return 0.5
    if bucket >= BUCKETS - 1:
        return EDGES[-1]
    return float(2.0 ** ((2 * bucket - 1) / (2 * STEPS_PER_DOUBLING)))


def percentile(counts: Sequence[int], fraction: float) -> float | None:
    """The nearest-rank ``fraction`` percentile (0 < fraction <= 1) of a histogram, or None
    when it is empty."""
    return percentiles(counts, (fraction,))[0]


def percentiles(counts: Sequence[int], fractions: Sequence[float]) -> list[float | None]:
    """Several nearest-rank percentiles of one histogram, in one pass over it."""
    cumulative = list(accumulate(counts))
    total = cumulative[-1] if cumulative else 0
    if total <= 0:
        return [None for _ in fractions]
    last = len(cumulative) - 1
    return [
        representative(min(bisect_left(cumulative, max(1, math.ceil(f * total))), last))
        for f in fractions
    ]


def bucket_case_sql(column: str) -> str:
    """A SQL expression giving ``column``'s bucket, using exactly the edges above."""
    whens = " ".join(f"WHEN {column} < {edge!r} THEN {i}" for i, edge in enumerate(EDGES))
    return f"(CASE {whens} ELSE {BUCKETS - 1} END)"
