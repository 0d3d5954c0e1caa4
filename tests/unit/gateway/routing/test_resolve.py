"""Model resolution over a snapshot built from real catalog entries."""

from __future__ import annotations

import pytest

from gateway.config.repository import ComboRow, ConfigState, ConnectionRow
from gateway.config.snapshot import Snapshot, build_snapshot
from gateway.providers.catalog import default_catalog
from gateway.routing.resolve import ModelNotFoundError, resolve
from gateway.security.secrets import open_secrets


def connection(
    name: str,
    provider: str,
    *,
    priority: int = 100,
    enabled: bool = True,
    alias: str | None = None,
    dialect: str | None = None,
    models: tuple[str, ...] = (),
) -> ConnectionRow:
    return ConnectionRow(
        id=name,
        name=name,
        provider=provider,
        dialect=dialect,
        alias=alias,
        base_url="http://127.0.0.1:1/v1" if provider == "custom" else None,
        secret_ref=None,
        models=models,
        enabled=enabled,
        priority=priority,
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
