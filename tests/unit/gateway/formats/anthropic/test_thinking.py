"""Model-name rules that pick the thinking form (manual budget or adaptive)."""

from __future__ import annotations

import pytest

from gateway.formats.anthropic.thinking import adaptive_only, model_version, supports_adaptive


@pytest.mark.parametrize(
    ("model", "version"),
    [
        ("claude-opus-4-7", (4, 7)),
        ("claude-sonnet-4-5-20250929", (4, 5)),
        ("claude-opus-4-20250514", (4, 0)),
        ("claude-3-7-sonnet-20250219", (3, 7)),
        ("claude-3-5-haiku-latest", (3, 5)),
        ("anthropic/claude-opus-4.6", (4, 6)),
        ("Claude-Sonnet-4-6", (4, 6)),
        ("claude-fable-5", (5, 0)),
        ("claude-mythos-preview", None),
        ("glm-4.6", None),
        ("deepseek-chat", None),
    ],
)
def test_model_version(model: str, version: tuple[int, int] | None) -> None:
    assert model_version(model) == version


@pytest.mark.parametrize(
    ("model", "adaptive", "only"),
    [
        ("claude-sonnet-4-5", False, False),
        ("claude-haiku-4-5-20251001", False, False),
        ("claude-opus-4-6", True, False),
        ("claude-sonnet-4-6", True, False),
        ("claude-opus-4-7", True, True),
        ("claude-mythos-preview", True, False),
        ("kimi-k2", False, False),
    ],
)
def test_model_traits(model: str, adaptive: bool, only: bool) -> None:
    assert supports_adaptive(model) is adaptive and adaptive_only(model) is only
