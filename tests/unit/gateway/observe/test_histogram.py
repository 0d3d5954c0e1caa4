"""The latency buckets: edges, the SQL twin, and percentiles within the documented error."""

from __future__ import annotations

import math
import random

import apsw

from gateway.observe.histogram import (
    BUCKETS,
    EDGES,
    RELATIVE_ERROR,
    bucket_case_sql,
    bucket_of,
    percentile,
    representative,
)


def test_bucket_edges() -> None:
    assert BUCKETS == 59 and len(EDGES) == 58
    assert RELATIVE_ERROR == 2 ** (1 / 6) - 1
    assert [bucket_of(ms) for ms in (0.0, 0.99, 1.0, 1.26, 2.0, 2.5, 524287.9, 524288.0, 1e9)] == [
        0, 0, 1, 2, 4, 4, 57, 58, 58,
    ]  # fmt: skip
    assert bucket_of(float("nan")) == 0
    assert (representative(0), representative(58)) == (0.5, 524288.0)
    assert representative(4) == 2 ** (7 / 6)  # the middle of [2, 2^(4/3))


def test_the_sql_expression_agrees_with_python() -> None:
    conn = apsw.Connection(":memory:")
    rng = random.Random(7)
    values = [0.0, 0.5, *EDGES, *(e * (1 - 1e-12) for e in EDGES), 1e7]
    values += [math.exp(rng.uniform(-1, 14)) for _ in range(2000)]
    for value in values:
        (got,) = conn.execute(f"SELECT {bucket_case_sql('?1')}", (value,)).fetchone()
        assert got == bucket_of(value), value


def exact_percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def test_percentiles_are_within_the_documented_error() -> None:
    rng = random.Random(11)
    for _ in range(50):
        values = [math.exp(rng.gauss(6, 1.5)) for _ in range(rng.randint(1, 3000))]
        values = [min(max(v, 1.0), 500_000.0) for v in values]
        counts = [0] * BUCKETS
        for value in values:
            counts[bucket_of(value)] += 1
        for fraction in (0.5, 0.95, 0.99, 1.0):
            got = percentile(counts, fraction)
            exact = exact_percentile(values, fraction)
            assert got is not None
            assert abs(got - exact) <= RELATIVE_ERROR * exact + 1e-9, (fraction, got, exact)


def test_percentile_edge_cases() -> None:
    assert percentile([0] * BUCKETS, 0.5) is None
    counts = [0] * BUCKETS
    counts[0] = 3  # all below 1 ms
    assert percentile(counts, 0.99) == 0.5
    counts = [0] * BUCKETS
    counts[10], counts[20] = 1, 1
    assert percentile(counts, 0.5) == representative(10)
    assert percentile(counts, 0.51) == representative(20)
