"""Whole responses: a Response object → hub (upstream side) and hub → Response (client side)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.formats import hub
from gateway.formats.responses import CODEC
from tests.unit.gateway.formats.responses.support import fixture_json, sdk_client, validate_response


def test_response_with_reasoning_text_and_parallel_calls() -> None:
    response = CODEC.response_to_hub(fixture_json("response_tool_call.json"))
    assert response == {
        "id": "resp_68a1f0c2d4e8819a",
        "model": "o4-mini-2025-04-16",
        "content": [{"type": "text", "text": "Let me look both up."}],
        "reasoning": [
            {
                "text": "**Checking the weather**\n\nBoth cities are needed, so two calls.",
                "signature": "gAAAAABoo_weather_reasoning_3c1d",
                "id": "rs_68a1f0c3aa10819a",
            }
        ],
        "tool_calls": [
            {"id": "call_Wx1Paris", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"id": "call_Wx2Tokyo", "name": "get_weather", "arguments": '{"city":"Tokyo"}'},
        ],
        "finish_reason": "tool_calls",
        "usage": {
            "input_tokens": 1200,
            "output_tokens": 310,
            "cached_tokens": 1024,
            "reasoning_tokens": 256,
        },
    }


def test_incomplete_response() -> None:
    response = CODEC.response_to_hub(fixture_json("response_incomplete.json"))
    assert response["finish_reason"] == "length"
    assert response["content"] == [{"type": "text", "text": "The three main causes are"}]
    assert response["usage"] == {"input_tokens": 40, "output_tokens": 16}


@pytest.mark.parametrize(
    ("status", "details", "calls", "reason"),
    [
        ("completed", None, False, "stop"),
        ("completed", None, True, "tool_calls"),
        (None, None, False, "stop"),
        ("incomplete", {"reason": "max_output_tokens"}, False, "length"),
        ("incomplete", {"reason": "content_filter"}, False, "content_filter"),
        ("incomplete", None, True, "length"),
        ("failed", None, False, "error"),
        ("cancelled", None, False, "error"),
    ],
)
def test_status_to_finish_reason(status: Any, details: Any, calls: bool, reason: str) -> None:
    output: list[dict[str, Any]] = []
    if calls:
        output.append({"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"})
    body: dict[str, Any] = {"id": "resp_1", "model": "m", "output": output}
    if status is not None:
        body["status"] = status
        body["incomplete_details"] = details
    assert CODEC.response_to_hub(body)["finish_reason"] == reason


def test_odd_response_bodies_do_not_raise() -> None:
    response = CODEC.response_to_hub(
        {
            "output": [
                None,
                {"type": "message", "content": None},
                {"type": "message", "content": [{"type": "refusal", "refusal": "Sorry."}]},
                {"type": "function_call", "name": "f"},
                {"type": "reasoning", "summary": "x"},
            ],
            "usage": {"input_tokens": "many", "output_tokens": 3, "input_tokens_details": None},
        }
    )
    assert response == {
        "id": "",
        "model": "",
        "content": [{"type": "text", "text": "Sorry."}],
        "reasoning": [{"text": ""}],
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {"output_tokens": 3},
    }


# hub → Response -----------------------------------------------------------------------------

REQUEST: hub.Request = {
    "model": "client-model",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "tools": [{"name": "get_weather", "parameters": {"type": "object"}}],
    "tool_choice": "required",
    "max_tokens": 500,
    "temperature": 0.3,
    "response_format": {"type": "json_object"},
    "reasoning": {"enabled": True, "effort": "high", "summary": "auto"},
    "metadata": {"k": "v"},
    "user": "u",
}


def _hub_response(**changes: Any) -> hub.Response:
    response: hub.Response = {
        "id": "msg_01AnthropicId",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Looking"}, {"type": "text", "text": " it up."}],
        "reasoning": [
            {"text": "I should call the tool.", "signature": "EqQBsig"},
            {"text": "", "redacted": "opaque-redacted"},
        ],
        "tool_calls": [{"id": "toolu_01", "name": "get_weather", "arguments": '{"city":"Oslo"}'}],
        "finish_reason": "tool_calls",
        "usage": {
            "input_tokens": 100,
            "output_tokens": 20,
            "cached_tokens": 60,
            "cache_creation_tokens": 30,
            "reasoning_tokens": 5,
        },
    }
    response.update(changes)  # type: ignore[typeddict-item]
    return response


def test_hub_response_to_response_object() -> None:
    body = CODEC.response_from_hub(_hub_response(), REQUEST)
    validate_response(body)  # strict SDK model: every field it requires, nothing it rejects
    assert body["id"] == "resp_msg_01AnthropicId"
    assert body["object"] == "response"
    assert isinstance(body["created_at"], int)
    assert body["status"] == "completed"
    assert body["error"] is None and body["incomplete_details"] is None
    assert body["model"] == "claude-sonnet-4-5"
    assert body["output"] == [
        {
            "id": "rs_msg_01AnthropicId_0",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "I should call the tool."}],
            "encrypted_content": "EqQBsig",
        },
        {
            "id": "msg_msg_01AnthropicId_1",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [
                {"type": "output_text", "annotations": [], "logprobs": [], "text": "Looking"},
                {"type": "output_text", "annotations": [], "logprobs": [], "text": " it up."},
            ],
        },
        {
            "id": "fc_msg_01AnthropicId_2",
            "type": "function_call",
            "status": "completed",
            "arguments": '{"city":"Oslo"}',
            "call_id": "toolu_01",
            "name": "get_weather",
        },
    ]
    assert body["usage"] == {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 30},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 5},
        "total_tokens": 120,
    }
    # the request's settings are echoed
    assert body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object"},
            "strict": False,
        }
    ]
    assert body["tool_choice"] == "required"
    assert body["max_output_tokens"] == 500
    assert body["temperature"] == 0.3
    assert body["top_p"] is None
    assert body["text"] == {"format": {"type": "json_object"}}
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["parallel_tool_calls"] is True
    assert body["metadata"] == {"k": "v"}
    assert body["user"] == "u"


@pytest.mark.parametrize(
    ("reason", "status", "details"),
    [
        ("stop", "completed", None),
        ("length", "incomplete", {"reason": "max_output_tokens"}),
        ("content_filter", "incomplete", {"reason": "content_filter"}),
        ("error", "failed", None),
    ],
)
def test_finish_reason_to_status(reason: hub.FinishReason, status: str, details: Any) -> None:
    body = CODEC.response_from_hub(_hub_response(finish_reason=reason, tool_calls=[]), {})
    validate_response(body)
    assert body["status"] == status
    assert body["incomplete_details"] == details
    message = next(item for item in body["output"] if item["type"] == "message")
    assert message["status"] == ("incomplete" if status == "incomplete" else "completed")
    if status == "failed":
        assert body["error"]["code"] == "server_error"


def test_minimal_hub_response() -> None:
    empty: hub.Response = {
        "id": "",
        "model": "",
        "content": [],
        "reasoning": [],
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {},
    }
    body = CODEC.response_from_hub(empty, {"model": "asked-model"})
    validate_response(body)
    assert body["id"].startswith("resp_") and len(body["id"]) > 10
    assert body["model"] == "asked-model"
    assert body["output"] == []
    assert body["usage"]["total_tokens"] == 0
    assert body["tools"] == [] and body["tool_choice"] == "auto"


def test_official_sdk_reads_the_response() -> None:
    body = orjson.dumps(CODEC.response_from_hub(_hub_response(), REQUEST))
    client = sdk_client(body, content_type="application/json")
    response = client.responses.create(model="client-model", input="hi")
    assert response.output_text == "Looking it up."
    calls = [item for item in response.output if item.type == "function_call"]
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [
        ("toolu_01", "get_weather", '{"city":"Oslo"}')
    ]
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 60
    assert response.usage.output_tokens_details.reasoning_tokens == 5


def test_response_round_trip_through_a_responses_client() -> None:
    """What a Responses client replays next turn carries the reasoning signature back."""
    body = CODEC.response_from_hub(_hub_response(), REQUEST)
    replay = CODEC.request_to_hub({"input": [{"role": "user", "content": "hi"}, *body["output"]]})
    assistant = replay["messages"][1]
    assert assistant["reasoning"] == [
        {"text": "I should call the tool.", "signature": "EqQBsig", "id": "rs_msg_01AnthropicId_0"}
    ]
    assert assistant["tool_calls"] == _hub_response()["tool_calls"]
    assert assistant["content"] == _hub_response()["content"]
