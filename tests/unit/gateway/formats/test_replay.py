"""The replay cache: reasoning given back to clients that cannot carry it, and signatures
given back only to the upstream that made them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.formats import hub
from gateway.formats.replay import (
    ReplayCache,
    TurnRecorder,
    for_target,
    foreign,
    signature_origin,
)
from gateway.formats.signatures import client_signatures

ANTHROPIC = signature_origin("anthropic", "anthropic")
GEMINI = signature_origin("gemini", "gemini")
LAB = signature_origin("anthropic", "lab")


def call(call_id: str, signature: str | None = None) -> hub.ToolCall:
    out: hub.ToolCall = {"id": call_id, "name": "get_weather", "arguments": "{}"}
    if signature:
        out["signature"] = signature
    return out


def request_with(assistant: hub.Message) -> hub.Request:
    return {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "go"}]},
            assistant,
            {"role": "tool", "content": [{"type": "text", "text": "sunny"}], "tool_call_id": "c1"},
        ]
    }


def test_origins_name_the_dialect_and_the_provider() -> None:
    assert ANTHROPIC == "anthropic:anthropic"
    assert not foreign(ANTHROPIC, ANTHROPIC)
    assert foreign(ANTHROPIC, GEMINI)
    assert foreign(ANTHROPIC, LAB)  # same dialect, another provider
    assert not foreign("anthropic", LAB)  # provider unknown: trusted within its dialect
    assert foreign("anthropic", GEMINI)


def test_a_remembered_turn_comes_back_with_its_origin() -> None:
    cache = ReplayCache()
    cache.for_origin(ANTHROPIC).remember(
        [{"text": "hmm", "signature": "sig-a"}, {"text": "", "redacted": "opaque"}], [call("c1")]
    )
    assert len(cache) == 1  # the view shares the cache
    request = request_with({"role": "assistant", "content": [], "tool_calls": [call("c1")]})
    cache.restore(request, "openai")
    assert request["messages"][1]["reasoning"] == [
        {"text": "hmm", "signature": "sig-a", "origin": ANTHROPIC},
        {"text": "", "redacted": "opaque", "origin": ANTHROPIC},
    ]


def test_a_remembered_call_signature_comes_back_with_its_origin() -> None:
    cache = ReplayCache().for_origin(GEMINI)
    cache.remember([{"text": "t"}], [call("c1", "Z2VtaW5p")])
    calls = [call("c1")]
    cache.restore(request_with({"role": "assistant", "content": [], "tool_calls": calls}), "")
    assert calls[0] == {**call("c1", "Z2VtaW5p"), "origin": GEMINI}


def test_signatures_the_client_carries_get_the_recorded_origin_else_its_dialect() -> None:
    cache = ReplayCache()
    cache.for_origin(GEMINI).remember([{"text": "t", "signature": "from-gemini"}], [])  # no call
    reasoning: list[hub.Reasoning] = [
        {"text": "a", "signature": "from-gemini"},
        {"text": "b", "signature": "never-seen"},
        {"text": "c"},
    ]
    calls = [call("c9", "call-sig")]
    message: hub.Message = {
        "role": "assistant",
        "content": [],
        "reasoning": reasoning,
        "tool_calls": calls,
    }
    cache.restore(request_with(message), "anthropic")
    assert [r.get("origin") for r in reasoning] == [GEMINI, "anthropic", None]
    assert calls[0]["origin"] == "anthropic"


def test_without_a_client_dialect_unknown_signatures_stay_unstamped() -> None:
    reasoning: list[hub.Reasoning] = [{"text": "b", "signature": "never-seen"}]
    ReplayCache().restore(
        request_with({"role": "assistant", "content": [], "reasoning": reasoning}), ""
    )
    assert "origin" not in reasoning[0]


def stamped_history() -> list[hub.Message]:
    return [
        {"role": "user", "content": [{"type": "text", "text": "go"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "ok"}],
            "reasoning": [
                {"text": "thought", "signature": "sig-a", "origin": ANTHROPIC},
                {"text": "", "redacted": "opaque", "origin": ANTHROPIC},
                {"text": "plain"},
            ],
            "tool_calls": [{**call("c1", "sig-g"), "origin": GEMINI}, call("c2")],
        },
    ]


def test_for_target_drops_foreign_signatures_and_keeps_the_text() -> None:
    messages = stamped_history()
    before = copy.deepcopy(messages)
    out = for_target(messages, GEMINI)
    assert messages == before  # other targets still see everything
    assert out[0] is messages[0]
    assert out[1]["reasoning"] == [{"text": "thought"}, {"text": "plain"}]
    assert out[1]["tool_calls"] == [{**call("c1", "sig-g"), "origin": GEMINI}, call("c2")]
    assert out[1]["content"] == messages[1]["content"]


def test_for_target_keeps_a_signature_at_home() -> None:
    messages = stamped_history()
    out = for_target(messages, ANTHROPIC)
    assert out[1]["reasoning"] == messages[1]["reasoning"]
    assert out[1]["tool_calls"] == [call("c1"), call("c2")]  # Gemini's call signature went
    plain: hub.Message = {"role": "assistant", "content": [], "reasoning": [{"text": "plain"}]}
    untouched = [messages[0], plain]
    assert for_target(untouched, GEMINI) is untouched  # nothing foreign: no copy


def test_for_target_drops_another_providers_signature_of_the_same_dialect() -> None:
    out = for_target(stamped_history(), LAB)
    assert out[1]["reasoning"] == [{"text": "thought"}, {"text": "plain"}]


def test_carries_foreign_knows_only_recorded_origins() -> None:
    cache = ReplayCache()
    assert not cache.carries_foreign(["anything"], ANTHROPIC)
    cache.for_origin(GEMINI).remember([{"text": "", "signature": "from-gemini"}], [])
    assert cache.carries_foreign(["unknown", "from-gemini"], ANTHROPIC)
    assert not cache.carries_foreign(["from-gemini"], GEMINI)
    assert not cache.carries_foreign(["unknown"], ANTHROPIC)


def test_both_maps_are_bounded() -> None:
    cache = ReplayCache(max_entries=4)
    view = cache.for_origin(ANTHROPIC)
    for index in range(50):
        view.remember([{"text": "", "signature": f"s{index}"}], [call(f"c{index}")])
    assert len(cache) == 4
    assert len(cache._origins) == 8
    assert cache.carries_foreign(["s49"], GEMINI)
    assert not cache.carries_foreign(["s0"], GEMINI)  # forgotten: unknown


def test_a_streamed_turn_is_remembered_with_the_views_origin() -> None:
    cache = ReplayCache()
    recorder = TurnRecorder()
    events: list[hub.Event] = [
        {"type": "reasoning_delta", "text": "hm"},
        {"type": "reasoning_signature", "signature": "sig-s"},
        {"type": "tool_call_start", "index": 0, "id": "c1", "name": "get_weather"},
    ]
    for event in events:
        recorder.see(event)
    recorder.finish(cache.for_origin(ANTHROPIC))
    request = request_with({"role": "assistant", "content": [], "tool_calls": [call("c1")]})
    cache.restore(request, "openai")
    assert request["messages"][1]["reasoning"] == [
        {"text": "hm", "signature": "sig-s", "origin": ANTHROPIC}
    ]


@pytest.mark.parametrize(
    ("dialect", "body", "expected"),
    [
        (
            "anthropic",
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "thinking", "thinking": "t", "signature": "s1"},
                            {"type": "redacted_thinking", "data": "r1"},
                            {"type": "thinking", "thinking": "t", "signature": ""},
                            {"type": "text", "text": "x", "signature": "not-a-thinking-block"},
                            "junk",
                        ],
                    },
                    "junk",
                ]
            },
            ["s1", "r1"],
        ),
        (
            "gemini",
            {
                "contents": [
                    {"role": "model", "parts": [{"text": "a", "thoughtSignature": "g1"}]},
                    {"role": "model", "parts": [{"functionCall": {}, "thought_signature": "g2"}]},
                    {"role": "user", "parts": "junk"},
                ]
            },
            ["g1", "g2"],
        ),
        (
            "responses",
            {
                "input": [
                    {"type": "reasoning", "summary": [], "encrypted_content": "e1"},
                    {"type": "message", "role": "user", "content": "hi"},
                    {"type": "reasoning", "summary": []},
                ]
            },
            ["e1"],
        ),
        ("responses", {"input": "just text"}, []),
        ("openai", {"messages": [{"role": "assistant", "content": "x"}]}, []),
    ],
)
def test_client_signatures_are_read_from_each_dialects_fields(
    dialect: str, body: dict[str, Any], expected: list[str]
) -> None:
    assert list(client_signatures(dialect, body)) == expected
