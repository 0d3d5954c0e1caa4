"""Request bodies: Anthropic wire ⇄ hub, field by field, and the rules the API enforces."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.formats import hub
from gateway.formats.anthropic import CODEC
from gateway.formats.anthropic.request import MISSING_RESULT, PLACEHOLDER_TEXT
from tests.unit.gateway.formats.anthropic.support import fixture


def to_hub(body: dict[str, Any]) -> hub.Request:
    return CODEC.request_to_hub(body)


def to_wire(request: hub.Request) -> dict[str, Any]:
    return CODEC.request_from_hub(request)


def user(text: str) -> hub.Message:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


# Reading a Claude Code request ---------------------------------------------------------------


def test_claude_code_request_reads_into_the_hub() -> None:
    request = to_hub(fixture("claude_code_request.json"))
    assert request["model"] == "claude-sonnet-4-5-20250929"
    assert request["max_tokens"] == 32000
    assert request["stream"] is True
    assert request["temperature"] == 1.0
    assert request["user"].startswith("user_2f6b0c1e9d_account__session_")
    assert request["reasoning"] == {"enabled": True, "budget_tokens": 31999}
    # ten client tools; the web_search server tool is dropped
    assert [t["name"] for t in request["tools"]] == [
        "Task",
        "Bash",
        "Glob",
        "Grep",
        "Read",
        "Edit",
        "Write",
        "WebFetch",
        "TodoWrite",
        "NotebookEdit",
    ]
    assert request["tools"][8]["parameters"]["properties"]["todos"]["items"]["required"] == [
        "content",
        "status",
        "activeForm",
    ]
    roles = [m["role"] for m in request["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "tool", "user"]
    system = request["messages"][0]["content"]
    assert [p.get("cache_control") for p in system] == [{"type": "ephemeral"}] * 2
    first_turn = request["messages"][2]
    assert first_turn["reasoning"][0]["signature"].startswith("EqQB")
    assert first_turn["tool_calls"] == [
        {
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "Grep",
            "arguments": '{"pattern":"def test_parse_dates","output_mode":"files_with_matches"}',
        }
    ]
    assert first_turn["content"] == [{"type": "text", "text": "I'll find the failing test first."}]
    parallel = request["messages"][4]
    assert [c["name"] for c in parallel["tool_calls"]] == ["Read", "Bash"]
    read, bash = request["messages"][5], request["messages"][6]
    assert read["tool_call_id"] == "toolu_01Bq7Xr5xyz0000000000001" and read["name"] == "Read"
    assert "is_error" not in read
    assert bash["is_error"] is True and bash["name"] == "Bash"
    assert bash["content"][0]["text"].startswith("Exit code 1")
    last = request["messages"][7]["content"]
    assert last == [
        {
            "type": "text",
            "cache_control": {"type": "ephemeral"},
            "text": "<system-reminder>\nThe TodoWrite tool hasn't been used recently."
            "\n</system-reminder>",
        }
    ]


def test_claude_code_request_round_trips_to_an_equivalent_body() -> None:
    original = fixture("claude_code_request.json")
    body = to_wire(to_hub(original))
    assert body["system"] == original["system"]
    assert body["metadata"] == original["metadata"]
    assert body["thinking"] == original["thinking"]
    assert body["max_tokens"] == 32000 and body["stream"] is True
    assert body["tools"] == [t for t in original["tools"] if "type" not in t]
    assert len(body["messages"]) == len(original["messages"])
    for sent, got in zip(original["messages"], body["messages"], strict=True):
        assert sent["role"] == got["role"]
        assert [b["type"] for b in sent["content"]] == [b["type"] for b in got["content"]]
    results = body["messages"][4]["content"]
    assert results[0]["content"] == original["messages"][4]["content"][0]["content"][0]["text"]
    assert results[1]["is_error"] is True
    assert results[2] == original["messages"][4]["content"][2]
    assert to_hub(body) == {**to_hub(original), "tools": to_hub(original)["tools"]}


def test_count_tokens_body_reads_without_max_tokens() -> None:
    request = to_hub(fixture("count_tokens_request.json"))
    assert "max_tokens" not in request and "stream" not in request
    assert request["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "You are a scientist"}]},
        user("Hello, Claude"),
    ]
    assert request["tools"][0]["name"] == "get_weather"
    body = to_wire(request)
    assert body["system"] == "You are a scientist"
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello, Claude"}]}
    ]


def test_images_base64_and_url_keep_cache_control() -> None:
    original = fixture("image_request.json")
    parts = to_hub(original)["messages"][0]["content"]
    assert parts[0] == {
        "type": "image",
        "media_type": "image/png",
        "data": original["messages"][0]["content"][0]["source"]["data"],
    }
    assert parts[1] == {
        "type": "image",
        "cache_control": {"type": "ephemeral"},
        "url": original["messages"][0]["content"][1]["source"]["url"],
    }
    assert to_wire(to_hub(original))["messages"] == original["messages"]


def test_documents_pdf_text_and_url() -> None:
    original = fixture("document_request.json")
    parts = to_hub(original)["messages"][0]["content"]
    pdf, text, url = parts[0], parts[1], parts[2]
    assert pdf == {
        "type": "document",
        "media_type": "application/pdf",
        "title": "report.pdf",
        "cache_control": {"type": "ephemeral"},
        "data": original["messages"][0]["content"][0]["source"]["data"],
    }
    assert text["media_type"] == "text/plain" and text["title"] == "My Document"
    assert base64.b64decode(text["data"]).decode() == "The grass is green. The sky is blue."
    assert url == {
        "type": "document",
        "url": original["messages"][0]["content"][2]["source"]["url"],
    }
    blocks = to_wire(to_hub(original))["messages"][0]["content"]
    assert blocks[0] == original["messages"][0]["content"][0]
    # context and citations have no hub field: dropped
    assert blocks[1] == {
        "type": "document",
        "title": "My Document",
        "source": {
            "type": "text",
            "media_type": "text/plain",
            "data": "The grass is green. The sky is blue.",
        },
    }
    assert blocks[2] == original["messages"][0]["content"][2]


# Reading, field by field ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "choice", "parallel"),
    [
        ({"type": "auto"}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        ({"type": "tool", "name": "Bash"}, {"name": "Bash"}, None),
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
        ({"type": "any", "disable_parallel_tool_use": False}, "required", True),
    ],
)
def test_tool_choice_reads(wire: dict[str, Any], choice: Any, parallel: bool | None) -> None:
    request = to_hub({"messages": [], "tool_choice": wire})
    assert request["tool_choice"] == choice
    assert request.get("parallel_tool_calls") == parallel


@pytest.mark.parametrize(
    ("wire", "reasoning"),
    [
        (
            {"thinking": {"type": "enabled", "budget_tokens": 2048}},
            {"enabled": True, "budget_tokens": 2048},
        ),
        ({"thinking": {"type": "adaptive"}}, {"enabled": True}),
        (
            {
                "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"effort": "high"},
            },
            {"enabled": True, "effort": "high"},
        ),
        ({"thinking": {"type": "disabled"}}, {"enabled": False}),
        ({"output_config": {"effort": "low"}}, {"enabled": False, "effort": "low"}),
        ({}, None),
    ],
)
def test_thinking_reads(wire: dict[str, Any], reasoning: Any) -> None:
    assert to_hub({"messages": [], **wire}).get("reasoning") == reasoning


def test_structured_output_reads_both_spellings() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    current = {"output_config": {"format": {"type": "json_schema", "schema": schema}}}
    beta = {"output_format": {"type": "json_schema", "schema": schema}}
    for wire in (current, beta):
        fmt = to_hub({"messages": [], **wire})["response_format"]
        assert fmt == {"type": "json_schema", "schema": schema}


def test_sampling_stop_and_metadata_read() -> None:
    request = to_hub(
        {
            "messages": [],
            "temperature": 0,
            "top_p": 0.9,
            "top_k": 40,
            "stop_sequences": ["\n\nHuman:"],
            "metadata": {"user_id": "u-1"},
        }
    )
    assert request["temperature"] == 0.0 and isinstance(request["temperature"], float)
    assert request["top_p"] == 0.9 and request["top_k"] == 40
    assert request["stop"] == ["\n\nHuman:"] and request["user"] == "u-1"


def test_user_turn_mixing_results_and_text_becomes_tool_messages_then_user() -> None:
    body = {
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "a", "input": {}},
                    {"type": "tool_use", "id": "t2", "name": "b", "input": {"x": [1, 2]}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "also this"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [
                            {"type": "text", "text": "one"},
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/gif",
                                    "data": "R0lGOD",
                                },
                            },
                        ],
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "t2",
                        "cache_control": {"type": "ephemeral"},
                        "content": "two",
                    },
                ],
            },
        ]
    }
    messages = to_hub(body)["messages"]
    assert [m["role"] for m in messages] == ["assistant", "tool", "tool", "user"]
    assert messages[0]["tool_calls"][1]["arguments"] == '{"x":[1,2]}'
    assert messages[1]["content"][1] == {
        "type": "image",
        "media_type": "image/gif",
        "data": "R0lGOD",
    }
    assert messages[2]["content"] == [
        {"type": "text", "text": "two", "cache_control": {"type": "ephemeral"}}
    ]
    assert messages[3] == user("also this")
    # written back: one user turn, results first, the breakpoint back on the tool_result
    turn = to_wire(to_hub(body))["messages"][2]
    assert [b["type"] for b in turn["content"]] == ["tool_result", "tool_result", "text"]
    assert turn["content"][1] == {
        "type": "tool_result",
        "tool_use_id": "t2",
        "content": "two",
        "cache_control": {"type": "ephemeral"},
    }


def test_thinking_blocks_keep_order_and_redacted_data() -> None:
    body = {
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "a", "signature": "s1"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "thinking", "thinking": "b", "signature": "s2"},
                    {"type": "text", "text": "answer"},
                ],
            }
        ]
    }
    message = to_hub(body)["messages"][0]
    assert message["reasoning"] == [
        {"text": "a", "signature": "s1"},
        {"text": "", "redacted": "opaque"},
        {"text": "b", "signature": "s2"},
    ]
    wire = to_wire(to_hub(body))["messages"][1]["content"]
    assert wire == body["messages"][0]["content"]


def test_server_tool_blocks_and_unknown_blocks_are_dropped() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "search"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "server_tool_use",
                        "id": "srvtoolu_1",
                        "name": "web_search",
                        "input": {"query": "x"},
                    },
                    {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                    {"type": "text", "text": "found"},
                ],
            },
        ]
    }
    messages = to_hub(body)["messages"]
    assert messages[1] == {"role": "assistant", "content": [{"type": "text", "text": "found"}]}


# Writing: what the API requires ----------------------------------------------------------------


def test_max_tokens_default_and_required_fields() -> None:
    body = to_wire({"model": "claude-x", "messages": [user("hi")]})
    assert body == {
        "model": "claude-x",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }


def test_system_placement_and_developer_mid_conversation() -> None:
    body = to_wire(
        {
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "rules"}]},
                {
                    "role": "system",
                    "content": [
                        {"type": "text", "text": "more", "cache_control": {"type": "ephemeral"}},
                        {"type": "image", "url": "https://x/y.png"},
                    ],
                },
                user("hi"),
                {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
                {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
                user("why?"),
            ]
        }
    )
    assert body["system"] == [
        {"type": "text", "text": "rules"},
        {"type": "text", "text": "more", "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "text", "text": "System: be brief"}, {"type": "text", "text": "why?"}],
    }


def test_tool_messages_share_one_user_turn_and_roles_alternate() -> None:
    body = to_wire(
        {
            "messages": [
                user("weather?"),
                {
                    "role": "assistant",
                    "content": [],
                    "tool_calls": [
                        {"id": "c1", "name": "w", "arguments": '{"city":"Paris"}'},
                        {"id": "c2", "name": "w", "arguments": ""},
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": "c1",
                    "content": [{"type": "text", "text": "sun"}],
                },
                {"role": "tool", "tool_call_id": "c2", "content": [], "is_error": True},
                user("thanks"),
                user("and tomorrow?"),
            ]
        }
    )
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "w", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "c2", "name": "w", "input": {}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "sun"},
        {"type": "tool_result", "tool_use_id": "c2", "is_error": True},
        {"type": "text", "text": "thanks"},
        {"type": "text", "text": "and tomorrow?"},
    ]


def test_history_starting_with_assistant_gets_a_user_turn_first() -> None:
    body = to_wire(
        {
            "messages": [
                {"role": "assistant", "content": [{"type": "text", "text": "Hi!"}]},
                user("hello"),
            ]
        }
    )
    assert body["messages"][0] == {
        "role": "user",
        "content": [{"type": "text", "text": PLACEHOLDER_TEXT}],
    }
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    only_system = to_wire(
        {"messages": [{"role": "system", "content": [{"type": "text", "text": "s"}]}]}
    )
    assert only_system["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": PLACEHOLDER_TEXT}]}
    ]


def test_empty_text_is_dropped_and_empty_turns_vanish() -> None:
    body = to_wire(
        {
            "messages": [
                user("a"),
                {"role": "assistant", "content": [{"type": "text", "text": "  "}]},
                user("b"),
            ]
        }
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]


def test_unsigned_reasoning_is_dropped_redacted_kept() -> None:
    body = to_wire(
        {
            "messages": [
                user("q"),
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "a"}],
                    "reasoning": [
                        {"text": "from reasoning_content"},
                        {"text": "", "redacted": "r"},
                        {"text": "signed", "signature": "sig"},
                    ],
                },
            ]
        }
    )
    assert body["messages"][1]["content"] == [
        {"type": "redacted_thinking", "data": "r"},
        {"type": "thinking", "thinking": "signed", "signature": "sig"},
        {"type": "text", "text": "a"},
    ]


def test_unanswered_tool_calls_get_a_result_and_orphans_become_text() -> None:
    body = to_wire(
        {
            "messages": [
                user("go"),
                {
                    "role": "assistant",
                    "content": [],
                    "tool_calls": [
                        {"id": "a", "name": "f", "arguments": "{}"},
                        {"id": "b", "name": "f", "arguments": "{}"},
                    ],
                },
                {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "B"}]},
                {
                    "role": "tool",
                    "tool_call_id": "zzz",
                    "content": [{"type": "text", "text": "lost"}],
                    "is_error": True,
                },
            ]
        }
    )
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "a", "content": MISSING_RESULT},
        {"type": "tool_result", "tool_use_id": "b", "content": "B"},
        {"type": "text", "text": "Tool error (zzz): lost"},
    ]


@pytest.mark.parametrize(
    ("choice", "parallel", "wire"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", False, {"type": "none"}),
        ({"name": "f"}, None, {"type": "tool", "name": "f"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        ({"name": "f"}, True, {"type": "tool", "name": "f", "disable_parallel_tool_use": False}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tool_choice_writes(choice: Any, parallel: bool | None, wire: dict[str, Any]) -> None:
    request: hub.Request = {
        "messages": [user("x")],
        "tools": [{"name": "f", "parameters": {"type": "object"}}],
    }
    if choice is not None:
        request["tool_choice"] = choice
    if parallel is not None:
        request["parallel_tool_calls"] = parallel
    assert to_wire(request)["tool_choice"] == wire


def test_tool_choice_without_tools_is_not_sent() -> None:
    assert "tool_choice" not in to_wire({"messages": [user("x")], "tool_choice": "required"})


def test_tools_schema_is_always_an_object_and_strict_kept() -> None:
    tools = to_wire(
        {
            "messages": [user("x")],
            "tools": [
                {"name": "a", "parameters": {}},
                {
                    "name": "b",
                    "description": "B",
                    "parameters": {"properties": {"q": {"type": "string"}}},
                    "strict": True,
                },
            ],
        }
    )["tools"]
    assert tools == [
        {"name": "a", "input_schema": {"type": "object"}},
        {
            "name": "b",
            "description": "B",
            "strict": True,
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        },
    ]


@pytest.mark.parametrize(
    ("effort", "budget"), [("minimal", 1024), ("low", 1024), ("medium", 8192), ("high", 24576)]
)
def test_effort_maps_to_a_budget_on_manual_models(effort: str, budget: int) -> None:
    body = to_wire(
        {
            "model": "claude-sonnet-4-5",
            "messages": [user("x")],
            "max_tokens": 100000,
            "reasoning": {"effort": effort},
        }
    )
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert "output_config" not in body


def test_budget_raises_max_tokens_and_has_a_floor() -> None:
    body = to_wire(
        {
            "model": "claude-sonnet-4-5",
            "messages": [user("x")],
            "max_tokens": 1000,
            "reasoning": {"enabled": True, "budget_tokens": 8000},
        }
    )
    assert body["thinking"]["budget_tokens"] == 8000 and body["max_tokens"] == 8000 + 4096
    body = to_wire(
        {"model": "claude-sonnet-4-5", "messages": [user("x")], "reasoning": {"budget_tokens": 200}}
    )
    assert body["thinking"]["budget_tokens"] == 1024 and body["max_tokens"] == 4096
    off = to_wire(
        {"model": "claude-sonnet-4-5", "messages": [user("x")], "reasoning": {"budget_tokens": 0}}
    )
    assert "thinking" not in off


@pytest.mark.parametrize(
    ("model", "reasoning", "thinking", "effort"),
    [
        ("claude-opus-4-7", {"effort": "high"}, {"type": "adaptive"}, "high"),
        (
            "claude-opus-4-7",
            {"enabled": True, "budget_tokens": 30000},
            {"type": "adaptive"},
            "high",
        ),
        ("claude-opus-4-7", {"enabled": True, "budget_tokens": 2000}, {"type": "adaptive"}, "low"),
        ("claude-sonnet-4-6", {"enabled": True}, {"type": "adaptive"}, None),
        ("claude-sonnet-4-6", {"effort": "minimal"}, {"type": "adaptive"}, "low"),
        (
            "claude-sonnet-4-6",
            {"enabled": True, "budget_tokens": 5000},
            {"type": "enabled", "budget_tokens": 5000},
            None,
        ),
        (
            "claude-sonnet-4-5-20250929",
            {"enabled": True},
            {"type": "enabled", "budget_tokens": 8192},
            None,
        ),
        ("glm-4.6", {"effort": "high"}, {"type": "enabled", "budget_tokens": 24576}, None),
        ("claude-opus-4-7", {"enabled": False, "effort": "low"}, {"type": "disabled"}, "low"),
    ],
)
def test_thinking_form_follows_the_model(
    model: str, reasoning: hub.ReasoningConfig, thinking: dict[str, Any], effort: str | None
) -> None:
    body = to_wire(
        {"model": model, "max_tokens": 64000, "messages": [user("x")], "reasoning": reasoning}
    )
    assert body["thinking"] == thinking
    assert body.get("output_config", {}).get("effort") == effort


def test_sampling_is_restricted_while_thinking() -> None:
    base: hub.Request = {
        "model": "claude-sonnet-4-5",
        "messages": [user("x")],
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 5,
    }
    plain = to_wire(base)
    assert (plain["temperature"], plain["top_p"], plain["top_k"]) == (0.2, 0.9, 5)
    thinking = to_wire({**base, "reasoning": {"effort": "low"}})
    assert not {"temperature", "top_p", "top_k"} & set(thinking)
    allowed = to_wire({**base, "temperature": 1.0, "top_p": 0.95, "reasoning": {"effort": "low"}})
    assert allowed["temperature"] == 1.0 and allowed["top_p"] == 0.95
    newest = to_wire({**base, "model": "claude-opus-4-7"})
    assert not {"temperature", "top_p", "top_k"} & set(newest)


def test_forced_tool_wins_over_thinking() -> None:
    body = to_wire(
        {
            "model": "claude-sonnet-4-5",
            "messages": [user("x")],
            "tools": [{"name": "f", "parameters": {"type": "object"}}],
            "tool_choice": {"name": "f"},
            "reasoning": {"effort": "high"},
        }
    )
    assert "thinking" not in body and body["tool_choice"] == {"type": "tool", "name": "f"}


def test_thinking_is_dropped_when_the_open_tool_turn_has_no_signed_thinking() -> None:
    history: list[hub.Message] = [
        user("x"),
        {
            "role": "assistant",
            "content": [],
            "reasoning": [{"text": "unsigned"}],
            "tool_calls": [{"id": "c", "name": "f", "arguments": "{}"}],
        },
        {"role": "tool", "tool_call_id": "c", "content": [{"type": "text", "text": "ok"}]},
    ]
    body = to_wire(
        {"model": "claude-sonnet-4-5", "messages": history, "reasoning": {"effort": "high"}}
    )
    assert "thinking" not in body
    history[1]["reasoning"] = [{"text": "signed", "signature": "sig"}]
    body = to_wire(
        {"model": "claude-sonnet-4-5", "messages": history, "reasoning": {"effort": "high"}}
    )
    assert body["thinking"]["type"] == "enabled"


def test_structured_output_stop_user_and_stream_write() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    body = to_wire(
        {
            "messages": [user("x")],
            "stop": ["END"],
            "user": "u1",
            "stream": False,
            "response_format": {
                "type": "json_schema",
                "name": "n",
                "schema": schema,
                "strict": True,
            },
            "metadata": {"ignored": "Responses metadata has no Anthropic home"},
        }
    )
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert body["stop_sequences"] == ["END"] and body["stream"] is False
    assert body["metadata"] == {"user_id": "u1"}
    json_object = to_wire({"messages": [user("x")], "response_format": {"type": "json_object"}})
    assert "output_config" not in json_object


def test_extended_context_asks_for_the_1m_beta() -> None:
    assert CODEC.upstream_headers({"extended_context": True}) == {
        "anthropic-beta": "context-1m-2025-08-07"
    }
    assert CODEC.upstream_headers({"messages": []}) == {}


def test_images_and_documents_from_other_dialects() -> None:
    pdf = base64.b64encode(b"%PDF-1.4").decode()
    text = base64.b64encode("plain ü".encode()).decode()
    blocks = to_wire(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "url": "data:image/jpeg;base64,/9j/4AAQ"},
                        {"type": "image", "url": "https://e.x/cat.png", "detail": "high"},
                        {"type": "document", "data": pdf, "title": "a.pdf"},
                        {"type": "document", "data": text, "media_type": "text/markdown"},
                        {"type": "document", "data": "UEsDBA==", "media_type": "application/zip"},
                        {"type": "document", "data": "iVBORw0KGgo=", "media_type": "image/png"},
                    ],
                }
            ]
        }
    )["messages"][0]["content"]
    assert blocks == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"},
        },
        {"type": "image", "source": {"type": "url", "url": "https://e.x/cat.png"}},
        {
            "type": "document",
            "title": "a.pdf",
            "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "plain ü"},
        },
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
    ]


@pytest.mark.parametrize(
    ("reasoning", "thinking"),
    [
        ({"budget_tokens": -1}, {"type": "enabled", "budget_tokens": 8192}),
        ({"budget_tokens": 0}, None),
        ({"effort": "none"}, None),
        ({"enabled": True, "budget_tokens": -1}, {"type": "enabled", "budget_tokens": 8192}),
    ],
)
def test_gemini_style_budgets(reasoning: hub.ReasoningConfig, thinking: Any) -> None:
    body = to_wire({"model": "claude-sonnet-4-5", "messages": [user("x")], "reasoning": reasoning})
    assert body.get("thinking") == thinking


def test_prefilled_assistant_turn_goes_without_thinking() -> None:
    body = to_wire(
        {
            "model": "claude-sonnet-4-5",
            "messages": [
                user("x"),
                {"role": "assistant", "content": [{"type": "text", "text": "{"}]},
            ],
            "reasoning": {"effort": "low"},
        }
    )
    assert "thinking" not in body and body["messages"][-1]["role"] == "assistant"
