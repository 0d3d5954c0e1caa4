"""The ``thinking_mode`` setting applied to the client's reasoning request, in its dialect.

``off`` removes the request for reasoning; ``fixed`` and ``adaptive`` set its size, but only
where the client asked for reasoning (forcing it on a model without it makes that model
fail). Exact rules per dialect: docs/routing.md "Behaviour controls".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.formats.anthropic.thinking import MIN_BUDGET, OUTPUT_HEADROOM
from gateway.formats.responses.settings import effort_for_budget

OFF = "off"
PASSTHROUGH = "passthrough"
# Anthropic's floor for budget_tokens is also where the adaptive budget starts.
ADAPTIVE_FLOOR = MIN_BUDGET
ADAPTIVE_SMALL_PROMPT = 1024  # prompt tokens up to which adaptive gives the floor
ADAPTIVE_LARGE_PROMPT = 32768  # prompt tokens from which adaptive gives thinking_budget
GEMINI_MAX_BUDGET = 24576  # the largest budget every Gemini 2.5 model accepts (Flash's)
# OpenAI efforts below the default: removing them would bring back "medium" reasoning.
_BELOW_DEFAULT = frozenset({"none", "minimal", "low"})
_GEMINI_SIZE_KEYS = frozenset(
    {"thinkingBudget", "thinking_budget", "thinkingLevel", "thinking_level"}
)

Body = dict[str, Any]
Budget = Callable[[], int]  # the budget in tokens, computed only when a request needs one


def adaptive_budget(prompt_tokens: int, ceiling: int) -> int:
    """1024 up to 1,024 prompt tokens, ``ceiling`` from 32,768, linear in between."""
    if prompt_tokens <= ADAPTIVE_SMALL_PROMPT or ceiling <= ADAPTIVE_FLOOR:
        return ADAPTIVE_FLOOR
    if prompt_tokens >= ADAPTIVE_LARGE_PROMPT:
        return ceiling
    span = ADAPTIVE_LARGE_PROMPT - ADAPTIVE_SMALL_PROMPT
    return (
        ADAPTIVE_FLOOR
        + (ceiling - ADAPTIVE_FLOOR) * (prompt_tokens - ADAPTIVE_SMALL_PROMPT) // span
    )


def _without(obj: Body, key: str) -> Body:
    return {k: v for k, v in obj.items() if k != key}


def openai_chat(body: Body, mode: str, budget: Budget, model: str) -> Body:
    """``reasoning_effort``: off removes it (an effort below the default stays); fixed and
    adaptive set it from the budget."""
    effort = body.get("reasoning_effort")
    if not isinstance(effort, str) or effort == "none":
        return body
    if mode == OFF:
        return body if effort in _BELOW_DEFAULT else _without(body, "reasoning_effort")
    return {**body, "reasoning_effort": effort_for_budget(budget())}


def responses(body: Body, mode: str, budget: Budget, model: str) -> Body:
    """``reasoning``: off removes it (an effort below the default stays); fixed and adaptive
    set its ``effort`` from the budget (``summary`` kept)."""
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, dict):
        return body
    effort = reasoning.get("effort")
    if effort == "none":
        return body
    if mode == OFF:
        return body if effort in _BELOW_DEFAULT else _without(body, "reasoning")
    return {**body, "reasoning": {**reasoning, "effort": effort_for_budget(budget())}}


def anthropic(body: Body, mode: str, budget: Budget, model: str) -> Body:
    """``thinking``: off removes it; fixed and adaptive set ``budget_tokens`` (raising
    ``max_tokens`` to budget + 4096 when it is not above the budget), or, for adaptive
    thinking, which takes no budget, ``output_config.effort``."""
    thinking = body.get("thinking")
    if not isinstance(thinking, dict):
        return body
    kind = thinking.get("type")
    if mode == OFF:
        return body if kind == "disabled" else _without(body, "thinking")
    if kind == "enabled":
        tokens = max(budget(), MIN_BUDGET)
        out = {**body, "thinking": {**thinking, "budget_tokens": tokens}}
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens <= tokens:
            out["max_tokens"] = tokens + OUTPUT_HEADROOM
        return out
    if kind == "adaptive":
        config = body.get("output_config")
        config = config if isinstance(config, dict) else {}
        return {**body, "output_config": {**config, "effort": effort_for_budget(budget())}}
    return body


def _key(obj: Body, camel: str, snake: str) -> str:
    """The spelling the client used (Gemini accepts both), camelCase when neither."""
    return snake if snake in obj and camel not in obj else camel


def gemini(body: Body, mode: str, budget: Budget, model: str) -> Body:
    """``generationConfig.thinkingConfig``: off sets ``thinkingBudget`` 0 (Pro models, which
    cannot stop thinking, lose the thinking config instead); fixed and adaptive set
    ``thinkingBudget`` (at most 24576) in place of any budget or ``thinkingLevel``."""
    config_key = _key(body, "generationConfig", "generation_config")
    config = body.get(config_key)
    if not isinstance(config, dict):
        return body
    thinking_key = _key(config, "thinkingConfig", "thinking_config")
    thinking = config.get(thinking_key)
    if not isinstance(thinking, dict):
        return body
    current = thinking.get("thinkingBudget", thinking.get("thinking_budget"))
    level = thinking.get("thinkingLevel", thinking.get("thinking_level"))
    include = thinking.get("includeThoughts", thinking.get("include_thoughts"))
    if current == 0:
        return body  # thinking already off
    if current is None and level in (None, "THINKING_LEVEL_UNSPECIFIED") and include is not True:
        return body  # no reasoning asked for
    budget_key = "thinking_budget" if thinking_key == "thinking_config" else "thinkingBudget"
    if mode == OFF:
        if "-pro" in model.lower():
            return {**body, config_key: _without(config, thinking_key)}
        changed: Body = {budget_key: 0}
    else:
        rest = {k: v for k, v in thinking.items() if k not in _GEMINI_SIZE_KEYS}
        changed = {**rest, budget_key: min(budget(), GEMINI_MAX_BUDGET)}
    return {**body, config_key: {**config, thinking_key: changed}}


BY_DIALECT: dict[str, Callable[[Body, str, Budget, str], Body]] = {
    "openai": openai_chat,
    "anthropic": anthropic,
    "gemini": gemini,
    "responses": responses,
}
