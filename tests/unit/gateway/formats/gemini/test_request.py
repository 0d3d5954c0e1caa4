"""Gemini request bodies ⇄ hub requests."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.formats import hub
from gateway.formats.gemini import CODEC
from gateway.formats.gemini.wire import SKIP_SIGNATURE, history_call_id
from tests.unit.gateway.formats.gemini.support import load_json

SIG_A = "c2lnbmF0dXJlLWE="  # base64 of b"signature-a"
SIG_B = "c2lnbmF0dXJlLWI="
LISTING = "Directory listing for /home/dev/shop/tests:\ntest_cart.py\ntest_checkout.py"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
    "RU5ErkJggg=="
)
PDF = (
    "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290"
    "IDEgMCBSPj4KJSVFT0YK"
)


def to_hub(body: dict[str, Any]) -> hub.Request:
    return CODEC.request_to_hub(body)


def from_hub(request: hub.Request) -> dict[str, Any]:
    return CODEC.request_from_hub(request)


# Parsing: the Gemini CLI fixture ----------------------------------------------------------


@pytest.fixture(scope="module")
def cli() -> hub.Request:
    return to_hub(load_json("gemini_cli_request.json"))


def test_cli_model_and_stream_stay_unset(cli: hub.Request) -> None:
    assert "model" not in cli and "stream" not in cli


def test_cli_system_instruction_becomes_first_system_message(cli: hub.Request) -> None:
    first = cli["messages"][0]
    assert first["role"] == "system"
    assert first["content"][0]["type"] == "text"
    assert first["content"][0]["text"].startswith("You are an interactive CLI agent")


def test_cli_roles_in_order(cli: hub.Request) -> None:
    roles = [m["role"] for m in cli["messages"]]
    assert roles == [
        "system", "user", "assistant", "user", "assistant", "tool", "assistant",
        "tool", "tool", "assistant", "tool", "assistant", "tool",
    ]  # fmt: skip


def test_cli_function_calls_keep_signatures_and_get_stable_ids(cli: hub.Request) -> None:
    body = load_json("gemini_cli_request.json")
    first_call = cli["messages"][4]["tool_calls"][0]
    assert first_call["name"] == "list_directory"
    assert orjson.loads(first_call["arguments"]) == {"path": "/home/dev/shop/tests"}
    assert first_call["signature"] == body["contents"][3]["parts"][1]["thoughtSignature"]
    # Gemini 2.5 sends no call ids: a stable one is made from the call's position.
    assert first_call["id"] == history_call_id(3, 1, "list_directory")
    assert to_hub(body)["messages"][4]["tool_calls"][0]["id"] == first_call["id"]


def test_cli_parallel_calls_only_first_signed(cli: hub.Request) -> None:
    calls = cli["messages"][6]["tool_calls"]
    assert [c["name"] for c in calls] == ["read_file", "run_shell_command"]
    assert "signature" in calls[0] and "signature" not in calls[1]


def test_cli_results_pair_with_calls_even_when_cli_invents_ids(cli: hub.Request) -> None:
    """Gemini CLI answers with ids like "read_file-<ms>-<hex>" that no call has."""
    messages = cli["messages"]
    for call_index, result_indexes in ((4, [5]), (6, [7, 8]), (9, [10]), (11, [12])):
        calls = messages[call_index]["tool_calls"]
        results = [messages[i] for i in result_indexes]
        assert [r["tool_call_id"] for r in results] == [c["id"] for c in calls]
        assert [r["name"] for r in results] == [c["name"] for c in calls]


def test_cli_result_content_is_the_response_object_as_json(cli: hub.Request) -> None:
    result = cli["messages"][5]
    assert result["content"] == [
        {
            "type": "text",
            "text": orjson.dumps({"output": LISTING}).decode(),
        }
    ]
    assert "is_error" not in result


def test_cli_error_result_is_marked(cli: hub.Request) -> None:
    failed = cli["messages"][10]
    assert failed["is_error"] is True
    assert orjson.loads(failed["content"][0]["text"])["error"].startswith("Failed to edit")


def test_cli_tools_both_schema_fields(cli: hub.Request) -> None:
    tools = {t["name"]: t for t in cli["tools"]}
    assert set(tools) == {
        "list_directory", "read_file", "search_file_content", "replace",
        "run_shell_command", "save_memory",
    }  # fmt: skip
    # parametersJsonSchema is JSON Schema already: kept as sent.
    assert tools["list_directory"]["parameters"]["properties"]["ignore"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "Glob patterns to ignore.",
    }
    # parameters (Gemini Schema) → JSON Schema with lower-case types.
    assert tools["read_file"]["parameters"] == {
        "type": "object",
        "properties": {
            "absolute_path": {
                "type": "string",
                "description": "The absolute path to the file to read.",
            },
            "offset": {
                "type": "number",
                "description": "The 0-based line number to start reading from.",
            },
            "limit": {"type": "number", "description": "Maximum number of lines to read."},
        },
        "required": ["absolute_path"],
    }


def test_cli_generation_config(cli: hub.Request) -> None:
    assert cli["temperature"] == 0.0
    assert cli["top_p"] == 1.0
    assert cli["reasoning"] == {"enabled": True, "budget_tokens": 8192}


# Parsing: media, snake_case, structured output --------------------------------------------


def test_image_request_media_and_snake_case() -> None:
    request = to_hub(load_json("image_request.json"))
    [user] = request["messages"]
    assert user["content"] == [
        {"type": "text", "text": "What is wrong in this screenshot? Compare it with the mockup."},
        {
            "type": "image",
            "media_type": "image/png",
            "data": PNG,
        },
        {
            "type": "image",
            "url": "https://generativelanguage.googleapis.com/v1beta/files/mockup-7f3k2",
            "media_type": "image/jpeg",
        },
        {
            "type": "document",
            "media_type": "application/pdf",
            "data": PDF,
        },
    ]
    assert request["max_tokens"] == 1024
    assert request["temperature"] == 0.4
    assert request["top_k"] == 40
    assert request["stop"] == ["\n\n\n"]


def test_structured_request() -> None:
    request = to_hub(load_json("structured_request.json"))
    assert request["tool_choice"] == "none"
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    schema = response_format["schema"]
    assert schema["type"] == "object"
    assert schema["properties"]["due"] == {"type": ["string", "null"], "format": "date-time"}
    assert schema["properties"]["currency"] == {
        "type": "string",
        "format": "enum",
        "enum": ["EUR", "USD", "GBP"],
    }
    # proto3 JSON int64 strings become numbers.
    assert schema["properties"]["lines"]["minItems"] == 0
    assert schema["properties"]["lines"]["maxItems"] == 50
    assert "propertyOrdering" not in schema
    assert "safety_settings" not in request and "seed" not in request


def test_response_json_schema_is_taken_as_is() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "additionalProperties": False,
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "x"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    assert to_hub(body)["response_format"] == {"type": "json_schema", "schema": schema}


def test_json_mode_without_schema() -> None:
    body = {"contents": [], "generationConfig": {"responseMimeType": "application/json"}}
    assert to_hub(body)["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    ("calling", "choice"),
    [
        ({"mode": "AUTO"}, "auto"),
        ({"mode": "VALIDATED"}, "auto"),
        ({"mode": "NONE"}, "none"),
        ({"mode": "ANY"}, "required"),
        ({"mode": "ANY", "allowedFunctionNames": ["a", "b"]}, "required"),
        ({"mode": "ANY", "allowed_function_names": ["a"]}, {"name": "a"}),
    ],
)
def test_tool_choice_parse(calling: dict[str, Any], choice: hub.ToolChoice) -> None:
    body = {"contents": [], "tool_config": {"function_calling_config": calling}}
    assert to_hub(body)["tool_choice"] == choice


@pytest.mark.parametrize(
    ("thinking", "reasoning"),
    [
        ({"thinkingBudget": 0}, {"enabled": False}),
        ({"thinkingBudget": -1, "includeThoughts": True}, {"enabled": True}),
        ({"thinking_budget": 2048}, {"enabled": True, "budget_tokens": 2048}),
        ({"thinkingLevel": "LOW"}, {"enabled": True, "effort": "low"}),
        ({"thinkingLevel": "xhigh"}, {"enabled": True, "effort": "high"}),
        ({"includeThoughts": True}, {"enabled": True}),
    ],
)
def test_thinking_config_parse(thinking: dict[str, Any], reasoning: hub.ReasoningConfig) -> None:
    body = {"contents": [], "generationConfig": {"thinkingConfig": thinking}}
    assert to_hub(body)["reasoning"] == reasoning


def test_include_thoughts_false_alone_sets_nothing() -> None:
    body = {"contents": [], "generationConfig": {"thinkingConfig": {"includeThoughts": False}}}
    assert "reasoning" not in to_hub(body)


def test_thought_parts_and_signatures_in_history() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {
                "role": "model",
                "parts": [
                    {"text": "Thinking ", "thought": True},
                    {"text": "hard", "thought": True},
                    {"text": "Hello", "thoughtSignature": SIG_A},
                    {"text": "", "thoughtSignature": SIG_B},
                ],
            },
        ]
    }
    [_, model] = to_hub(body)["messages"]
    assert model["reasoning"] == [
        {"text": "Thinking hard", "signature": SIG_A},
        {"text": "", "signature": SIG_B},
    ]
    assert model["content"] == [{"type": "text", "text": "Hello"}]


def test_placeholder_signature_is_not_kept() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"id": "c1", "name": "f"}, "thoughtSignature": SKIP_SIGNATURE}
                ],
            }
        ]
    }
    [model] = to_hub(body)["messages"]
    assert model["tool_calls"] == [{"id": "c1", "name": "f", "arguments": "{}"}]


def test_user_content_mixing_results_and_text_keeps_order() -> None:
    body = {
        "contents": [
            {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "f", "args": {}}}]},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "c1", "name": "f", "response": {"ok": True}}},
                    {"text": "and also this"},
                ],
            },
        ]
    }
    messages = to_hub(body)["messages"]
    assert [m["role"] for m in messages] == ["assistant", "tool", "user"]
    assert messages[1]["tool_call_id"] == "c1"
    assert messages[2]["content"] == [{"type": "text", "text": "and also this"}]


def test_system_instruction_as_plain_string_and_missing_role() -> None:
    body = {"systemInstruction": "be brief", "contents": [{"parts": [{"text": "q"}]}]}
    messages = to_hub(body)["messages"]
    assert messages == [
        {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
    ]


# Emitting ----------------------------------------------------------------------------------


def test_emit_system_history_and_roles() -> None:
    body = from_hub(
        {
            "model": "gemini-2.5-flash",
            "stream": True,
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "rule 1"}]},
                {"role": "system", "content": [{"type": "text", "text": "rule 2"}]},
                {"role": "user", "content": [{"type": "text", "text": "hello"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
                {"role": "system", "content": [{"type": "text", "text": "late rule"}]},
                {"role": "user", "content": [{"type": "text", "text": "again"}]},
            ],
        }
    )
    assert "model" not in body and "stream" not in body
    assert body["systemInstruction"] == {"parts": [{"text": "rule 1"}, {"text": "rule 2"}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "hello"}]},
        {"role": "model", "parts": [{"text": "hi"}]},
        {"role": "user", "parts": [{"text": "late rule"}, {"text": "again"}]},
    ]


def test_emit_lone_system_prompt_becomes_user_content() -> None:
    body = from_hub({"messages": [{"role": "system", "content": [{"type": "text", "text": "x"}]}]})
    assert body == {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}


def tool_turn(**assistant: Any) -> list[hub.Message]:
    message: hub.Message = {"role": "assistant", "content": [], **assistant}
    return [{"role": "user", "content": [{"type": "text", "text": "go"}]}, message]


def test_emit_results_grouped_in_one_user_content_with_names_found() -> None:
    calls: list[hub.ToolCall] = [
        {"id": "c1", "name": "read", "arguments": '{"p":"a"}', "signature": SIG_A},
        {"id": "c2", "name": "read", "arguments": '{"p":"b"}'},
    ]
    body = from_hub(
        {
            "messages": [
                *tool_turn(tool_calls=calls),
                {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "A"}]},
                {
                    "role": "tool",
                    "tool_call_id": "c2",
                    "name": "read",
                    "content": [{"type": "text", "text": '{"lines": 3}'}],
                },
                {"role": "user", "content": [{"type": "text", "text": "thanks"}]},
            ]
        }
    )
    assert body["contents"][1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "read", "args": {"p": "a"}, "id": "c1"},
                "thoughtSignature": SIG_A,
            },
            {"functionCall": {"name": "read", "args": {"p": "b"}, "id": "c2"}},
        ],
    }
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "read", "response": {"result": "A"}, "id": "c1"}},
            {"functionResponse": {"name": "read", "response": {"lines": 3}, "id": "c2"}},
            {"text": "thanks"},
        ],
    }
    assert len(body["contents"]) == 3


@pytest.mark.parametrize(
    ("text", "is_error", "response"),
    [
        ("plain", False, {"result": "plain"}),
        ('{"a": 1}', False, {"a": 1}),
        ("[1, 2]", False, {"result": "[1, 2]"}),
        ("{broken", False, {"result": "{broken"}),
        ("boom", True, {"error": "boom"}),
        ('{"error": "boom"}', True, {"error": "boom"}),
        ('{"code": 7}', True, {"error": {"code": 7}}),
    ],
)
def test_emit_tool_result_object(text: str, is_error: bool, response: dict[str, Any]) -> None:
    message: hub.Message = {
        "role": "tool",
        "tool_call_id": "c1",
        "name": "f",
        "content": [{"type": "text", "text": text}],
    }
    if is_error:
        message["is_error"] = True
    calls: list[hub.ToolCall] = [{"id": "c1", "name": "f", "arguments": "{}"}]
    body = from_hub({"messages": [*tool_turn(tool_calls=calls), message]})
    assert body["contents"][2]["parts"][0]["functionResponse"]["response"] == response


def test_emit_signature_replay_rules() -> None:
    # No own signature: the first call takes the turn's last reasoning signature.
    body = from_hub(
        {
            "messages": tool_turn(
                reasoning=[{"text": "thought text is never sent", "signature": SIG_B}],
                tool_calls=[
                    {"id": "c1", "name": "f", "arguments": "{}"},
                    {"id": "c2", "name": "g", "arguments": "{}"},
                ],
            )
        }
    )
    parts = body["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == SIG_B
    assert "thoughtSignature" not in parts[1]
    assert "thought text is never sent" not in orjson.dumps(body).decode()


def test_emit_placeholder_signature_when_none_is_known() -> None:
    body = from_hub({"messages": tool_turn(tool_calls=[{"id": "c", "name": "f", "arguments": ""}])})
    assert body["contents"][1]["parts"] == [
        {"functionCall": {"name": "f", "args": {}, "id": "c"}, "thoughtSignature": SKIP_SIGNATURE}
    ]


def test_emit_non_base64_signature_is_replaced_by_placeholder() -> None:
    calls: list[hub.ToolCall] = [
        {"id": "c", "name": "f", "arguments": "{}", "signature": "not base64!"}
    ]
    body = from_hub({"messages": tool_turn(tool_calls=calls)})
    assert body["contents"][1]["parts"][0]["thoughtSignature"] == SKIP_SIGNATURE


def test_emit_text_turn_signature_on_last_text_part() -> None:
    body = from_hub(
        {
            "messages": tool_turn(
                content=[{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
                reasoning=[{"text": "", "signature": SIG_A}],
            )
        }
    )
    assert body["contents"][1]["parts"] == [
        {"text": "one"},
        {"text": "two", "thoughtSignature": SIG_A},
    ]


def test_emit_reasoning_only_turn_is_dropped() -> None:
    body = from_hub({"messages": tool_turn(reasoning=[{"text": "x", "signature": SIG_A}])})
    assert body["contents"] == [{"role": "user", "parts": [{"text": "go"}]}]


def test_emit_pads_unanswered_calls() -> None:
    calls: list[hub.ToolCall] = [
        {"id": "c1", "name": "f", "arguments": "{}"},
        {"id": "c2", "name": "g", "arguments": "{}"},
    ]
    answered: hub.Message = {
        "role": "tool",
        "tool_call_id": "c1",
        "name": "f",
        "content": [{"type": "text", "text": "ok"}],
    }
    for tail in (
        [answered],
        [answered, {"role": "user", "content": [{"type": "text", "text": "n"}]}],
    ):
        body = from_hub({"messages": [*tool_turn(tool_calls=calls), *tail]})  # type: ignore[list-item]
        responses = [
            p["functionResponse"] for p in body["contents"][2]["parts"] if "functionResponse" in p
        ]
        assert [(r["id"], r["name"]) for r in responses] == [("c1", "f"), ("c2", "g")]
        assert "error" in responses[1]["response"]


def test_emit_no_padding_while_the_call_turn_is_last() -> None:
    body = from_hub(
        {"messages": tool_turn(tool_calls=[{"id": "c", "name": "f", "arguments": "{}"}])}
    )
    assert [c["role"] for c in body["contents"]] == ["user", "model"]


def test_emit_unknown_result_name_falls_back() -> None:
    body = from_hub(
        {
            "messages": [
                {"role": "tool", "tool_call_id": "zz", "content": [{"type": "text", "text": "x"}]}
            ]
        }
    )
    assert body["contents"][0]["parts"][0]["functionResponse"]["name"] == "unknown_function"


def test_emit_media() -> None:
    body = from_hub(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "media_type": "image/webp",
                            "data": "AAAA",
                            "detail": "low",
                        },
                        {"type": "image", "url": "https://example.com/cat.JPG?x=1"},
                        {"type": "image", "url": "https://example.com/blob"},
                        {"type": "document", "data": "JVBE", "title": "spec.pdf"},
                        {
                            "type": "document",
                            "url": "gs://bucket/a.txt",
                            "media_type": "text/plain",
                        },
                    ],
                }
            ]
        }
    )
    assert body["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/webp", "data": "AAAA"}},
        {"fileData": {"fileUri": "https://example.com/cat.JPG?x=1", "mimeType": "image/jpeg"}},
        {"fileData": {"fileUri": "https://example.com/blob"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
        {"fileData": {"fileUri": "gs://bucket/a.txt", "mimeType": "text/plain"}},
    ]


def test_emit_tool_result_images_follow_the_result() -> None:
    calls: list[hub.ToolCall] = [{"id": "c", "name": "shot", "arguments": "{}"}]
    result: hub.Message = {
        "role": "tool",
        "tool_call_id": "c",
        "content": [
            {"type": "text", "text": "done"},
            {"type": "image", "media_type": "image/png", "data": "iVBO"},
        ],
    }
    body = from_hub({"messages": [*tool_turn(tool_calls=calls), result]})
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "shot", "response": {"result": "done"}, "id": "c"}},
        {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
    ]


def test_emit_tools_choice_and_generation_config() -> None:
    body = from_hub(
        {
            "messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]}],
            "tools": [
                {
                    "name": "lookup",
                    "description": "Find a thing.",
                    "parameters": {
                        "$schema": "http://json-schema.org/draft-07/schema#",
                        "type": "object",
                        "properties": {"q": {"type": "string", "default": "x"}},
                        "required": ["q"],
                        "additionalProperties": False,
                    },
                    "strict": True,
                },
                {"name": "now", "parameters": {"type": "object", "properties": {}}},
            ],
            "tool_choice": "required",
            "parallel_tool_calls": False,
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 20,
            "max_tokens": 512,
            "stop": ["END"],
            "response_format": {
                "type": "json_schema",
                "name": "answer",
                "strict": True,
                "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
            },
            "reasoning": {"enabled": True, "budget_tokens": 4096},
            "metadata": {"user_id": "u"},
            "user": "u",
            "extended_context": True,
        }
    )
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "lookup",
                    "description": "Find a thing.",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"q": {"type": "STRING"}},
                        "required": ["q"],
                    },
                },
                {"name": "now"},
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "topK": 20,
        "maxOutputTokens": 512,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}},
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 4096},
    }
    assert set(body) == {"contents", "tools", "toolConfig", "generationConfig"}


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ({"name": "f"}, {"mode": "ANY", "allowedFunctionNames": ["f"]}),
    ],
)
def test_emit_tool_choice(choice: hub.ToolChoice, config: dict[str, Any]) -> None:
    body = from_hub(
        {
            "messages": [],
            "tools": [{"name": "f", "parameters": {"type": "object"}}],
            "tool_choice": choice,
        }
    )
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_emit_no_tool_config_without_tools() -> None:
    assert "toolConfig" not in from_hub({"messages": [], "tool_choice": "required"})


@pytest.mark.parametrize(
    ("reasoning", "model", "thinking"),
    [
        ({"effort": "minimal"}, "", {"includeThoughts": True, "thinkingBudget": 512}),
        ({"effort": "low"}, "", {"includeThoughts": True, "thinkingBudget": 1024}),
        (
            {"enabled": True, "effort": "medium"},
            "",
            {"includeThoughts": True, "thinkingBudget": 8192},
        ),
        (
            {"effort": "high", "summary": "auto"},
            "",
            {"includeThoughts": True, "thinkingBudget": 24576},
        ),
        (
            {"effort": "high", "budget_tokens": 3000},
            "",
            {"includeThoughts": True, "thinkingBudget": 3000},
        ),
        ({"enabled": True}, "", {"includeThoughts": True}),
        ({"enabled": False}, "gemini-2.5-flash", {"thinkingBudget": 0}),
        ({"enabled": False}, "gemini-2.5-pro", None),
    ],
)
def test_emit_thinking_config(
    reasoning: hub.ReasoningConfig, model: str, thinking: dict[str, Any] | None
) -> None:
    body = from_hub({"model": model, "messages": [], "reasoning": reasoning})
    assert body.get("generationConfig", {}).get("thinkingConfig") == thinking


def test_emit_json_object_and_text_formats() -> None:
    body = from_hub({"messages": [], "response_format": {"type": "json_object"}})
    assert body["generationConfig"] == {"responseMimeType": "application/json"}
    assert "generationConfig" not in from_hub({"messages": [], "response_format": {"type": "text"}})


def test_cli_fixture_survives_a_round_trip() -> None:
    """Gemini → hub → Gemini keeps what Gemini reads: turns, calls, signatures, results."""
    original = load_json("gemini_cli_request.json")
    body = from_hub(to_hub(original))
    assert body["systemInstruction"]["parts"] == original["systemInstruction"]["parts"]
    assert len(body["contents"]) == len(original["contents"])
    for sent, got in zip(original["contents"], body["contents"], strict=True):
        assert sent["role"] == got["role"]
        for a, b in zip(sent["parts"], got["parts"], strict=True):
            if "functionCall" in a:
                assert b["functionCall"]["name"] == a["functionCall"]["name"]
                assert b["functionCall"]["args"] == a["functionCall"]["args"]
                assert b.get("thoughtSignature") == a.get("thoughtSignature")
            elif "functionResponse" in a:
                assert b["functionResponse"]["name"] == a["functionResponse"]["name"]
                assert b["functionResponse"]["response"] == a["functionResponse"]["response"]
            else:
                assert b == a
    # Calls and their results share ids after the trip.
    for model, user in zip(body["contents"][3::2], body["contents"][4::2], strict=True):
        call_ids = [p["functionCall"]["id"] for p in model["parts"] if "functionCall" in p]
        result_ids = [p["functionResponse"]["id"] for p in user["parts"]]
        assert call_ids == result_ids
    assert body["generationConfig"]["thinkingConfig"] == {
        "includeThoughts": True,
        "thinkingBudget": 8192,
    }


def test_results_with_real_ids_pair_by_id_not_order() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"id": "a", "name": "f", "args": {}}},
                    {"functionCall": {"id": "b", "name": "f", "args": {}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "b", "name": "f", "response": {"n": 2}}},
                    {"functionResponse": {"name": "f", "response": {"n": 1}}},
                ],
            },
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
        ]
    }
    messages = to_hub(body)["messages"]
    assert [m.get("tool_call_id") for m in messages if m["role"] == "tool"] == [
        "b",
        "a",
        history_call_id(2, 0, "f"),  # the newest turn's call, not a leftover of an older one
    ]
