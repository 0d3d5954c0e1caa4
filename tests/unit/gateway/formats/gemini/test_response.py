"""Gemini GenerateContentResponse ⇄ hub responses, finish reasons and usage."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from google.genai import types

from gateway.formats import hub
from gateway.formats.gemini import CODEC
from gateway.formats.gemini.response import usage_from_hub, usage_to_hub
from tests.unit.gateway.formats.gemini.support import load_json

SIG = "c2lnbmF0dXJl"


def test_tool_call_response_fixture() -> None:
    body = load_json("response_tool_call.json")
    response = CODEC.response_to_hub(body)
    assert response["id"] == "pXEiabLFNcOHmtkPq7GTmAk"
    assert response["model"] == "gemini-2.5-flash"
    assert response["reasoning"] == [
        {"text": "**Planning the lookup**\n\nI need the order before I can refund it."}
    ]
    assert response["content"] == [{"type": "text", "text": "Let me look up that order first."}]
    [call] = response["tool_calls"]
    assert call["name"] == "get_order"
    assert orjson.loads(call["arguments"]) == {
        "order_id": "A-1042",
        "include": ["items", "payments"],
    }
    assert call["signature"] == body["candidates"][0]["content"]["parts"][2]["thoughtSignature"]
    assert call["id"].startswith("call_") and len(call["id"]) == 17
    assert response["finish_reason"] == "tool_calls"
    assert response["usage"] == {
        "input_tokens": 210,
        "output_tokens": 31 + 95,
        "cached_tokens": 128,
        "reasoning_tokens": 95,
    }


def test_generated_call_ids_are_unique() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "f", "args": {}}}] * 5,
                },
                "finishReason": "STOP",
            }
        ]
    }
    ids = [c["id"] for c in CODEC.response_to_hub(body)["tool_calls"]]
    assert len(set(ids)) == 5


def test_max_tokens_fixture() -> None:
    response = CODEC.response_to_hub(load_json("response_max_tokens.json"))
    assert response["finish_reason"] == "length"
    assert response["content"] == [
        {"type": "text", "text": "Paris, Lyon and Marseille are the three largest"}
    ]
    assert response["usage"] == {"input_tokens": 11, "output_tokens": 10}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("UNEXPECTED_TOOL_CALL", "error"),
        ("OTHER", "error"),
        ("FINISH_REASON_UNSPECIFIED", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons(reason: str | None, expected: hub.FinishReason) -> None:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": "x"}]}}
    if reason:
        candidate["finishReason"] = reason
    assert CODEC.response_to_hub({"candidates": [candidate]})["finish_reason"] == expected


def test_prompt_blocked_is_content_filter() -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}
    response = CODEC.response_to_hub(body)
    assert response["finish_reason"] == "content_filter"
    assert response["content"] == [] and response["tool_calls"] == []
    assert response["usage"] == {"input_tokens": 4, "output_tokens": 0}


def test_signature_on_answer_part_goes_to_reasoning() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "deep ", "thought": True},
                        {"text": "thought", "thought": True},
                        {"text": "Answer", "thoughtSignature": SIG},
                        {"text": " continues"},
                        {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
                    ],
                },
                "finishReason": "STOP",
            }
        ]
    }
    response = CODEC.response_to_hub(body)
    assert response["reasoning"] == [{"text": "deep thought", "signature": SIG}]
    assert response["content"] == [{"type": "text", "text": "Answer continues"}]


def test_usage_mapping() -> None:
    metadata = {
        "promptTokenCount": 100,
        "cachedContentTokenCount": 60,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "toolUsePromptTokenCount": 5,
        "totalTokenCount": 155,
    }
    usage = usage_to_hub(metadata)
    assert usage == {
        "input_tokens": 105,
        "output_tokens": 50,
        "cached_tokens": 60,
        "reasoning_tokens": 30,
    }
    assert usage_from_hub(usage) == {
        "promptTokenCount": 105,
        "candidatesTokenCount": 20,
        "totalTokenCount": 155,
        "cachedContentTokenCount": 60,
        "thoughtsTokenCount": 30,
    }


def test_usage_from_hub_drops_cache_writes() -> None:
    assert usage_from_hub({"input_tokens": 10, "output_tokens": 2, "cache_creation_tokens": 4}) == {
        "promptTokenCount": 10,
        "candidatesTokenCount": 2,
        "totalTokenCount": 12,
    }


def hub_response(**overrides: Any) -> hub.Response:
    response: hub.Response = {
        "id": "resp-1",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Done."}],
        "reasoning": [
            {"text": "First I check.", "signature": SIG},
            {"text": "", "redacted": "opaque"},
            {"text": "", "signature": "c2lnMg=="},
            {"text": "", "signature": "not base64!"},
        ],
        "tool_calls": [
            {"id": "toolu_1", "name": "f", "arguments": '{"x": [1, 2]}', "signature": "c2lnMw=="},
            {"id": "toolu_2", "name": "g", "arguments": "", "signature": "sig-fake-1"},
        ],
        "finish_reason": "tool_calls",
        "usage": {"input_tokens": 12, "output_tokens": 8, "reasoning_tokens": 3},
    }
    response.update(overrides)  # type: ignore[typeddict-item]
    return response


def test_response_from_hub_shape() -> None:
    body = CODEC.response_from_hub(hub_response(), {"model": "gemini-2.5-pro"})
    assert body == {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "First I check.", "thought": True, "thoughtSignature": SIG},
                        {"text": "", "thoughtSignature": "c2lnMg=="},
                        {"text": "Done."},
                        {
                            "functionCall": {"name": "f", "args": {"x": [1, 2]}, "id": "toolu_1"},
                            "thoughtSignature": "c2lnMw==",
                        },
                        {"functionCall": {"name": "g", "args": {}, "id": "toolu_2"}},
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 12,
            "candidatesTokenCount": 5,
            "totalTokenCount": 20,
            "thoughtsTokenCount": 3,
        },
        "modelVersion": "claude-sonnet-4-5",
        "responseId": "resp-1",
    }


@pytest.mark.parametrize(
    ("reason", "wire"),
    [
        ("stop", "STOP"),
        ("tool_calls", "STOP"),
        ("length", "MAX_TOKENS"),
        ("content_filter", "SAFETY"),
        ("error", "OTHER"),
    ],
)
def test_finish_reason_from_hub(reason: hub.FinishReason, wire: str) -> None:
    body = CODEC.response_from_hub(hub_response(finish_reason=reason), {})
    assert body["candidates"][0]["finishReason"] == wire


def test_model_falls_back_to_request() -> None:
    body = CODEC.response_from_hub(hub_response(model=""), {"model": "gemini-2.5-flash"})
    assert body["modelVersion"] == "gemini-2.5-flash"


def test_official_sdk_reads_the_emitted_response() -> None:
    body = CODEC.response_from_hub(hub_response(), {})
    parsed = types.GenerateContentResponse._from_response(response=body, kwargs={})
    assert parsed.text == "Done."
    calls = parsed.function_calls or []
    assert [(c.id, c.name, c.args) for c in calls] == [
        ("toolu_1", "f", {"x": [1, 2]}),
        ("toolu_2", "g", {}),
    ]
    parts = parsed.candidates[0].content.parts  # type: ignore[index, union-attr]
    assert parts[0].thought is True and parts[0].thought_signature == b"signature"
    assert parsed.usage_metadata is not None
    assert parsed.usage_metadata.thoughts_token_count == 3
    assert parsed.candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]


def test_emitted_image_part() -> None:
    response = hub_response(
        content=[{"type": "image", "media_type": "image/png", "data": "iVBO"}],
        reasoning=[],
        tool_calls=[],
        finish_reason="stop",
    )
    parts = CODEC.response_from_hub(response, {})["candidates"][0]["content"]["parts"]
    assert parts == [{"inlineData": {"mimeType": "image/png", "data": "iVBO"}}]
    back = CODEC.response_to_hub(CODEC.response_from_hub(response, {}))
    assert back["content"] == response["content"]
