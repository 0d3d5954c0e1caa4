"""thinking_mode per dialect: off, fixed and adaptive; passthrough is tested through
apply_controls (it never reaches these functions)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import orjson
import pytest

from gateway.config.snapshot import Settings, Snapshot
from gateway.formats.codec import codec_for
from gateway.server.controls import apply_controls, thinking
from gateway.server.exchange import ClientCall


def fixed(tokens: int) -> thinking.Budget:
    return lambda: tokens


def never() -> int:
    raise AssertionError("the budget is computed only when a request asked for reasoning")


def run(fn: Any, body: dict[str, Any], mode: str, budget: Any = never, model: str = "m") -> Any:
    before = copy.deepcopy(body)
    out = fn(body, mode, budget, model)
    assert body == before  # the client's body is never mutated
    return out


# Adaptive formula --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt_tokens", "ceiling", "expected"),
    [
        (0, 8192, 1024),
        (1024, 8192, 1024),
        (1025, 8192, 1024),  # 1024 + 7168 * 1 // 31744
        (16896, 8192, 1024 + 7168 * 15872 // 31744),  # halfway: 4608
        (32767, 8192, 8191),
        (32768, 8192, 8192),
        (500_000, 8192, 8192),
        (16896, 1024, 1024),  # a ceiling at the floor stays there
        (16896, 65536, 1024 + 64512 // 2),
    ],
)
def test_adaptive_budget_points(prompt_tokens: int, ceiling: int, expected: int) -> None:
    assert thinking.adaptive_budget(prompt_tokens, ceiling) == expected


def test_adaptive_halfway_is_the_middle() -> None:
    assert thinking.adaptive_budget(16896, 8192) == 4608


# OpenAI Chat -------------------------------------------------------------------------------


def test_openai_off_removes_the_effort() -> None:
    out = run(thinking.openai_chat, {"model": "o3", "reasoning_effort": "high"}, "off")
    assert out == {"model": "o3"}


@pytest.mark.parametrize("effort", ["none", "minimal", "low"])
def test_openai_off_keeps_efforts_below_the_default(effort: str) -> None:
    body = {"reasoning_effort": effort}
    assert run(thinking.openai_chat, body, "off") is body


@pytest.mark.parametrize(
    ("tokens", "effort"),
    [
        (1024, "low"),
        (2048, "low"),
        (2049, "medium"),
        (8192, "medium"),
        (8193, "high"),
        (128000, "high"),
    ],
)
def test_openai_fixed_maps_tokens_to_effort(tokens: int, effort: str) -> None:
    out = run(thinking.openai_chat, {"reasoning_effort": "minimal"}, "fixed", fixed(tokens))
    assert out == {"reasoning_effort": effort}


def test_openai_without_reasoning_is_left_alone_in_every_mode() -> None:
    body = {"model": "gpt-4o", "messages": []}
    for mode in ("off", "fixed", "adaptive"):
        assert run(thinking.openai_chat, body, mode) is body
    none = {"reasoning_effort": "none"}
    assert run(thinking.openai_chat, none, "fixed") is none


# Responses ---------------------------------------------------------------------------------


def test_responses_off_removes_reasoning() -> None:
    body = {"reasoning": {"effort": "high", "summary": "auto"}, "input": "x"}
    assert run(thinking.responses, body, "off") == {"input": "x"}


def test_responses_off_keeps_a_low_effort() -> None:
    body = {"reasoning": {"effort": "low"}}
    assert run(thinking.responses, body, "off") is body


def test_responses_fixed_sets_effort_and_keeps_summary() -> None:
    body = {"reasoning": {"summary": "auto"}}
    out = run(thinking.responses, body, "fixed", fixed(20000))
    assert out == {"reasoning": {"summary": "auto", "effort": "high"}}


def test_responses_without_reasoning_or_with_none_is_left_alone() -> None:
    for body in ({"input": "x"}, {"reasoning": {"effort": "none"}}, {"reasoning": None}):
        for mode in ("off", "fixed"):
            assert run(thinking.responses, body, mode) is body


# Anthropic ---------------------------------------------------------------------------------


def test_anthropic_off_removes_thinking_and_keeps_effort() -> None:
    body = {
        "max_tokens": 32000,
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "output_config": {"effort": "high"},
    }
    out = run(thinking.anthropic, body, "off")
    assert out == {"max_tokens": 32000, "output_config": {"effort": "high"}}


def test_anthropic_off_with_thinking_disabled_is_unchanged() -> None:
    body = {"thinking": {"type": "disabled"}}
    assert run(thinking.anthropic, body, "off") is body


def test_anthropic_fixed_sets_the_budget_below_max_tokens() -> None:
    body = {"max_tokens": 32000, "thinking": {"type": "enabled", "budget_tokens": 31999}}
    out = run(thinking.anthropic, body, "fixed", fixed(8192))
    assert out == {"max_tokens": 32000, "thinking": {"type": "enabled", "budget_tokens": 8192}}


@pytest.mark.parametrize(("max_tokens", "raised"), [(8192, 12288), (4096, 12288), (8193, 8193)])
def test_anthropic_fixed_raises_max_tokens_when_not_above_the_budget(
    max_tokens: int, raised: int
) -> None:
    body = {"max_tokens": max_tokens, "thinking": {"type": "enabled", "budget_tokens": 2000}}
    out = run(thinking.anthropic, body, "fixed", fixed(8192))
    assert out["max_tokens"] == raised
    assert out["thinking"]["budget_tokens"] == 8192


def test_anthropic_budget_never_below_the_api_floor() -> None:
    body = {"max_tokens": 64000, "thinking": {"type": "enabled", "budget_tokens": 5000}}
    out = run(thinking.anthropic, body, "adaptive", fixed(500))
    assert out["thinking"]["budget_tokens"] == 1024


def test_anthropic_adaptive_thinking_gets_an_effort() -> None:
    body = {"thinking": {"type": "adaptive"}, "output_config": {"format": {"type": "json_schema"}}}
    out = run(thinking.anthropic, body, "fixed", fixed(1500))
    assert out["thinking"] == {"type": "adaptive"}
    assert out["output_config"] == {"format": {"type": "json_schema"}, "effort": "low"}


def test_anthropic_without_thinking_is_left_alone() -> None:
    for body in ({"max_tokens": 10}, {"thinking": {"type": "disabled"}}):
        for mode in ("fixed", "adaptive"):
            assert run(thinking.anthropic, body, mode) is body


# Gemini ------------------------------------------------------------------------------------


def gemini_body(config: dict[str, Any]) -> dict[str, Any]:
    return {"contents": [], "generationConfig": {"temperature": 0.2, "thinkingConfig": config}}


def test_gemini_off_sets_a_zero_budget() -> None:
    body = gemini_body({"thinkingBudget": 4096, "includeThoughts": True})
    out = run(thinking.gemini, body, "off", model="gemini/gemini-2.5-flash")
    assert out["generationConfig"] == {"temperature": 0.2, "thinkingConfig": {"thinkingBudget": 0}}


def test_gemini_off_on_a_pro_model_drops_the_thinking_config() -> None:
    body = gemini_body({"thinkingLevel": "high"})
    out = run(thinking.gemini, body, "off", model="gemini/gemini-2.5-pro")
    assert out["generationConfig"] == {"temperature": 0.2}


def test_gemini_fixed_replaces_level_by_budget_and_keeps_include_thoughts() -> None:
    body = gemini_body({"thinkingLevel": "low", "includeThoughts": True})
    out = run(thinking.gemini, body, "fixed", fixed(8192))
    assert out["generationConfig"]["thinkingConfig"] == {
        "includeThoughts": True,
        "thinkingBudget": 8192,
    }


def test_gemini_budget_is_capped_at_24576() -> None:
    body = gemini_body({"thinkingBudget": -1})
    out = run(thinking.gemini, body, "fixed", fixed(100_000))
    assert out["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 24576}


def test_gemini_snake_case_stays_snake_case() -> None:
    body = {"generation_config": {"thinking_config": {"thinking_budget": 100}}}
    out = run(thinking.gemini, body, "fixed", fixed(2000))
    assert out == {"generation_config": {"thinking_config": {"thinking_budget": 2000}}}


def test_gemini_without_a_thinking_request_is_left_alone() -> None:
    bodies = (
        {"contents": []},
        {"generationConfig": {"temperature": 1}},
        gemini_body({}),
        gemini_body({"thinkingBudget": 0}),
        gemini_body({"includeThoughts": False}),
    )
    for body in bodies:
        for mode in ("off", "fixed", "adaptive"):
            assert run(thinking.gemini, body, mode) is body


# apply_controls -----------------------------------------------------------------------------


def call(dialect: str, body: dict[str, Any], endpoint: str = "") -> ClientCall:
    return ClientCall(
        codec_for(dialect),
        body,
        orjson.dumps(body),
        "m",
        False,
        endpoint=endpoint,  # type: ignore[arg-type]
    )


def snapshot(**settings: Any) -> Snapshot:
    return dataclasses.replace(Snapshot.empty(), settings=Settings(**settings))


def test_defaults_leave_the_call_itself_untouched() -> None:
    original = call("openai", {"model": "m", "reasoning_effort": "high", "messages": []})
    assert apply_controls(original, snapshot(), "m") is original


def test_a_change_reserializes_raw() -> None:
    original = call("gemini", gemini_body({"thinkingBudget": 100}))
    out = apply_controls(original, snapshot(thinking_mode="fixed", system_prompt="S"), "m")
    assert out is not original
    assert orjson.loads(out.raw) == out.body
    assert out.body["systemInstruction"] == {"parts": [{"text": "S"}]}
    assert out.body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 8192}


def test_a_mode_that_changes_nothing_keeps_the_call() -> None:
    original = call("openai", {"model": "m", "messages": []})
    assert apply_controls(original, snapshot(thinking_mode="fixed"), "m") is original


def test_token_counting_is_left_alone() -> None:
    original = call("anthropic", {"model": "m", "messages": []}, endpoint="count_tokens")
    assert apply_controls(original, snapshot(system_prompt="S"), "m") is original


def test_adaptive_estimates_the_prompt_with_the_injected_text() -> None:
    words = "x" * (4 * 16896 - len("S\n\n"))  # with the prefix: 16,896 tokens by the estimate
    body = {
        "model": "m",
        "max_tokens": 64000,
        "system": words,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "messages": [],
    }
    settings = {"thinking_mode": "adaptive", "system_prompt": "S", "thinking_budget": 8192}
    out = apply_controls(call("anthropic", body), snapshot(**settings), "m")
    assert out.body["thinking"]["budget_tokens"] == 4608
    assert out.body["system"].startswith("S\n\nxxx")


class Unreadable:
    """A codec that cannot read the body: the estimate falls back to the body's size."""

    dialect = "openai"

    def request_to_hub(self, body: dict[str, Any]) -> Any:
        raise ValueError("no")


