"""Model resolution over a snapshot built from real catalog entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.repository import ComboRow, ConfigState
from gateway.config.snapshot import Snapshot, build_snapshot
from gateway.providers.catalog import default_catalog
from gateway.routing.resolve import (
    MAX_WILDCARD_MODELS,
    ModelNotFoundError,
    combo_candidates,
    resolve,
    wildcard_models,
)
from gateway.security.secrets import open_secrets
from tests.support.routing import (
    LAB_MODELS,
    build_routing_snapshot,
    connection,
    rich_snapshot,
)


@pytest.fixture
def snapshot(tmp_path: object) -> Snapshot:
    state = ConfigState(
        revision=1,
        settings={},
        connections=(
            connection("oa-2", "openai", priority=5),
            connection("oa-1", "openai", priority=1),
            connection("oa-off", "openai", priority=0, enabled=False),
            connection(
                "lab", "custom", alias="lab", dialect="openai", models=("lab-1", "shared-model")
            ),
            connection("lab2", "custom", alias="lab2", dialect="openai", models=("shared-model",)),
            connection("lm", "lm-studio"),
        ),
        combos=(
            ComboRow("coding", "priority", ("lab/lab-1", "openai/gpt-x"), True),
            ComboRow("outer", "priority", ("nobody/x", "coding"), True),
            ComboRow("off", "priority", ("lab/lab-1",), False),
        ),
        api_keys=(),
    )
    return build_snapshot(state, default_catalog(), open_secrets(tmp_path))  # type: ignore[arg-type]


def names(targets: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(t.upstream.connection, t.model) for t in targets]


def test_alias_prefix_lists_accounts_by_priority(snapshot: Snapshot) -> None:
    assert names(resolve(snapshot, "openai/gpt-x")) == [("oa-1", "gpt-x"), ("oa-2", "gpt-x")]


def test_model_names_with_slashes_keep_the_rest(snapshot: Snapshot) -> None:
    assert names(resolve(snapshot, "lab/meta/llama-3")) == [("lab", "meta/llama-3")]


def test_legacy_alias_resolves(snapshot: Snapshot) -> None:
    assert names(resolve(snapshot, "lmstudio/qwen")) == [("lm", "qwen")]


def test_combo_expands_in_order_and_skips_unknown_targets(snapshot: Snapshot) -> None:
    assert names(resolve(snapshot, "coding")) == [
        ("lab", "lab-1"),
        ("oa-1", "gpt-x"),
        ("oa-2", "gpt-x"),
    ]
    assert names(resolve(snapshot, "outer")) == names(resolve(snapshot, "coding"))


def test_disabled_combo_is_unknown(snapshot: Snapshot) -> None:
    with pytest.raises(ModelNotFoundError, match="'off' is not available"):
        resolve(snapshot, "off")


def test_bare_model_of_exactly_one_provider(snapshot: Snapshot) -> None:
    assert names(resolve(snapshot, "lab-1")) == [("lab", "lab-1")]


def test_bare_model_of_several_providers_asks_which(snapshot: Snapshot) -> None:
    with pytest.raises(ModelNotFoundError, match="lab/shared-model, lab2/shared-model"):
        resolve(snapshot, "shared-model")


def test_unknown_prefix_and_model(snapshot: Snapshot) -> None:
    with pytest.raises(ModelNotFoundError, match="no enabled connection has the prefix 'zz'"):
        resolve(snapshot, "zz/model")
    with pytest.raises(ModelNotFoundError, match="GET /v1/models"):
        resolve(snapshot, "mystery")


# Aliases, wildcards and the family heuristics ------------------------------------------------


@pytest.fixture
def rich(tmp_path: Path) -> Snapshot:
    return rich_snapshot(tmp_path)


def labels(targets: list) -> list[str]:  # type: ignore[type-arg]
    return [t.label for t in targets]


def test_an_alias_stands_for_its_target(rich: Snapshot) -> None:
    assert names(resolve(rich, "fast")) == [("oa-1", "gpt-x"), ("oa-2", "gpt-x")]
    assert labels(resolve(rich, "fast")) == ["openai/gpt-x", "openai/gpt-x"]
    assert names(resolve(rich, "best")) == names(resolve(rich, "coding"))


def test_an_alias_comes_before_a_provider_model_of_that_name(rich: Snapshot) -> None:
    assert names(resolve(rich, "claude-lab-1")) == [("deep", "deepseek-flash")]
    assert names(resolve(rich, "lab/claude-lab-1")) == [("lab", "claude-lab-1")]


def test_aliases_do_not_chain(rich: Snapshot) -> None:
    with pytest.raises(
        ModelNotFoundError, match=r"model alias 'chain' stands for 'fast': model 'fast' is not"
    ):
        resolve(rich, "chain")


def test_an_alias_without_a_connection_says_so(rich: Snapshot) -> None:
    with pytest.raises(ModelNotFoundError) as raised:
        resolve(rich, "gone")
    assert str(raised.value) == (
        "model alias 'gone' stands for 'xai/grok-4.7': model 'xai/grok-4.7' is not available: "
        "no enabled connection has the prefix 'xai'. GET /v1/models lists the models you can use."
    )


def test_a_wildcard_stands_for_catalog_models_then_own_models(rich: Snapshot) -> None:
    assert labels(resolve(rich, "deep-all")) == [
        "ds/deepseek-v4-pro",
        "ds/deepseek-flash",
        "ds/deepseek-extra",
        "openai/gpt-x",  # the alias target after the wildcard
        "openai/gpt-x",
    ]
    assert names(resolve(rich, "deep-all"))[:3] == [
        ("deep", "deepseek-v4-pro"),
        ("deep", "deepseek-flash"),
        ("deep", "deepseek-extra"),
    ]


def test_a_wildcard_keeps_the_prefix_it_was_written_with(rich: Snapshot) -> None:
    assert labels(resolve(rich, "legacy-all")) == [
        "deepseek/deepseek-v4-pro",
        "deepseek/deepseek-flash",
        "deepseek/deepseek-extra",
    ]


def test_a_model_the_combo_names_itself_keeps_only_that_place(rich: Snapshot) -> None:
    assert labels(resolve(rich, "named")) == [
        "ds/deepseek-v4-pro",
        "ds/deepseek-extra",
        "ds/deepseek-flash",
    ]
    weights = [c.weight for c in combo_candidates(rich, rich.combos["named"])]
    assert weights == [0.5, 0.5, 1.0]


def test_a_wildcard_is_bounded(rich: Snapshot) -> None:
    models = [t.model for t in resolve(rich, "wide")]
    assert models == list(LAB_MODELS[:MAX_WILDCARD_MODELS])
    assert wildcard_models(rich, "many") == list(LAB_MODELS[:MAX_WILDCARD_MODELS])


def test_wildcards_without_connections_are_skipped(rich: Snapshot) -> None:
    assert wildcard_models(rich, "gemini") == []
    with pytest.raises(ModelNotFoundError, match="combo 'nothing' has no target"):
        resolve(rich, "nothing")


def test_wildcard_models_share_the_wildcards_weight_and_have_their_own_cost(
    rich: Snapshot,
) -> None:
    candidates = combo_candidates(rich, rich.combos["mixed"])
    assert [(c.key, c.weight, c.position) for c in candidates] == [
        ("openai/gpt-6-luna", 3.0, 0),
        ("ds/deepseek-v4-pro", 1 / 3, 1),
        ("ds/deepseek-flash", 1 / 3, 2),
        ("ds/deepseek-extra", 1 / 3, 3),
    ]
    costs = {c.key: c.cost_per_mtok for c in candidates}
    assert costs["ds/deepseek-v4-pro"] == pytest.approx((3 * 1.32 + 3.96) / 4)
    assert costs["ds/deepseek-flash"] == pytest.approx((3 * 0.30 + 1.20) / 4)
    assert costs["ds/deepseek-extra"] is None  # not in the catalog: no price


def test_alias_and_legacy_prefix_targets_find_their_cost(rich: Snapshot) -> None:
    state_combo = ComboRow("c", "cost-optimized", ("deepseek/deepseek-flash", "fast"), True)
    costs = [c.cost_per_mtok for c in combo_candidates(rich, state_combo)]
    assert costs[0] == pytest.approx((3 * 0.30 + 1.20) / 4)
    assert costs[1] is None  # gpt-x has no catalog price


@pytest.mark.parametrize(
    ("model", "connection_name"),
    [
        ("claude-future-9", "claude"),
        ("gpt-7-preview", "oa-1"),
        ("chatgpt-4o-latest", "oa-1"),
        ("o3", "oa-1"),
        ("o4-mini", "oa-1"),
    ],
)
def test_family_heuristics_for_names_no_provider_lists(
    rich: Snapshot, model: str, connection_name: str
) -> None:
    targets = resolve(rich, model)
    assert targets[0].upstream.connection == connection_name
    assert {t.model for t in targets} == {model}  # the name goes upstream unchanged


def test_a_listed_name_is_not_guessed(rich: Snapshot) -> None:
    assert names(resolve(rich, "deepseek-extra")) == [("deep", "deepseek-extra")]
    assert names(resolve(rich, "lab-m0")) == [("many", "lab-m0")]


def test_family_heuristics_need_a_connection(rich: Snapshot) -> None:
    with pytest.raises(ModelNotFoundError) as raised:
        resolve(rich, "gemini-9-ultra")
    message = str(raised.value)
    assert "no provider lists it" in message and "the gemini provider" in message
    assert "GET /v1/models" in message
    for unknown in ("omni-1", "o", "ogpt-1", "Claude-x"):
        with pytest.raises(ModelNotFoundError, match=r"is not available\. Use alias/model"):
            resolve(rich, unknown)


def test_a_custom_connection_listing_a_family_name_wins_over_the_heuristic(
    tmp_path: Path,
) -> None:
    snapshot = build_routing_snapshot(
        tmp_path,
        (
            connection("claude", "anthropic"),
            connection("lab", "custom", alias="lab", dialect="anthropic", models=("claude-lab",)),
        ),
    )
    assert names(resolve(snapshot, "claude-lab")) == [("lab", "claude-lab")]
    assert names(resolve(snapshot, "claude-other")) == [("claude", "claude-other")]
