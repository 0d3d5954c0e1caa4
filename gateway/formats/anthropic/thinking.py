"""Reasoning settings: Anthropic ``thinking`` + ``output_config.effort`` ⇄ hub ``reasoning``.

Anthropic has two ways to turn thinking on and which one a model takes depends on its
generation: manual ``{"type": "enabled", "budget_tokens": N}`` (Claude 4.5 and older; Claude
4.7 and newer reject it with a 400) and adaptive ``{"type": "adaptive"}`` steered by
``output_config.effort`` (Claude 4.6 and newer, Mythos). The codec is pure, so the choice is
made from the upstream model id in the hub request; unknown names (other vendors' Anthropic-
compatible endpoints) get the manual form, the one those endpoints implement.

Hub shapes this module reads and writes:
    enabled + budget_tokens  ⇄ {"type": "enabled", "budget_tokens": N}
    enabled, no budget       ⇄ {"type": "adaptive"}
    enabled False            ⇄ {"type": "disabled"}
    effort                   ⇄ output_config.effort (on its own: thinking off, effort kept)
"""

from __future__ import annotations

import re
from typing import Any

from gateway.formats import hub

MIN_BUDGET = 1024  # the API's floor for budget_tokens
DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens; used when the client gave none
OUTPUT_HEADROOM = 4096  # room for the answer when max_tokens must exceed the budget
BUDGET_BY_EFFORT = {
    "minimal": 1024,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
    "max": 32768,
}
DEFAULT_BUDGET = BUDGET_BY_EFFORT["medium"]
# Anthropic's effort values; the hub's "minimal" (OpenAI) is the nearest to "low".
EFFORT = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",
}

# claude-opus-4-7, claude-sonnet-4-5-20250929, claude-3-7-sonnet, anthropic/claude-opus-4.6;
# a date suffix (claude-opus-4-20250514) is not a minor version.
_VERSION = re.compile(r"claude-(?:[a-z]+-)?(\d{1,2})(?:[-.](\d{1,2}))?(?!\d)")


def model_version(model: str) -> tuple[int, int] | None:
    match = _VERSION.search(model.lower())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def adaptive_only(model: str) -> bool:
    """Claude 4.7+: budget_tokens and the sampling parameters are rejected."""
    version = model_version(model)
    return version is not None and version >= (4, 7)


def supports_adaptive(model: str) -> bool:
    version = model_version(model)
    return (version is not None and version >= (4, 6)) or "mythos" in model.lower()


def reasoning_to_hub(body: dict[str, Any]) -> hub.ReasoningConfig | None:
    thinking = body.get("thinking")
    config: hub.ReasoningConfig = {}
    if isinstance(thinking, dict):
        kind = thinking.get("type")
        if kind == "enabled":
            config["enabled"] = True
            budget = thinking.get("budget_tokens")
            if isinstance(budget, int):
                config["budget_tokens"] = budget
        elif kind == "adaptive":
            config["enabled"] = True
        elif kind == "disabled":
            config["enabled"] = False
    output_config = body.get("output_config")
    if isinstance(output_config, dict) and isinstance(output_config.get("effort"), str):
        config["effort"] = output_config["effort"]
        # effort alone steers the answer, it does not turn thinking on
        config.setdefault("enabled", False)
    return config or None


class ThinkingPlan:
    """What to send for a hub reasoning config: ``thinking``, ``effort``, and whether
    thinking ends up on (which restricts sampling parameters and raises max_tokens)."""

    __slots__ = ("effort", "max_tokens", "on", "thinking")

    def __init__(
        self,
        reasoning: hub.ReasoningConfig | None,
        model: str,
        max_tokens: int | None,
        forced_tool: bool,
    ) -> None:
        self.thinking: dict[str, Any] | None = None
        self.effort: str | None = None
        self.on = False
        self.max_tokens = max_tokens if max_tokens and max_tokens > 0 else DEFAULT_MAX_TOKENS
        if not reasoning:
            return
        effort = EFFORT.get(reasoning.get("effort", ""))
        budget = reasoning.get("budget_tokens")
        wanted = reasoning.get("enabled")
        if wanted is None:
            # Another dialect's effort or budget alone means "think"; a budget of 0 is
            # Gemini's "off" and a negative one its "dynamic" (on, no fixed budget).
            wanted = bool(effort) or (budget is not None and budget != 0)
        if budget is not None and budget <= 0:
            budget = None
        if not wanted:
            if reasoning.get("enabled") is False:
                self.thinking = {"type": "disabled"}
            self.effort = effort
            return
        if forced_tool:
            return  # the API rejects thinking with a forced tool; the forced call matters more
        self.on = True
        if adaptive_only(model) or (budget is None and supports_adaptive(model)):
            self.thinking = {"type": "adaptive"}
            self.effort = effort or (_effort_for_budget(budget) if budget else None)
            return
        budget = max(
            budget or BUDGET_BY_EFFORT.get(reasoning.get("effort", ""), DEFAULT_BUDGET), MIN_BUDGET
        )
        self.thinking = {"type": "enabled", "budget_tokens": budget}
        if self.max_tokens <= budget:
            self.max_tokens = budget + OUTPUT_HEADROOM
        if effort and supports_adaptive(model):
            self.effort = effort

    def drop(self) -> None:
        """Send no thinking at all (the history cannot satisfy the thinking rules)."""
        self.thinking = None
        self.on = False


def _effort_for_budget(budget: int) -> str:
    if budget <= 2048:
        return "low"
    if budget <= 12288:
        return "medium"
    return "high"
