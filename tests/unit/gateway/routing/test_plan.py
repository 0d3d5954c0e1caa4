"""The plan: the same expansion as resolve, with each combo's strategy applied."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config.snapshot import Snapshot
from gateway.routing.plan import plan
from gateway.routing.resolve import resolve
from gateway.routing.router import Router
from tests.support.routing import rich_snapshot


@pytest.fixture
def rich(tmp_path: Path) -> Snapshot:
    return rich_snapshot(tmp_path)


def labels(targets: list) -> list[str]:  # type: ignore[type-arg]
    return [t.label for t in targets]


def test_priority_plans_match_the_configuration_order(rich: Snapshot) -> None:
    router = Router()
    for name in ("fast", "best", "deep-all", "wide", "claude-future-9"):
        planned = plan(rich, name, router)
        assert [(t.upstream.connection, t.model, t.label) for t in planned] == [
            (t.upstream.connection, t.model, t.label) for t in resolve(rich, name)
        ]


def test_round_robin_turns_through_a_wildcards_models(rich: Snapshot) -> None:
    router = Router()
    firsts = [plan(rich, "rr", router)[0].model for _ in range(4)]
    assert firsts == ["deepseek-v4-pro", "deepseek-flash", "deepseek-extra", "deepseek-v4-pro"]


def test_a_weighted_wildcard_keeps_its_share(rich: Snapshot) -> None:
    router = Router()
    router.rng.seed(11)
    firsts = Counter(plan(rich, "mixed", router)[0].label for _ in range(4000))
    assert 2850 <= firsts["openai/gpt-6-luna"] <= 3150  # 3 : 1 against the wildcard as a whole
    for model in ("deepseek-v4-pro", "deepseek-flash", "deepseek-extra"):
        assert 250 <= firsts[f"ds/{model}"] <= 420  # the wildcard's 1 shared by three


def test_cost_optimized_orders_a_wildcards_models_by_their_own_price(
    rich: Snapshot,
) -> None:
    assert labels(plan(rich, "cheap", Router())) == [
        "ds/deepseek-flash",
        "ds/deepseek-v4-pro",
        "ds/deepseek-extra",  # no price: after the priced ones, in list order
        "lab/claude-lab-1",
        "openai/gpt-x",
        "openai/gpt-x",
    ]


@pytest.mark.parametrize("strategy", ["round-robin", "random"])
def test_accounts_of_an_aliased_target_follow_the_account_strategy(
    rich: Snapshot,
    strategy: str,
) -> None:
    snapshot = replace(
        rich, settings=replace(rich.settings, account_strategy=strategy, sticky_uses=1)
    )
    router = Router()
    router.rng.seed(3)
    seen = {plan(snapshot, "fast", router)[0].upstream.connection for _ in range(20)}
    assert seen == {"oa-1", "oa-2"}


def test_a_target_whose_provider_breaker_is_open_goes_last(tmp_path: Path) -> None:
    from gateway.config.repository import ComboRow
    from gateway.routing.attempts import Attempts
    from gateway.routing.failures import Failure, FailureClass
    from tests.support.routing import build_routing_snapshot, connection

    snapshot = build_routing_snapshot(
        tmp_path,
        (connection("oa", "openai"), connection("claude", "anthropic")),
        (ComboRow("pair", "priority", ("openai/gpt-x", "anthropic/claude-x"), True),),
    )
    router = Router()
    assert labels(plan(snapshot, "pair", router)) == ["openai/gpt-x", "anthropic/claude-x"]
    attempts = Attempts(router, 100)
    first = plan(snapshot, "pair", router)[0]
    for _ in range(router.provider_breaker.failure_threshold):
        token = attempts.start(first)
        attempts.failed(first, Failure(FailureClass.SERVER_ERROR, 500, "boom", None), token, 1.0)
    assert router.breaker_open("openai/gpt-x")
    assert labels(plan(snapshot, "pair", router)) == ["anthropic/claude-x", "openai/gpt-x"]
