"""Non-streaming responses: Anthropic Message ⇄ hub response, stop reasons and usage."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from tests.unit.gateway.formats.anthropic.support import fixture


def hub_response(**fields: Any) -> hub.Response:
    response: hub.Response = {
        "id": "chatcmpl-9",
        "model": "gpt-x",
        "content": [],
        "reasoning": [],
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {},
    }
    response.update(fields)  # type: ignore[typeddict-item]
    return response


def test_tool_use_response_reads() -> None:
    response = CODEC.response_to_hub(fixture("response_tool_use.json"))
    assert response["id"] == "msg_01Aq9w938a90dw8q"
    assert response["model"] == "claude-sonnet-4-5-20250929"
    assert response["reasoning"][0]["signature"].startswith("EqQB")
    assert response["reasoning"][1] == {
        "text": "",
        "redacted": fixture("response_tool_use.json")["content"][1]["data"],
    }
    assert response["content"] == [{"type": "text", "text": "I'll check both cities."}]
    assert [c["id"] for c in response["tool_calls"]] == [
        "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "toolu_01T1x1fJ34qAmk2tNTrN7Up7",
    ]
    assert response["tool_calls"][0]["arguments"] == (
        '{"location":"San Francisco, CA","unit":"celsius"}'
    )
    assert response["finish_reason"] == "tool_calls"
    # hub input counts cached and cache-written tokens too
    assert response["usage"] == {
        "input_tokens": 472 + 1200 + 8000,
        "output_tokens": 160,
        "cached_tokens": 8000,
        "cache_creation_tokens": 1200,
    }
    assert "stop_sequence" not in response


def test_stop_sequence_response_reads() -> None:
    response = CODEC.response_to_hub(fixture("response_stop_sequence.json"))
    assert response["finish_reason"] == "stop" and response["stop_sequence"] == ", 5"
    assert response["usage"] == {"input_tokens": 14, "output_tokens": 10}


def test_fixture_responses_round_trip_through_the_hub() -> None:
    for name in ("response_tool_use.json", "response_stop_sequence.json"):
        original = fixture(name)
        wire = CODEC.response_from_hub(CODEC.response_to_hub(original), {})
        assert wire["id"] == original["id"] and wire["stop_reason"] == original["stop_reason"]
        assert wire["stop_sequence"] == original["stop_sequence"]
        for key in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        ):
            assert wire["usage"][key] == original["usage"][key]
        assert [b["type"] for b in wire["content"]] == [b["type"] for b in original["content"]]
        assert CODEC.response_to_hub(wire) == CODEC.response_to_hub(original)


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        (None, "stop"),
        ("something_new", "stop"),
    ],
)
def test_stop_reasons_read(stop_reason: str | None, finish: str) -> None:
    body = {"id": "msg_1", "content": [], "stop_reason": stop_reason, "usage": {}}
    assert CODEC.response_to_hub(body)["finish_reason"] == finish


@pytest.mark.parametrize(
    ("finish", "calls", "sequence", "stop_reason"),
    [
        ("stop", False, None, "end_turn"),
        ("stop", False, "END", "stop_sequence"),
        ("length", False, None, "max_tokens"),
        ("tool_calls", True, None, "tool_use"),
        ("stop", True, None, "tool_use"),  # Gemini finishes tool calls with STOP
        ("tool_calls", False, None, "end_turn"),  # no tool_use block to run
        ("content_filter", False, None, "refusal"),
        ("error", False, None, "end_turn"),
    ],
)
def test_stop_reasons_write(
    finish: hub.FinishReason, calls: bool, sequence: str | None, stop_reason: str
) -> None:
    tool_calls: list[hub.ToolCall] = [{"id": "c", "name": "f", "arguments": "{}"}] if calls else []
    response = hub_response(finish_reason=finish, tool_calls=tool_calls)
    if sequence:
        response["stop_sequence"] = sequence
    wire = CODEC.response_from_hub(response, {})
    assert wire["stop_reason"] == stop_reason
    assert wire["stop_sequence"] == (sequence if stop_reason == "stop_sequence" else None)


def test_response_written_for_a_strict_sdk() -> None:
    response = hub_response(
        content=[{"type": "text", "text": "Hi"}, {"type": "text", "text": ""}],
        reasoning=[
            {"text": "r1", "signature": "s1"},
            {"text": "no signature"},
            {"text": "", "redacted": "xx"},
        ],
        tool_calls=[
            {"id": "call_1", "name": "f", "arguments": '{"a": 1}'},
            {"id": "call_2", "name": "g", "arguments": "not json"},
        ],
        finish_reason="tool_calls",
        usage={
            "input_tokens": 100,
            "output_tokens": 20,
            "cached_tokens": 60,
            "cache_creation_tokens": 10,
            "reasoning_tokens": 7,
        },
    )
    wire = CODEC.response_from_hub(response, {"model": "client-alias"})
    assert wire["id"] == "msg_chatcmpl-9" and wire["type"] == "message"
    assert wire["model"] == "gpt-x" and wire["role"] == "assistant"
    assert [b["type"] for b in wire["content"]] == [
        "thinking",
        "thinking",
        "redacted_thinking",
        "text",
        "tool_use",
        "tool_use",
    ]
    assert wire["content"][1] == {"type": "thinking", "thinking": "no signature", "signature": ""}
    assert wire["content"][4]["input"] == {"a": 1} and wire["content"][5]["input"] == {}
    assert wire["usage"] == {
        "input_tokens": 30,
        "output_tokens": 20,
        "cache_read_input_tokens": 60,
        "cache_creation_input_tokens": 10,
        "output_tokens_details": {"thinking_tokens": 7},
    }
    message = anthropic.types.Message.model_validate(wire)  # the SDK's own model
    assert message.stop_reason == "tool_use" and message.usage.input_tokens == 30
    assert CODEC.response_to_hub(wire)["usage"] == response["usage"]


def test_response_model_and_id_fallbacks() -> None:
    wire = CODEC.response_from_hub(hub_response(id="", model=""), {"model": "claude-x"})
    assert wire["model"] == "claude-x" and wire["id"].startswith("msg_") and len(wire["id"]) > 8
    assert CODEC.response_from_hub(hub_response(id="msg_abc"), {})["id"] == "msg_abc"


def test_usage_never_goes_negative() -> None:
    wire = CODEC.response_from_hub(hub_response(usage={"input_tokens": 5, "cached_tokens": 9}), {})
    assert wire["usage"]["input_tokens"] == 0
