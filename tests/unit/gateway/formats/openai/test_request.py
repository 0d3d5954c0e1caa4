"""Requests: OpenAI Chat body → hub → OpenAI Chat body, field by field."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

from gateway.formats import hub
from gateway.formats.openai_chat import CODEC
from tests.unit.gateway.formats.openai.helpers import fixture_json

to_hub = CODEC.request_to_hub
from_hub = CODEC.request_from_hub


def _text(text: str) -> hub.TextPart:
    return {"type": "text", "text": text}


# --- client body → hub -----------------------------------------------------------------------


def test_agent_request_to_hub() -> None:
    body = fixture_json("request_agent.json")
    request = to_hub(body)
    messages = request["messages"]
    assert [m["role"] for m in messages] == [
        "system", "system", "user", "assistant", "tool", "tool", "assistant", "tool", "user",
    ]  # fmt: skip
    assert messages[0]["content"] == [_text(body["messages"][0]["content"])]
    assert messages[2]["content"] == [_text(body["messages"][2]["content"][0]["text"])]
    first_turn = messages[3]
    assert first_turn["content"] == [_text("I'll look at the failing test and the parser first.")]
    assert first_turn["tool_calls"] == [
        {
            "id": call["id"],
            "name": call["function"]["name"],
            "arguments": call["function"]["arguments"],
        }
        for call in body["messages"][3]["tool_calls"]
    ]
    # Tool results keep their call id and gain the function's name (Gemini needs it).
    assert messages[4] == {
        "role": "tool",
        "content": [_text(body["messages"][4]["content"])],
        "tool_call_id": "call_VhXa8oN3c2nTqL1kP0dJ9r4s",
        "name": "read",
    }
    assert messages[5]["name"] == "grep"
    assert messages[6]["content"] == [] and messages[6]["tool_calls"][0]["name"] == "edit"
    assert messages[7]["content"] == [_text("Edit applied successfully.")]  # text-part content
    tools = request["tools"]
    assert [t["name"] for t in tools] == ["bash", "read", "edit", "grep", "todowrite"]
    assert tools[0]["parameters"] == body["tools"][0]["function"]["parameters"]
    assert tools[0]["description"].startswith("Executes a given bash command")
    assert "strict" not in tools[0] and tools[4]["strict"] is False
    assert request["tool_choice"] == "auto"
    assert request["parallel_tool_calls"] is True
    assert request["max_tokens"] == 32000
    assert request["temperature"] == 0.0 and request["top_p"] == 1.0
    assert request["stream"] is True and request["include_usage"] is True
    assert request["user"] == "session-4f1c"
    assert request["model"] == "gpt-4.1"


def test_image_and_file_parts_to_hub() -> None:
    request = to_hub(fixture_json("request_image.json"))
    system, user = request["messages"]
    assert system == {
        "role": "system",
        "content": [_text("Describe images precisely and briefly.")],
    }
    text, inline, linked, document = user["content"]  # input_audio is dropped
    parts = fixture_json("request_image.json")["messages"][1]["content"]
    assert text["type"] == "text"
    assert inline == {
        "type": "image",
        "media_type": "image/png",
        "data": parts[1]["image_url"]["url"].removeprefix("data:image/png;base64,"),
        "detail": "low",
    }
    assert linked["type"] == "image" and linked["url"].startswith("https://upload.wikimedia.org/")
    assert "data" not in linked
    assert document == {
        "type": "document",
        "media_type": "application/pdf",
        "data": parts[3]["file"]["file_data"].removeprefix("data:application/pdf;base64,"),
        "title": "invoice.pdf",
    }
    assert request["max_tokens"] == 300  # max_completion_tokens


def test_json_schema_request_to_hub() -> None:
    body = fixture_json("request_json_schema.json")
    request = to_hub(body)
    assert request["response_format"] == {
        "type": "json_schema",
        "name": "math_reasoning",
        "schema": body["response_format"]["json_schema"]["schema"],
        "strict": True,
    }
    assert request["reasoning"] == {"effort": "low"}
    assert request["stop"] == ["\n\n\n"]  # a single string becomes a list
    assert request["metadata"] == {"purpose": "tutoring"}


def test_legacy_functions_become_tools() -> None:
    request = to_hub(fixture_json("request_legacy_functions.json"))
    _, assistant, result = request["messages"]
    (call,) = assistant["tool_calls"]
    assert call["name"] == "get_current_weather"
    assert call["arguments"] == '{"location": "Boston, MA"}'
    assert call["id"].startswith("call_")
    # The function message answers the call made just before it, by generated id.
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    assert result["name"] == "get_current_weather"
    assert request["tools"][0]["name"] == "get_current_weather"
    assert request["tools"][0]["parameters"]["required"] == ["location"]
    assert request["tool_choice"] == "auto"


def test_reasoning_content_and_named_tool_choice() -> None:
    request = to_hub(fixture_json("request_deepseek_replay.json"))
    assistant = request["messages"][1]
    assert assistant["reasoning"] == [
        {
            "text": "The user asks for tomorrow's date. I need today's date first, "
            "so I will call get_date."
        }
    ]
    assert "signature" not in assistant["reasoning"][0]
    assert request["tool_choice"] == {"name": "get_date"}
    assert request["reasoning"] == {"effort": "high"}
    assert "include_usage" not in request


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"max_tokens": 10}, {"max_tokens": 10}),
        ({"max_tokens": 10, "max_completion_tokens": 20}, {"max_tokens": 20}),
        ({"max_tokens": True}, {}),
        ({"stop": ["a", "b", 3]}, {"stop": ["a", "b"]}),
        ({"stop": None}, {}),
        ({"temperature": 1}, {"temperature": 1.0}),
        ({"top_k": 40}, {"top_k": 40}),
        ({"reasoning_effort": "none"}, {"reasoning": {"enabled": False}}),
        ({"reasoning_effort": "minimal"}, {"reasoning": {"effort": "minimal"}}),
        ({"tool_choice": "required"}, {"tool_choice": "required"}),
        ({"tool_choice": "any"}, {}),
        ({"function_call": {"name": "f"}}, {"tool_choice": {"name": "f"}}),
        ({"function_call": "none"}, {"tool_choice": "none"}),
        (
            {"response_format": {"type": "json_object"}},
            {"response_format": {"type": "json_object"}},
        ),
        ({"response_format": {"type": "text"}}, {"response_format": {"type": "text"}}),
        ({"stream": False}, {"stream": False}),
        ({"stream_options": {"include_usage": False}}, {"include_usage": False}),
        ({"n": 2, "seed": 1, "logprobs": True, "frequency_penalty": 0.5}, {}),
    ],
)
def test_scalar_fields_to_hub(body: dict[str, Any], expected: dict[str, Any]) -> None:
    request = dict(to_hub({"model": "m", "messages": [], **body}))
    request.pop("model")
    request.pop("messages")
    assert request == expected


def test_message_shapes_to_hub() -> None:
    request = to_hub(
        {
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
                {"role": "user", "content": ["bare", {"type": "text", "text": "part"}]},
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": "https://x/y.png"}],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "refusal", "refusal": "no"},
                    ],
                    "refusal": "ignored",
                    "reasoning": "openrouter-style reasoning",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": {"x": 1}},
                        },
                        {"id": "c2", "type": "custom", "custom": {"name": "g", "input": "raw"}},
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "ok"}]},
                {"role": "tool", "tool_call_id": "unknown", "content": "?"},
                {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc"}}]},
                {"role": "user", "content": [{"type": "file", "file": {"file_data": "JVBERi0="}}]},
                {"role": "user", "content": None},
                {"role": "nonsense", "content": "dropped"},
                "not a message",
            ]
        }
    )
    messages = request["messages"]
    assert messages[0] == {"role": "system", "content": [_text("dev")]}
    assert messages[1]["content"] == [_text("bare"), _text("part")]
    assert messages[2]["content"] == [{"type": "image", "url": "https://x/y.png"}]
    assistant = messages[3]
    assert assistant["content"] == [_text("a")]
    assert assistant["reasoning"] == [{"text": "openrouter-style reasoning"}]
    assert assistant["tool_calls"] == [{"id": "c1", "name": "f", "arguments": '{"x":1}'}]
    assert messages[4]["name"] == "f"
    assert "name" not in messages[5]
    assert messages[6]["content"] == []  # an uploaded file id means nothing elsewhere
    assert messages[7]["content"] == [
        {"type": "document", "media_type": "application/pdf", "data": "JVBERi0="}
    ]
    assert messages[8]["content"] == []
    assert len(messages) == 9


def test_tools_without_parameters_get_an_object_schema() -> None:
    request = to_hub(
        {
            "messages": [],
            "tools": [
                {"type": "function", "function": {"name": "ping"}},
                {"type": "custom", "custom": {"name": "grammar_tool"}},
            ],
        }
    )
    assert request["tools"] == [{"name": "ping", "parameters": {"type": "object"}}]


# --- hub → upstream body ---------------------------------------------------------------------


def test_agent_request_survives_a_round_trip() -> None:
    body = fixture_json("request_agent.json")
    again = from_hub(to_hub(body))
    assert again["messages"][0] == body["messages"][0]
    assert again["messages"][2] == {
        "role": "user",
        "content": body["messages"][2]["content"][0]["text"],
    }
    assert again["messages"][3] == body["messages"][3]
    assert again["messages"][4] == body["messages"][4]
    assert again["messages"][6] == body["messages"][6]
    assert again["messages"][7]["content"] == "Edit applied successfully."
    assert again["tools"] == body["tools"]
    for key in ("tool_choice", "parallel_tool_calls", "max_tokens", "temperature", "top_p", "user"):
        assert again[key] == body[key], key
    assert again["stream"] is True
    assert again["stream_options"] == {"include_usage": True}


def test_upstream_stream_always_asks_for_usage() -> None:
    body = from_hub({"model": "m", "messages": [], "stream": True, "include_usage": False})
    assert body["stream_options"] == {"include_usage": True}
    body = from_hub({"model": "m", "messages": [], "stream": False})
    assert body["stream"] is False and "stream_options" not in body


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("gpt-4o", "max_tokens"),
        ("gpt-4.1-mini", "max_tokens"),
        ("deepseek-chat", "max_tokens"),
        ("llama3.1:8b", "max_tokens"),
        ("gpt-oss-120b", "max_tokens"),
        ("o1", "max_completion_tokens"),
        ("o3-mini", "max_completion_tokens"),
        ("o4-mini-2025-04-16", "max_completion_tokens"),
        ("gpt-5", "max_completion_tokens"),
        ("gpt-5.1-codex", "max_completion_tokens"),
        ("openai/gpt-5-mini", "max_completion_tokens"),
    ],
)
def test_max_tokens_name_follows_the_model_family(model: str, key: str) -> None:
    body = from_hub({"model": model, "messages": [], "max_tokens": 100})
    assert body[key] == 100
    assert {"max_tokens", "max_completion_tokens"} - {key} - set(body) == {
        "max_tokens",
        "max_completion_tokens",
    } - {key}


def test_images_documents_and_system_from_hub() -> None:
    request: hub.Request = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "system",
                "content": [_text("one"), {**_text("two"), "cache_control": {"type": "ephemeral"}}],
            },  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [
                    _text("look"),
                    {"type": "image", "media_type": "image/jpeg", "data": "AAAA", "detail": "high"},
                    {"type": "image", "url": "https://example.com/a.png"},
                    {
                        "type": "document",
                        "media_type": "application/pdf",
                        "data": "JVBE",
                        "title": "a.pdf",
                    },
                    {"type": "document", "media_type": "application/pdf", "data": "JVBE"},
                    {"type": "document", "url": "https://example.com/b.pdf"},
                ],
            },
            {"role": "user", "content": []},
        ],
    }
    body = from_hub(request)
    assert body["messages"][0] == {"role": "system", "content": "one\n\ntwo"}
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "look"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64,AAAA", "detail": "high"},
        },
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {
            "type": "file",
            "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
        },
        {
            "type": "file",
            "file": {"filename": "document.pdf", "file_data": "data:application/pdf;base64,JVBE"},
        },
    ]  # a document known only by URL has no Chat Completions form
    assert body["messages"][2] == {"role": "user", "content": ""}
    back = to_hub(body)["messages"][1]["content"]
    assert back[:4] == request["messages"][1]["content"][:4]
    assert back[4]["title"] == "document.pdf"  # type: ignore[typeddict-item]


def test_assistant_and_tool_messages_from_hub() -> None:
    request: hub.Request = {
        "model": "deepseek-v4-pro",
        "messages": [
            {"role": "user", "content": [_text("go")]},
            {
                "role": "assistant",
                "content": [],
                "reasoning": [
                    {"text": "first ", "signature": "sig-a"},
                    {"text": "", "redacted": "opaque"},
                    {"text": "second"},
                ],
                "tool_calls": [
                    {
                        "id": "toolu_01",
                        "name": "read",
                        "arguments": '{"path":"a"}',
                        "signature": "g",
                    },
                    {"id": "toolu_02", "name": "screenshot", "arguments": ""},
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "toolu_01",
                "name": "read",
                "content": [_text("body")],
            },
            {
                "role": "tool",
                "tool_call_id": "toolu_02",
                "is_error": True,
                "content": [
                    _text("partial"),
                    {"type": "image", "media_type": "image/png", "data": "iVBO"},
                ],
            },
            {
                "role": "assistant",
                "content": [_text("Done.")],
                "reasoning": [{"text": "", "signature": "s"}],
            },
            {"role": "assistant", "content": []},
        ],
    }
    messages = from_hub(request)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "reasoning_content": "first second",
        "tool_calls": [
            {
                "id": "toolu_01",
                "type": "function",
                "function": {"name": "read", "arguments": '{"path":"a"}'},
            },
            {
                "id": "toolu_02",
                "type": "function",
                "function": {"name": "screenshot", "arguments": "{}"},
            },
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "toolu_01", "content": "body"}
    assert messages[3] == {"role": "tool", "tool_call_id": "toolu_02", "content": "Error: partial"}
    # The tool's image follows the run of tool messages as user content.
    assert messages[4] == {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}],
    }
    assert messages[5] == {"role": "assistant", "content": "Done."}  # signature-only: dropped
    assert messages[6] == {"role": "assistant", "content": ""}


def test_tools_and_options_from_hub() -> None:
    request: hub.Request = {
        "model": "o3",
        "messages": [],
        "tools": [
            {"name": "a", "description": "A.", "parameters": {"type": "object"}, "strict": True},
            {"name": "b", "parameters": {"type": "object", "properties": {}}},
        ],
        "tool_choice": {"name": "b"},
        "parallel_tool_calls": False,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "stop": ["1", "2", "3", "4", "5"],
        "response_format": {"type": "json_schema", "schema": {"type": "object"}},
        "reasoning": {"budget_tokens": 10000},
        "metadata": {"user_id": "u"},
        "user": "u-1",
        "extended_context": True,
    }
    body = from_hub(request)
    assert body == {
        "model": "o3",
        "messages": [],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "a",
                    "description": "A.",
                    "parameters": {"type": "object"},
                    "strict": True,
                },
            },
            {
                "type": "function",
                "function": {"name": "b", "parameters": {"type": "object", "properties": {}}},
            },
        ],
        "tool_choice": {"type": "function", "function": {"name": "b"}},
        "parallel_tool_calls": False,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["1", "2", "3", "4"],  # OpenAI takes four at most; top_k has no field
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": {"type": "object"}},
        },
        "reasoning_effort": "high",
        "user": "u-1",
    }  # metadata needs store=true upstream, extended_context has no OpenAI form: both dropped


def test_tool_choice_and_parallel_need_tools() -> None:
    body = from_hub(
        {"model": "m", "messages": [], "tool_choice": "none", "parallel_tool_calls": True}
    )
    assert "tool_choice" not in body and "parallel_tool_calls" not in body
    body = from_hub(
        {
            "model": "m",
            "messages": [],
            "tools": [{"name": "t", "parameters": {}}],
            "tool_choice": "any",
        }
    )
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("model", "reasoning", "expected"),
    [
        ("gpt-4o", {"effort": "medium"}, "medium"),
        ("gpt-4o", {"budget_tokens": 4000}, None),  # not a reasoning model: would 400
        ("o4-mini", {"budget_tokens": 1024}, "low"),
        ("o4-mini", {"budget_tokens": 4000}, "medium"),
        ("gpt-5", {"budget_tokens": 32000}, "high"),
        ("gpt-5", {"enabled": False}, None),
        ("gpt-5", {"enabled": False, "effort": "low"}, None),
        ("gpt-5", {"enabled": True}, None),
        ("deepseek-v4-pro", {"effort": "max"}, "max"),
    ],
)
def test_reasoning_effort_from_hub(
    model: str, reasoning: hub.ReasoningConfig, expected: str | None
) -> None:
    body = from_hub({"model": model, "messages": [], "reasoning": reasoning})
    assert body.get("reasoning_effort") == expected


def test_json_object_and_text_formats_from_hub() -> None:
    assert from_hub({"messages": [], "response_format": {"type": "json_object"}})[
        "response_format"
    ] == {"type": "json_object"}
    assert from_hub({"messages": [], "response_format": {"type": "text"}})["response_format"] == {
        "type": "text"
    }
    assert from_hub({"messages": []}) == {"model": "", "messages": []}


def test_upstream_headers_are_empty() -> None:
    assert CODEC.upstream_headers({"messages": []}) == {}
    assert CODEC.dialect == "openai"


@pytest.mark.parametrize(
    "name",
    [
        "request_agent.json",
        "request_image.json",
        "request_json_schema.json",
        "request_legacy_functions.json",
        "request_deepseek_replay.json",
    ],
)
def test_emitted_bodies_are_what_the_sdk_itself_would_send(name: str) -> None:
    """Every top-level key we emit is a create() parameter of the official SDK, and the SDK
    sends our body unchanged."""
    body = from_hub(to_hub(fixture_json(name)))
    sent: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        return httpx2.Response(
            200,
            json={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [],
            },
        )

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="http://upstream.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    if body.get("stream"):
        client.chat.completions.create(**body).close()
    else:
        client.chat.completions.create(**body)
    (raw,) = sent
    assert json.loads(raw) == body
