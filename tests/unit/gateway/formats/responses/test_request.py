"""Requests: a Responses body → hub (client side) and hub → a Responses body (upstream side)."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.codec import codec_for
from gateway.formats.responses import CODEC
from tests.unit.gateway.formats.responses.support import fixture_json

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_codec_is_registered() -> None:
    assert codec_for("responses") is CODEC
    assert CODEC.dialect == "responses"
    assert CODEC.upstream_headers({}) == {}


# Responses → hub ----------------------------------------------------------------------------


def test_codex_request_to_hub() -> None:
    request = CODEC.request_to_hub(fixture_json("codex_request.json"))
    messages = request["messages"]
    assert [m["role"] for m in messages] == [
        "system",  # instructions
        "system",  # developer message
        "user",
        "user",
        "assistant",  # reasoning + exec_command
        "tool",
        "assistant",  # reasoning + two parallel calls (apply_patch custom call dropped)
        "tool",
        "tool",
        "assistant",  # the final message
        "user",
    ]
    assert messages[0]["content"][0]["text"].startswith("You are Codex")
    assert messages[1]["content"][0]["text"].startswith("<permissions instructions>")
    first = messages[4]
    assert first["reasoning"] == [
        {
            "text": "**Locating the failing test**\n\nI should run the single test first to see "
            "the traceback.",
            "signature": "gAAAAABo_first_reasoning_blob_9f2c",
        }
    ]
    assert first["tool_calls"] == [
        {
            "id": "call_Qm1Dk2aXc9",
            "name": "exec_command",
            "arguments": '{"cmd":"pytest tests/test_dates.py -k test_parse_date -q",'
            '"workdir":"/home/dev/project","yield_time_ms":10000}',
        }
    ]
    assert first["content"] == []
    assert messages[5]["tool_call_id"] == "call_Qm1Dk2aXc9"
    assert messages[5]["name"] == "exec_command"
    assert messages[5]["content"][0]["text"].startswith("Exit code: 1")
    parallel = messages[6]
    assert parallel["reasoning"] == [
        {"text": "", "signature": "gAAAAABo_second_reasoning_blob_71ab"}
    ]
    assert [c["id"] for c in parallel["tool_calls"]] == ["call_Zr8Lw0pTn4", "call_Hy3Vb7sKe1"]
    assert [m["tool_call_id"] for m in messages[7:9]] == ["call_Zr8Lw0pTn4", "call_Hy3Vb7sKe1"]
    assert messages[9]["content"] == [
        {
            "type": "text",
            "text": "parse_date now returns None for impossible dates; the test passes.",
        }
    ]
    # function tools only: the custom apply_patch grammar tool and web_search are dropped
    assert [t["name"] for t in request["tools"]] == ["exec_command", "write_stdin", "update_plan"]
    assert request["tools"][0]["strict"] is False
    assert request["tools"][0]["parameters"]["required"] == ["cmd"]
    assert request["tool_choice"] == "auto"
    assert request["parallel_tool_calls"] is True
    assert request["reasoning"] == {"enabled": True, "effort": "medium", "summary": "auto"}
    assert request["stream"] is True
    assert request["model"] == "gpt-5-codex"
    for dropped in ("store", "include", "prompt_cache_key", "text"):
        assert dropped not in request


def test_multimodal_request_to_hub() -> None:
    request = CODEC.request_to_hub(fixture_json("request_multimodal.json"))
    assert request["messages"][0] == {
        "role": "system",
        "content": [{"type": "text", "text": "Answer in JSON."}],
    }
    user = request["messages"][1]
    assert user["role"] == "user"
    assert user["content"] == [
        {"type": "text", "text": "What is in these files?"},
        {"type": "image", "media_type": "image/png", "data": PNG, "detail": "high"},
        {"type": "image", "url": "https://example.com/cat.jpg"},  # detail auto = default
        {
            "type": "document",
            "media_type": "application/pdf",
            "data": "JVBERi0xLjQKJcfsj6IK",
            "title": "report.pdf",
        },
        {"type": "document", "url": "https://example.com/spec.pdf"},
        # file_id: stored at OpenAI, dropped
    ]
    assert len(request["messages"]) == 2  # item_reference dropped
    assert request["response_format"] == {
        "type": "json_schema",
        "name": "file_summary",
        "strict": True,
        "schema": fixture_json("request_multimodal.json")["text"]["format"]["schema"],
    }
    assert request["tools"] == [
        {
            "name": "lookup_file",
            "description": "Looks a file up by name.",
            "parameters": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            },
        }
    ]
    assert request["tool_choice"] == {"name": "lookup_file"}
    assert request["max_tokens"] == 800
    assert request["temperature"] == 0.2
    assert request["top_p"] == 0.9
    assert request["metadata"] == {"session": "s-42"}
    assert request["user"] == "user-7"
    assert "previous_response_id" not in request


def test_string_input_and_plain_messages() -> None:
    request = CODEC.request_to_hub({"model": "m", "input": "Hi there"})
    assert request == {
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}],
    }
    easy = CODEC.request_to_hub(
        {
            "input": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi!"},
                {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
                {"role": "user", "content": "Bye"},
            ]
        }
    )
    assert easy["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Hi!"}, {"type": "text", "text": "No."}],
        },
        {"role": "user", "content": [{"type": "text", "text": "Bye"}]},
    ]


def test_tool_output_as_content_list_and_unknown_call() -> None:
    request = CODEC.request_to_hub(
        {
            "input": [
                {
                    "type": "function_call_output",
                    "call_id": "call_x",
                    "output": [
                        {"type": "input_text", "text": "see image"},
                        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                    ],
                }
            ]
        }
    )
    assert request["messages"] == [
        {
            "role": "tool",
            "tool_call_id": "call_x",  # no name: the call is not in this request
            "content": [
                {"type": "text", "text": "see image"},
                {"type": "image", "media_type": "image/png", "data": PNG},
            ],
        }
    ]


def test_reasoning_item_variants() -> None:
    request = CODEC.request_to_hub(
        {
            "input": [
                {
                    "type": "reasoning",
                    "id": "rs_1",
                    "summary": [],
                    "content": [{"type": "reasoning_text", "text": "raw thoughts"}],
                },
                {"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": None},
            ]
        }
    )
    assert request["messages"] == [
        {
            "role": "assistant",
            "content": [],
            "reasoning": [{"text": "raw thoughts", "id": "rs_1"}, {"text": "", "id": "rs_2"}],
        }
    ]


def test_settings_variants() -> None:
    def parse(**body: Any) -> hub.Request:
        return CODEC.request_to_hub({"input": [], **body})

    assert parse(reasoning={"effort": "none"})["reasoning"] == {"enabled": False, "effort": "none"}
    assert parse(reasoning={"generate_summary": "concise"})["reasoning"] == {"summary": "concise"}
    assert "reasoning" not in parse(reasoning={})
    assert parse(text={"format": {"type": "json_object"}})["response_format"] == {
        "type": "json_object"
    }
    assert parse(text={"format": {"type": "text"}})["response_format"] == {"type": "text"}
    assert "response_format" not in parse(text={"verbosity": "high"})
    assert parse(tool_choice="required")["tool_choice"] == "required"
    assert (
        parse(tool_choice={"type": "allowed_tools", "mode": "required", "tools": []})["tool_choice"]
        == "required"
    )
    assert "tool_choice" not in parse(tool_choice={"type": "web_search"})
    assert parse(tools=[{"type": "function", "name": "f", "parameters": None}])["tools"] == [
        {"name": "f", "parameters": {"type": "object"}}
    ]
    odd = parse(temperature=True, max_output_tokens="9", top_p=1, stream="yes", metadata={})
    assert odd == {"messages": [], "top_p": 1.0}


def test_garbage_never_raises() -> None:
    body: dict[str, Any] = {
        "model": 3,
        "instructions": ["not", {"type": "message", "role": "developer", "content": "x"}],
        "input": [
            None,
            1,
            "x",
            {"type": "message"},
            {"type": "function_call", "name": 1},
            {"type": "function_call_output"},
            {"role": "user", "content": 5},
            {
                "role": "user",
                "content": [
                    None,
                    {"type": "input_image"},
                    {"type": "input_file"},
                    {"type": "input_audio"},
                ],
            },
        ],
        "tools": "all",
        "tool_choice": 7,
        "reasoning": "high",
        "text": {"format": {"type": "yaml"}},
    }
    request = CODEC.request_to_hub(body)
    assert request["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "x"}]},
        {"role": "user", "content": []},
        {"role": "user", "content": []},
    ]


# hub → Responses ----------------------------------------------------------------------------


def _conversation() -> hub.Request:
    return {
        "model": "gpt-5",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "You are terse."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather?"},
                    {"type": "image", "media_type": "image/jpeg", "data": "AAAA"},
                    {"type": "image", "url": "https://x.test/a.png", "detail": "low"},
                    {"type": "document", "media_type": "application/pdf", "data": "JVBER"},
                    {"type": "document", "url": "https://x.test/a.pdf", "title": "a.pdf"},
                    {"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}},
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "Checking."}],
                "reasoning": [
                    {"text": "plan", "signature": "sig-1", "id": "rs_keep_not"},
                    {"text": "unsigned thoughts"},
                    {"text": "", "redacted": "opaque"},
                ],
                "tool_calls": [
                    {"id": "toolu_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
                    {"id": "toolu_2", "name": "get_time", "arguments": "{}", "signature": "g"},
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "toolu_1",
                "name": "get_weather",
                "content": [{"type": "text", "text": "sunny"}],
                "is_error": False,
            },
            {"role": "tool", "tool_call_id": "toolu_2", "content": [], "is_error": True},
            {"role": "system", "content": [{"type": "text", "text": "Now answer."}]},
        ],
        "tools": [
            {"name": "get_weather", "parameters": {"type": "object"}, "description": "Weather."},
            {"name": "get_time", "parameters": {"type": "object"}, "strict": True},
        ],
        "tool_choice": {"name": "get_weather"},
        "parallel_tool_calls": False,
        "max_tokens": 4,
        "temperature": 0.5,
        "top_p": 0.8,
        "top_k": 40,
        "stop": ["END"],
        "stream": True,
        "include_usage": True,
        "response_format": {"type": "json_schema", "schema": {"type": "object"}},
        "reasoning": {"enabled": True, "budget_tokens": 10000},
        "metadata": {"user_id": "u1", "n": 3},
        "user": "u1",
        "extended_context": True,
    }


def test_hub_to_responses_request() -> None:
    body = CODEC.request_from_hub(_conversation())
    assert body == {
        "model": "gpt-5",
        "instructions": "You are terse.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Weather?"},
                    {
                        "type": "input_image",
                        "image_url": "data:image/jpeg;base64,AAAA",
                        "detail": "auto",
                    },
                    {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "low"},
                    {
                        "type": "input_file",
                        "filename": "document.pdf",
                        "file_data": "data:application/pdf;base64,JVBER",
                    },
                    {"type": "input_file", "file_url": "https://x.test/a.pdf", "filename": "a.pdf"},
                    {"type": "input_text", "text": "cached"},
                ],
            },
            # only signed reasoning can be replayed; no item id with store=false
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "plan"}],
                "encrypted_content": "sig-1",
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Checking."}],
            },
            {
                "type": "function_call",
                "call_id": "toolu_1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            },
            {"type": "function_call", "call_id": "toolu_2", "name": "get_time", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "toolu_1", "output": "sunny"},
            {"type": "function_call_output", "call_id": "toolu_2", "output": "Error: "},
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "Now answer."}],
            },
        ],
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Weather.",
                "parameters": {"type": "object"},
                "strict": False,
            },
            {
                "type": "function",
                "name": "get_time",
                "parameters": {"type": "object"},
                "strict": True,
            },
        ],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": False,
        "max_output_tokens": 16,  # the API's minimum
        "temperature": 0.5,
        "top_p": 0.8,
        "text": {
            "format": {"type": "json_schema", "name": "response", "schema": {"type": "object"}}
        },
        "reasoning": {"effort": "high"},  # 10k budget
        "user": "u1",  # metadata is not sent: nothing is stored upstream
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "stream": True,
    }


def test_instructions_only_for_a_plain_leading_system_message() -> None:
    body = CODEC.request_from_hub(
        {
            "messages": [
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                },
                {"role": "user", "content": [{"type": "text", "text": "q"}]},
            ]
        }
    )
    assert "instructions" not in body
    assert body["input"][0] == {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
    }
    assert body["store"] is False
    assert "include" not in body  # no reasoning asked for, none in history
    assert "stream" not in body


def test_encrypted_reasoning_is_asked_only_when_reasoning_is_on() -> None:
    def include(reasoning: hub.ReasoningConfig) -> bool:
        return "include" in CODEC.request_from_hub({"messages": [], "reasoning": reasoning})

    assert include({"effort": "low"})
    assert include({"enabled": True})
    assert include({"summary": "auto", "enabled": True})
    assert not include({"enabled": False})
    assert not include({"enabled": False, "effort": "none"})
    body = CODEC.request_from_hub({"messages": [], "reasoning": {"enabled": False}})
    assert "reasoning" not in body  # "none" is not understood by older models


def test_reasoning_effort_from_budget() -> None:
    def effort(budget: int) -> str:
        body = CODEC.request_from_hub(
            {"messages": [], "reasoning": {"enabled": True, "budget_tokens": budget}}
        )
        result: str = body["reasoning"]["effort"]
        return result

    budgets = (1024, 2048, 4000, 8192, 10000, 31999)
    assert [effort(b) for b in budgets] == ["low", "low", "medium", "medium", "high", "high"]


def test_tool_output_with_parts_and_json_object_format() -> None:
    body = CODEC.request_from_hub(
        {
            "messages": [
                {
                    "role": "tool",
                    "tool_call_id": "c",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "image", "url": "https://x.test/i.png"},
                        {"type": "image"},  # nothing to send: dropped
                        {"type": "document"},
                    ],
                    "is_error": True,
                }
            ],
            "response_format": {"type": "json_object"},
            "tool_choice": "none",
        }
    )
    assert body["input"] == [
        {
            "type": "function_call_output",
            "call_id": "c",
            "output": [
                {"type": "input_text", "text": "Error: "},
                {"type": "input_text", "text": "a"},
                {"type": "input_image", "image_url": "https://x.test/i.png", "detail": "auto"},
            ],
        }
    ]
    assert body["text"] == {"format": {"type": "json_object"}}
    assert body["tool_choice"] == "none"


def test_codex_request_survives_hub_and_back() -> None:
    """What a Responses upstream receives for a Codex request routed through the hub."""
    original = fixture_json("codex_request.json")
    body = CODEC.request_from_hub(CODEC.request_to_hub(original))
    kept = [i for i in original["input"] if not i["type"].startswith("custom_tool_call")]
    assert body["instructions"] == original["instructions"]
    assert [i["type"] for i in body["input"]] == [i["type"] for i in kept]
    for ours, theirs in zip(body["input"], kept, strict=True):
        if theirs["type"] == "reasoning":
            assert ours["encrypted_content"] == theirs["encrypted_content"]
            assert ours["summary"] == theirs["summary"]
        elif theirs["type"] == "function_call":
            assert (ours["call_id"], ours["name"], ours["arguments"]) == (
                theirs["call_id"],
                theirs["name"],
                theirs["arguments"],
            )
        elif theirs["type"] == "function_call_output":
            assert ours == theirs
        else:
            assert ours["role"] == theirs["role"]
            assert ours["content"] == theirs["content"]
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert [t["name"] for t in body["tools"]] == ["exec_command", "write_stdin", "update_plan"]
