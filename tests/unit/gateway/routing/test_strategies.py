"""Selection strategies: exact orders for fixed seeds, distributions, rotation state, and the
two invariants every strategy keeps (a permutation; open breakers last)."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.routing.strategies import (
    ACCOUNT_STRATEGIES,
    STRATEGIES,
    Candidate,
    RoundRobinState,
    StickyState,
    order_accounts,
    order_targets,
    p2c_score,
)


@dataclass
class FakeStats:
    """Plain dicts behind the StatsView protocol; a key with no entry has a perfect record."""

    rate: dict[str, float] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    flying: dict[str, int] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)

    def success_rate(self, key: str) -> float:
        return self.rate.get(key, 1.0)

    def latency_ms(self, key: str) -> float | None:
        return self.latency.get(key)

    def uses(self, key: str) -> int:
        return self.used.get(key, 0)

    def in_flight(self, key: str) -> int:
        return self.flying.get(key, 0)

    def breaker_open(self, key: str) -> bool:
        return key in self.open


def cands(*keys: str, **weights: float) -> list[Candidate]:
    return [Candidate(k, weight=weights.get(k, 1.0), position=i) for i, k in enumerate(keys)]


def keys(items: Sequence[Candidate]) -> list[str]:
    return [c.key for c in items]


def targets(
    strategy: str,
    items: Sequence[Candidate],
    stats: FakeStats | None = None,
    seed: int = 0,
    state: RoundRobinState | None = None,
    key: str = "combo",
) -> list[str]:
    return keys(
        order_targets(
            strategy,
            items,
            stats or FakeStats(),
            random.Random(seed),
            state if state is not None else RoundRobinState(),
            key=key,
        )
    )


def accounts(
    strategy: str,
    items: Sequence[Candidate],
    stats: FakeStats | None = None,
    seed: int = 0,
    state: StickyState | None = None,
    key: str = "provider",
    sticky_uses: int = 1,
) -> list[str]:
    return keys(
        order_accounts(
            strategy,
            items,
            stats or FakeStats(),
            random.Random(seed),
            state if state is not None else StickyState(),
            key=key,
            sticky_uses=sticky_uses,
        )
    )


ABCDE = cands("a", "b", "c", "d", "e")


# --- names -------------------------------------------------------------------------------


def test_strategy_names() -> None:
    assert STRATEGIES == (
        "priority",
        "weighted",
        "round-robin",
        "random",
        "least-used",
        "cost-optimized",
        "p2c",
        "latency-optimized",
    )
    assert ACCOUNT_STRATEGIES == ("fill-first", "round-robin", "p2c", "random", "least-used")


def test_unknown_combo_strategy_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="'fastest'") as info:
        targets("fastest", ABCDE)
    for name in STRATEGIES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", ["weighted", "cost-optimized", "latency-optimized", "nope"])
def test_unknown_account_strategy_names_the_valid_ones(name: str) -> None:
    with pytest.raises(ValueError, match=repr(name)) as info:
        accounts(name, ABCDE)
    assert "fill-first, round-robin, p2c, random, least-used" in str(info.value)


def test_unknown_name_is_rejected_even_with_no_candidates() -> None:
    with pytest.raises(ValueError):
        targets("nope", [])


def test_both_spellings_of_list_order_are_accepted() -> None:
    assert targets("fill-first", ABCDE) == targets("priority", ABCDE) == list("abcde")
    assert accounts("priority", ABCDE) == accounts("fill-first", ABCDE) == list("abcde")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_candidates_gives_an_empty_order(strategy: str) -> None:
    assert targets(strategy, []) == []


# --- list order and open breakers --------------------------------------------------------


def test_priority_is_position_order_whatever_the_input_order() -> None:
    shuffled = [ABCDE[3], ABCDE[0], ABCDE[4], ABCDE[1], ABCDE[2]]
    assert targets("priority", shuffled) == list("abcde")


def test_equal_positions_keep_input_order() -> None:
    items = [Candidate("x", position=1), Candidate("y", position=0), Candidate("z", position=1)]
    assert targets("priority", items) == ["y", "x", "z"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_open_breakers_go_last_in_list_order(strategy: str) -> None:
    stats = FakeStats(open={"a", "d"}, latency={"b": 10.0, "c": 20.0, "e": 5.0})
    for seed in range(50):
        order = targets(strategy, ABCDE, stats, seed=seed)
        assert order[3:] == ["a", "d"]
        assert sorted(order[:3]) == ["b", "c", "e"]


@pytest.mark.parametrize("strategy", ACCOUNT_STRATEGIES)
def test_open_breakers_go_last_for_accounts(strategy: str) -> None:
    stats = FakeStats(open={"b"})
    state = StickyState()
    for seed in range(50):
        order = accounts(strategy, ABCDE, stats, seed=seed, state=state)
        assert order[-1] == "b"
        assert sorted(order) == list("abcde")


def test_all_open_keeps_list_order() -> None:
    stats = FakeStats(open=set("abcde"))
    for strategy in STRATEGIES:
        assert targets(strategy, ABCDE, stats, seed=3) == list("abcde")


# --- exact orders for fixed seeds --------------------------------------------------------

_EXACT_STATS = FakeStats(
    rate={"a": 0.5, "b": 0.9, "c": 0.9, "d": 0.2},
    latency={"b": 2000.0, "c": 500.0},
)
_EXACT = [
    Candidate("a", weight=1, cost_per_mtok=3.0, position=0),
    Candidate("b", weight=2, cost_per_mtok=None, position=1),
    Candidate("c", weight=3, cost_per_mtok=0.5, position=2),
    Candidate("d", weight=4, cost_per_mtok=3.0, position=3),
    Candidate("e", weight=0, cost_per_mtok=1.0, position=4),
]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("priority", "abcde"),
        ("weighted", "bdcae"),
        ("round-robin", "abcde"),  # a fresh counter starts at the first
        ("random", "dbcea"),
        ("least-used", "abcde"),
        ("cost-optimized", "ceadb"),
        # seed 42 draws a and d: a (0.5) beats d (0.2); then e 1.0, c 0.6, b 0.3, d 0.2
        ("p2c", "aecbd"),
        ("latency-optimized", "adecb"),  # never tried first, then 500 ms, 2000 ms
    ],
)
def test_exact_order_for_seed_42(strategy: str, expected: str) -> None:
    assert targets(strategy, _EXACT, _EXACT_STATS, seed=42) == list(expected)


def test_random_is_the_rngs_own_shuffle_of_list_order() -> None:
    for seed in range(20):
        expected = list("abcde")
        random.Random(seed).shuffle(expected)
        assert targets("random", ABCDE, seed=seed) == expected


def test_weighted_is_exponential_keys_over_weights() -> None:
    # The documented rule, recomputed here: k = -ln(1 - U) / w, ascending, U in list order.
    rng = random.Random(9)
    draws = {c.key: -math.log(1.0 - rng.random()) / c.weight for c in _EXACT if c.weight > 0}
    expected = [*sorted(draws, key=draws.__getitem__), "e"]
    assert targets("weighted", _EXACT, seed=9) == expected


# --- weighted ----------------------------------------------------------------------------


def test_weighted_first_pick_frequencies_match_weights() -> None:
    items = cands("a", "b", "c", "d", a=1.0, b=2.0, c=3.0, d=4.0)
    rng, state, stats = random.Random(1234), RoundRobinState(), FakeStats()
    firsts = Counter(
        order_targets("weighted", items, stats, rng, state)[0].key for _ in range(10_000)
    )
    for c in items:
        assert abs(firsts[c.key] / 10_000 - c.weight / 10.0) <= 0.02, firsts


def test_weighted_full_orders_are_draws_without_replacement() -> None:
    # P(i, j, k) = w_i / W * w_j / (W - w_i) for every permutation of three.
    weights = {"a": 1.0, "b": 2.0, "c": 5.0}
    items = cands("a", "b", "c", **weights)
    rng, state, stats = random.Random(99), RoundRobinState(), FakeStats()
    seen = Counter(
        tuple(keys(order_targets("weighted", items, stats, rng, state))) for _ in range(10_000)
    )
    total = sum(weights.values())
    for first, second, third in itertools.permutations("abc"):
        p = weights[first] / total * weights[second] / (total - weights[first])
        assert abs(seen[(first, second, third)] / 10_000 - p) <= 0.02, seen


def test_non_positive_and_nan_weights_go_last_in_list_order() -> None:
    items = [
        Candidate("zero", weight=0.0, position=0),
        Candidate("x", weight=1.0, position=1),
        Candidate("neg", weight=-2.0, position=2),
        Candidate("nan", weight=math.nan, position=3),
        Candidate("y", weight=1.0, position=4),
    ]
    for seed in range(30):
        order = targets("weighted", items, seed=seed)
        assert sorted(order[:2]) == ["x", "y"]
        assert order[2:] == ["zero", "neg", "nan"]


def test_a_huge_weight_is_almost_always_first() -> None:
    items = cands("a", "b", a=1.0, b=1e9)
    assert all(targets("weighted", items, seed=s)[0] == "b" for s in range(200))


# --- round-robin -------------------------------------------------------------------------


def test_round_robin_cycles_through_the_start() -> None:
    state = RoundRobinState()
    items = cands("a", "b", "c")
    orders = [targets("round-robin", items, state=state) for _ in range(4)]
    assert orders == [list("abc"), list("bca"), list("cab"), list("abc")]


def test_round_robin_counters_are_per_combo() -> None:
    state = RoundRobinState()
    items = cands("a", "b", "c")
    assert targets("round-robin", items, state=state, key="one") == list("abc")
    assert targets("round-robin", items, state=state, key="one") == list("bca")
    assert targets("round-robin", items, state=state, key="two") == list("abc")


def test_round_robin_rotates_over_closed_breakers_only() -> None:
    state = RoundRobinState()
    stats = FakeStats(open={"b"})
    orders = [targets("round-robin", ABCDE, stats, state=state) for _ in range(5)]
    assert orders == [
        list("acdeb"),
        list("cdeab"),
        list("deacb"),
        list("eacdb"),
        list("acdeb"),
    ]


def test_round_robin_state_is_bounded_lru() -> None:
    state = RoundRobinState(max_entries=2)
    assert [state.advance("x"), state.advance("x")] == [0, 1]
    state.advance("y")
    state.advance("x")  # x is now the most recent
    state.advance("z")  # evicts y
    assert len(state) == 2
    assert "y" not in state
    assert state.advance("x") == 3
    assert state.advance("y") == 0  # evicted: starts again


def test_state_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RoundRobinState(max_entries=0)
    with pytest.raises(ValueError):
        StickyState(max_entries=0)


# --- least-used, cost, latency -----------------------------------------------------------


def test_least_used_ascending_uses_ties_in_list_order() -> None:
    stats = FakeStats(used={"a": 5, "b": 2, "c": 5, "d": 0, "e": 2})
    assert targets("least-used", ABCDE, stats) == list("dbeac")
    assert accounts("least-used", ABCDE, stats) == list("dbeac")


def test_cost_ascending_unknown_last_ties_in_list_order() -> None:
    items = [
        Candidate("unknown", cost_per_mtok=None, position=0),
        Candidate("dear", cost_per_mtok=15.0, position=1),
        Candidate("cheap", cost_per_mtok=0.25, position=2),
        Candidate("nan", cost_per_mtok=math.nan, position=3),
        Candidate("free", cost_per_mtok=0.0, position=4),
        Candidate("cheap2", cost_per_mtok=0.25, position=5),
    ]
    assert targets("cost-optimized", items) == [
        "free",
        "cheap",
        "cheap2",
        "dear",
        "unknown",
        "nan",
    ]


def test_latency_never_tried_first_then_ascending_then_unmeasured_failures() -> None:
    stats = FakeStats(
        latency={"a": 900.0, "c": 120.0, "e": 120.0},
        used={"a": 4, "b": 3, "c": 8, "e": 1},  # b was tried but never measured; d never tried
    )
    assert targets("latency-optimized", ABCDE, stats) == list("dceab")


# --- p2c ---------------------------------------------------------------------------------


def test_p2c_score_formula() -> None:
    stats = FakeStats(
        rate={"a": 0.9, "b": 0.5, "n": math.nan, "hi": 3.0, "neg": -1.0},
        latency={"a": 1000.0, "b": 0.0, "slow": math.inf, "bad": -50.0, "nanl": math.nan},
    )
    assert p2c_score(stats, "a") == pytest.approx(0.45)
    assert p2c_score(stats, "b") == 0.5
    assert p2c_score(stats, "unknown") == 1.0  # no latency: 0 ms
    assert p2c_score(stats, "n") == 0.0
    assert p2c_score(stats, "hi") == 1.0
    assert p2c_score(stats, "neg") == 0.0
    assert p2c_score(stats, "slow") == 0.0
    assert p2c_score(stats, "bad") == 1.0
    assert p2c_score(stats, "nanl") == 1.0


def test_p2c_of_two_always_takes_the_better() -> None:
    stats = FakeStats(rate={"a": 0.6, "b": 0.9})
    items = cands("a", "b")
    assert all(targets("p2c", items, stats, seed=s) == ["b", "a"] for s in range(200))


def test_p2c_first_is_the_better_of_two_random_draws() -> None:
    # Scores a 1.0 > b 0.8 > c 0.5 > d 0.2: the worst never wins a pair; the best wins every
    # pair it is drawn into (probability 1/2 with four candidates).
    stats = FakeStats(rate={"b": 0.8, "c": 0.5, "d": 0.2})
    items = cands("a", "b", "c", "d")
    rng, state = random.Random(5), RoundRobinState()
    orders = [keys(order_targets("p2c", items, stats, rng, state)) for _ in range(10_000)]
    firsts = Counter(order[0] for order in orders)
    assert firsts["d"] == 0
    assert abs(firsts["a"] / 10_000 - 1 / 2) <= 0.02
    assert abs(firsts["b"] / 10_000 - 1 / 3) <= 0.02
    assert abs(firsts["c"] / 10_000 - 1 / 6) <= 0.02
    # After the winner, the rest by score descending.
    for order in orders:
        rest = [k for k in "abcd" if k != order[0]]
        assert order[1:] == rest


def test_p2c_never_puts_an_open_breaker_first() -> None:
    stats = FakeStats(rate={"a": 1.0, "b": 0.01}, open={"a"})
    for seed in range(300):
        order = targets("p2c", cands("a", "b", "c"), stats, seed=seed)
        assert order[0] != "a"
        assert order[-1] == "a"


def test_p2c_tie_goes_to_fewer_in_flight_then_list_order() -> None:
    stats = FakeStats(flying={"a": 3, "b": 1, "c": 1})
    for seed in range(100):
        order = targets("p2c", cands("a", "b", "c"), stats, seed=seed)
        assert order[0] in ("b", "c")
        assert order[1:] == [k for k in "bca" if k != order[0]]


def test_p2c_with_one_closed_candidate() -> None:
    stats = FakeStats(open={"a", "c"})
    assert targets("p2c", cands("a", "b", "c"), stats) == ["b", "a", "c"]


def test_p2c_accounts() -> None:
    stats = FakeStats(rate={"a": 0.1, "b": 0.9})
    assert all(accounts("p2c", cands("a", "b"), stats, seed=s) == ["b", "a"] for s in range(50))


# --- accounts: fill-first, random, sticky round-robin ------------------------------------


def test_fill_first_accounts_in_connection_priority() -> None:
    assert accounts("fill-first", list(reversed(ABCDE))) == list("abcde")


def test_random_accounts_is_a_shuffle() -> None:
    expected = list("abcde")
    random.Random(11).shuffle(expected)
    assert accounts("random", ABCDE, seed=11) == expected


def test_sticky_round_robin_keeps_an_account_for_n_uses() -> None:
    state = StickyState()
    items = cands("a", "b", "c")
    firsts = [accounts("round-robin", items, state=state, sticky_uses=3)[0] for _ in range(10)]
    assert "".join(firsts) == "aaabbbccca"
    assert state.current("provider") == ("a", 0, 1)


def test_sticky_one_use_is_plain_round_robin() -> None:
    state = StickyState()
    items = cands("a", "b", "c")
    orders = [accounts("round-robin", items, state=state) for _ in range(4)]
    assert orders == [list("abc"), list("bca"), list("cab"), list("abc")]


def test_sticky_account_that_disappears_hands_over_to_the_next_in_list_order() -> None:
    state = StickyState()
    items = cands("a", "b", "c", "d")
    assert accounts("round-robin", items, state=state, sticky_uses=2)[0] == "a"
    assert accounts("round-robin", items, state=state, sticky_uses=2)[0] == "a"
    assert accounts("round-robin", items, state=state, sticky_uses=2)[0] == "b"
    assert state.current("provider") == ("b", 1, 1)
    # b is cooling down (the caller filtered it out): c, the next after b's position, takes over.
    without_b = [items[0], items[2], items[3]]
    assert accounts("round-robin", without_b, state=state, sticky_uses=2) == list("cda")
    assert state.current("provider") == ("c", 2, 1)


def test_sticky_handover_wraps_to_the_first() -> None:
    state = StickyState()
    items = cands("a", "b", "c")
    assert [accounts("round-robin", items, state=state)[0] for _ in range(3)] == list("abc")
    # c is gone and nothing comes after its position: back to the first.
    assert accounts("round-robin", items[:2], state=state) == list("ab")


def test_sticky_account_with_open_breaker_is_passed_over() -> None:
    state = StickyState()
    items = cands("a", "b", "c")
    assert accounts("round-robin", items, state=state, sticky_uses=3)[0] == "a"
    order = accounts("round-robin", items, FakeStats(open={"a"}), state=state, sticky_uses=3)
    assert order == list("bca")


def test_sticky_with_every_breaker_open_leaves_state_alone() -> None:
    state = StickyState()
    items = cands("a", "b")
    accounts("round-robin", items, state=state, sticky_uses=3)
    order = accounts("round-robin", items, FakeStats(open={"a", "b"}), state=state)
    assert order == list("ab")
    assert state.current("provider") == ("a", 0, 1)


def test_sticky_state_per_provider_and_bounded() -> None:
    state = StickyState(max_entries=2)
    items = cands("a", "b")
    assert accounts("round-robin", items, state=state, key="p1") == list("ab")
    assert accounts("round-robin", items, state=state, key="p2") == list("ab")
    assert accounts("round-robin", items, state=state, key="p1") == list("ba")
    accounts("round-robin", items, state=state, key="p3")  # evicts p2, the least recent
    assert len(state) == 2
    assert state.current("p2") is None
    assert accounts("round-robin", items, state=state, key="p2") == list("ab")


def test_sticky_uses_must_be_positive() -> None:
    with pytest.raises(ValueError, match="sticky_uses"):
        accounts("round-robin", ABCDE, sticky_uses=0)


def test_inputs_are_never_mutated() -> None:
    items = list(reversed(ABCDE))
    snapshot = list(items)
    stats = FakeStats(used={"a": 3}, latency={"b": 1.0})
    for strategy in STRATEGIES:
        targets(strategy, items, stats, seed=1)
    for strategy in ACCOUNT_STRATEGIES:
        accounts(strategy, items, stats, seed=1)
    assert items == snapshot


# --- properties --------------------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
_NUMBER = st.floats(allow_nan=True, allow_infinity=True)
_CANDIDATE = st.builds(
    Candidate,
    key=_KEYS,
    weight=_NUMBER,
    cost_per_mtok=st.none() | _NUMBER,
    position=st.integers(-3, 10),
)
_STATS = st.builds(
    FakeStats,
    rate=st.dictionaries(_KEYS, _NUMBER),
    latency=st.dictionaries(_KEYS, _NUMBER),
    used=st.dictionaries(_KEYS, st.integers(0, 100)),
    flying=st.dictionaries(_KEYS, st.integers(0, 10)),
    open=st.sets(_KEYS),
)


def _check(items: list[Candidate], order: list[Candidate], stats: FakeStats) -> None:
    assert Counter(map(id, order)) == Counter(map(id, items))
    flags = [stats.breaker_open(c.key) for c in order]
    assert flags == sorted(flags), "an open breaker precedes a closed one"


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    strategy=st.sampled_from((*STRATEGIES, "fill-first")),
    items=st.lists(_CANDIDATE, max_size=12),
    stats=_STATS,
    seed=st.integers(0, 2**32),
    calls=st.integers(1, 4),
)
def test_any_combo_order_is_a_permutation_with_open_breakers_last(
    strategy: str, items: list[Candidate], stats: FakeStats, seed: int, calls: int
) -> None:
    rng, state = random.Random(seed), RoundRobinState(max_entries=1)
    for _ in range(calls):
        _check(items, order_targets(strategy, items, stats, rng, state, key="k"), stats)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    strategy=st.sampled_from((*ACCOUNT_STRATEGIES, "priority")),
    items=st.lists(_CANDIDATE, max_size=12),
    stats=_STATS,
    seed=st.integers(0, 2**32),
    sticky=st.integers(1, 4),
    calls=st.integers(1, 6),
)
def test_any_account_order_is_a_permutation_with_open_breakers_last(
    strategy: str,
    items: list[Candidate],
    stats: FakeStats,
    seed: int,
    sticky: int,
    calls: int,
) -> None:
    rng, state = random.Random(seed), StickyState(max_entries=1)
    for _ in range(calls):
        order = order_accounts(strategy, items, stats, rng, state, key="p", sticky_uses=sticky)
        _check(items, order, stats)