def test_adaptive_counts_four_bytes_per_token_when_the_body_cannot_be_read() -> None:
    body = {"model": "m", "reasoning_effort": "low", "pad": "x" * (4 * 40000)}
    unreadable = ClientCall(Unreadable(), body, orjson.dumps(body), "m", False)  # type: ignore[arg-type]
    out = apply_controls(unreadable, snapshot(thinking_mode="adaptive", thinking_budget=20000), "m")
    assert out.body["reasoning_effort"] == "high"  # > 32,768 tokens: the whole 20,000
    small = {"model": "m", "reasoning_effort": "high"}
    unreadable = ClientCall(Unreadable(), small, orjson.dumps(small), "m", False)  # type: ignore[arg-type]
    out = apply_controls(unreadable, snapshot(thinking_mode="adaptive", thinking_budget=20000), "m")
    assert out.body["reasoning_effort"] == "low"  # a tiny body: the 1,024 floor


REASONING_REQUESTS = {
    "openai": {"model": "m", "messages": [], "reasoning_effort": "high"},
    "anthropic": {
        "model": "m",
        "max_tokens": 10,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
    },
    "gemini": gemini_body({"thinkingBudget": 2000}),
    "responses": {"model": "m", "input": "x", "reasoning": {"effort": "high"}},
}


@pytest.mark.parametrize("dialect", sorted(REASONING_REQUESTS))
def test_passthrough_leaves_every_dialect_as_sent(dialect: str) -> None:
    original = call(dialect, REASONING_REQUESTS[dialect])
    assert apply_controls(original, snapshot(thinking_mode="passthrough"), "m") is original


@pytest.mark.parametrize("dialect", sorted(REASONING_REQUESTS))
def test_every_mode_changes_a_reasoning_request_in_every_dialect(dialect: str) -> None:
    original = call(dialect, REASONING_REQUESTS[dialect])
    for mode in ("off", "fixed", "adaptive"):
        out = apply_controls(original, snapshot(thinking_mode=mode, thinking_budget=4000), "m")
        assert out.body != original.body, mode
        assert orjson.loads(out.raw) == out.body


def test_gemini_pro_check_ignores_case() -> None:
    body = gemini_body({"thinkingBudget": 100})
    out = run(thinking.gemini, body, "off", model="gemini/Gemini-2.5-PRO")
    assert out["generationConfig"] == {"temperature": 0.2}
