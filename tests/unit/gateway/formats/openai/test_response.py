"""Non-streamed responses: chat.completion ⇄ hub, and what the openai SDK accepts."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from tests.unit.gateway.formats.openai.helpers import fixture_json

REQUEST: hub.Request = {"model": "client-model", "messages": []}


def test_text_response_to_hub() -> None:
    body = fixture_json("response_text.json")
    response = CODEC.response_to_hub(body)
    assert response == {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "model": "gpt-4o-2024-08-06",
        "content": [
            {
                "type": "text",
                "text": body["choices"][0]["message"]["content"],
            }
        ],
        "reasoning": [],
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {
            "input_tokens": 1117,
            "output_tokens": 46,
            "cached_tokens": 1024,
            "reasoning_tokens": 0,
        },
    }


def test_tool_call_response_to_hub() -> None:
    response = CODEC.response_to_hub(fixture_json("response_tool_calls.json"))
    assert response["content"] == []
    assert response["tool_calls"] == [
        {
            "id": "call_Qf1mZ0s8YdP3kL2nT7vB9xWc",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {
            "id": "call_Rb5nX2t4HcJ8mK1pU6wE0yZa",
            "name": "get_weather",
            "arguments": '{"city":"Tokyo"}',
        },
    ]
    assert response["finish_reason"] == "tool_calls"


def test_reasoning_content_response_to_hub() -> None:
    response = CODEC.response_to_hub(fixture_json("response_reasoning.json"))
    assert response["reasoning"] == [
        {"text": "Compare 9.11 and 9.8: the tenths digit 1 < 8, so 9.8 is larger."}
    ]
    assert response["content"] == [
        {"type": "text", "text": "9.11 is smaller than 9.8, so 9.8 is greater."}
    ]
    assert response["usage"] == {
        "input_tokens": 19,
        "output_tokens": 136,
        "cached_tokens": 0,
        "reasoning_tokens": 110,
    }


def test_think_tags_response_to_hub() -> None:
    response = CODEC.response_to_hub(fixture_json("response_think_tags.json"))
    assert response["reasoning"] == [
        {"text": "\nThe user greets me. A short friendly answer is enough.\n"}
    ]
    assert response["content"] == [{"type": "text", "text": "Hello! How can I help you today?"}]
    assert response["usage"] == {"input_tokens": 9, "output_tokens": 31}


@pytest.mark.parametrize(
    ("finish", "calls", "expected"),
    [
        ("stop", False, "stop"),
        ("length", False, "length"),
        ("tool_calls", True, "tool_calls"),
        ("function_call", True, "tool_calls"),
        ("content_filter", False, "content_filter"),
        ("stop", True, "tool_calls"),  # compatible servers that say stop after tool calls
        (None, False, "stop"),
        ("eos", False, "stop"),
    ],
)
def test_finish_reasons_to_hub(finish: str | None, calls: bool, expected: str) -> None:
    message: dict[str, Any] = {"role": "assistant", "content": "x"}
    if calls:
        message["tool_calls"] = [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ]
    body = {"choices": [{"message": message, "finish_reason": finish}]}
    assert CODEC.response_to_hub(body)["finish_reason"] == expected


def test_odd_response_bodies_to_hub() -> None:
    assert CODEC.response_to_hub({}) == {
        "id": "",
        "model": "",
        "content": [],
        "reasoning": [],
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {},
    }
    legacy = CODEC.response_to_hub(
        {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": "f", "arguments": '{"a":1}'},
                    },
                    "finish_reason": "function_call",
                }
            ]
        }
    )
    (call,) = legacy["tool_calls"]
    assert call["name"] == "f" and call["arguments"] == '{"a":1}' and call["id"].startswith("call_")
    assert legacy["finish_reason"] == "tool_calls"
    refusal = CODEC.response_to_hub(
        {"choices": [{"message": {"content": None, "refusal": "I can't help with that."}}]}
    )
    assert refusal["content"] == [{"type": "text", "text": "I can't help with that."}]
    parts = CODEC.response_to_hub(
        {
            "choices": [
                {
                    "message": {
                        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                        "reasoning": "openrouter style",
                        "tool_calls": [
                            {"id": "c", "function": {"name": "f", "arguments": {"x": 1}}}
                        ],
                    }
                }
            ],
            "usage": {"prompt_tokens": 5, "prompt_cache_hit_tokens": 3, "completion_tokens": True},
        }
    )
    assert parts["content"] == [{"type": "text", "text": "ab"}]
    assert parts["reasoning"] == [{"text": "openrouter style"}]
    assert parts["tool_calls"] == [{"id": "c", "name": "f", "arguments": '{"x":1}'}]
    assert parts["usage"] == {"input_tokens": 5, "cached_tokens": 3}  # DeepSeek's cache field


def test_response_from_hub_is_what_the_sdk_accepts() -> None:
    response: hub.Response = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Checking "}, {"type": "text", "text": "both."}],
        "reasoning": [
            {"text": "Two cities, ", "signature": "EqQBCgIYAhIM"},
            {"text": "two calls."},
        ],
        "tool_calls": [
            {"id": "toolu_01A", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"id": "toolu_01B", "name": "get_weather", "arguments": '{"city":"Tokyo"}'},
        ],
        "finish_reason": "tool_calls",
        "usage": {
            "input_tokens": 2095,
            "output_tokens": 503,
            "cached_tokens": 2048,
            "cache_creation_tokens": 12,
            "reasoning_tokens": 120,
        },
    }
    body = CODEC.response_from_hub(response, REQUEST)
    assert body["id"] == "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL"
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and body["created"] > 1_700_000_000
    assert body["model"] == "claude-sonnet-4-5"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Checking both.",
                "refusal": None,
                "reasoning_content": "Two cities, two calls.",
                "tool_calls": [
                    {
                        "id": "toolu_01A",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "toolu_01B",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Tokyo"}'},
                    },
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": 2095,
        "completion_tokens": 503,
        "total_tokens": 2598,
        "prompt_tokens_details": {"cached_tokens": 2048},
        "completion_tokens_details": {"reasoning_tokens": 120},
    }
    parsed = ChatCompletion.model_validate(body)
    assert parsed.choices[0].message.tool_calls is not None
    assert parsed.usage is not None and parsed.usage.prompt_tokens_details is not None
    assert parsed.usage.prompt_tokens_details.cached_tokens == 2048
    # The SDK keeps the extra field for clients that read it (as for DeepSeek).
    assert parsed.choices[0].message.model_extra == {"reasoning_content": "Two cities, two calls."}


@pytest.mark.parametrize(
    ("reason", "calls", "expected"),
    [
        ("stop", False, "stop"),
        ("length", False, "length"),
        ("content_filter", False, "content_filter"),
        ("error", False, "stop"),
        ("tool_calls", True, "tool_calls"),
        ("stop", True, "tool_calls"),
    ],
)
def test_finish_reasons_from_hub(reason: hub.FinishReason, calls: bool, expected: str) -> None:
    response: hub.Response = {
        "id": "chatcmpl-kept",
        "model": "",
        "content": [],
        "reasoning": [],
        "tool_calls": [{"id": "c", "name": "f", "arguments": "{}"}] if calls else [],
        "finish_reason": reason,
        "usage": {},
    }
    body = CODEC.response_from_hub(response, REQUEST)
    choice = body["choices"][0]
    assert choice["finish_reason"] == expected
    assert body["id"] == "chatcmpl-kept"
    assert body["model"] == "client-model"  # no upstream model: the request's
    assert choice["message"]["content"] is None
    assert "reasoning_content" not in choice["message"]
    assert body["usage"]["total_tokens"] == 0
    ChatCompletion.model_validate(body)


def test_fixture_responses_round_trip() -> None:
    for name in ("response_text.json", "response_tool_calls.json", "response_reasoning.json"):
        hub_response = CODEC.response_to_hub(fixture_json(name))
        again = CODEC.response_to_hub(CODEC.response_from_hub(hub_response, REQUEST))
        assert again["content"] == hub_response["content"]
        assert again["reasoning"] == hub_response["reasoning"]
        assert again["tool_calls"] == hub_response["tool_calls"]
        assert again["finish_reason"] == hub_response["finish_reason"]
        assert again["usage"] == {
            "input_tokens": 0,
            "output_tokens": 0,
            "cached_tokens": 0,
            "reasoning_tokens": 0,
            **hub_response["usage"],
        }
