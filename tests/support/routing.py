"""Configurations for routing unit tests: snapshots built from real catalog entries."""

from __future__ import annotations

from pathlib import Path

from gateway.config.repository import ComboRow, ConfigState, ConnectionRow
from gateway.config.snapshot import Snapshot, build_snapshot
from gateway.providers.catalog import default_catalog
from gateway.routing.resolve import MAX_WILDCARD_MODELS
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


LAB_MODELS = tuple(f"lab-m{i}" for i in range(MAX_WILDCARD_MODELS + 20))


def build_routing_snapshot(
    tmp_path: Path,
    connections: tuple[ConnectionRow, ...],
    combos: tuple[ComboRow, ...] = (),
    aliases: tuple[tuple[str, str], ...] = (),
) -> Snapshot:
    state = ConfigState(1, {}, connections, combos, (), model_aliases=aliases)
    return build_snapshot(state, default_catalog(), open_secrets(tmp_path))


def rich_snapshot(tmp_path: Path) -> Snapshot:
    """Catalog and custom connections, combos with wildcards and aliases, user aliases."""
    return build_routing_snapshot(
        tmp_path,
        (
            connection("oa-1", "openai", priority=1),
            connection("oa-2", "openai", priority=2),
            connection("deep", "deepseek", models=("deepseek-extra", "deepseek-flash")),
            connection("claude", "anthropic"),
            connection("lab", "custom", alias="lab", dialect="anthropic", models=("claude-lab-1",)),
            connection("many", "custom", alias="many", dialect="openai", models=LAB_MODELS),
        ),
        combos=(
            ComboRow("coding", "priority", ("lab/claude-lab-1", "openai/gpt-x"), True),
            ComboRow("deep-all", "priority", ("ds/*", "fast"), True),
            ComboRow("legacy-all", "priority", ("deepseek/*",), True),
            ComboRow("wide", "priority", ("many/*",), True),
            ComboRow("nothing", "priority", ("gemini/*", "xai/*"), True),
            ComboRow("mixed", "weighted", ("openai/gpt-6-luna", "ds/*"), True, weights=(3.0, 1.0)),
            ComboRow("cheap", "cost-optimized", ("ds/*", "best"), True),
            ComboRow("rr", "round-robin", ("ds/*",), True),
            ComboRow("named", "priority", ("ds/*", "ds/deepseek-flash"), True),
        ),
        aliases=(
            ("fast", "openai/gpt-x"),
            ("best", "coding"),
            ("claude-lab-1", "ds/deepseek-flash"),  # an alias wins over a provider's model
            ("chain", "fast"),  # not valid when saved; at request time no alias chains
            ("gone", "xai/grok-4.7"),
        ),
    )
