"""The configured system prompt goes before the client's own, in each dialect's field."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from gateway.config.repository import ComboRow
from gateway.config.snapshot import Settings, Snapshot
from gateway.server.controls import prompt, system_prefix

P = "Be brief."


def unchanged_input(fn: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Run fn(body, P) and check that the client's body was not mutated."""
    before = copy.deepcopy(body)
    out: dict[str, Any] = fn(body, P)
    assert body == before
    return out


# OpenAI Chat -------------------------------------------------------------------------------


def test_openai_without_a_system_message_gets_a_leading_one() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    out = unchanged_input(prompt.openai_chat, body)
    assert out["messages"] == [
        {"role": "system", "content": P},
        {"role": "user", "content": "hi"},
    ]
    assert out["model"] == "m"


def test_openai_system_string_gets_the_prefix_and_a_blank_line() -> None:
    body = {"messages": [{"role": "system", "content": "Mine."}, {"role": "user", "content": "x"}]}
    out = unchanged_input(prompt.openai_chat, body)
    assert out["messages"][0] == {"role": "system", "content": "Be brief.\n\nMine."}
    assert out["messages"][1] == {"role": "user", "content": "x"}


def test_openai_developer_message_keeps_its_role() -> None:
    body = {
        "messages": [{"role": "developer", "content": "Dev."}, {"role": "user", "content": "x"}]
    }
    out = unchanged_input(prompt.openai_chat, body)
    assert out["messages"][0] == {"role": "developer", "content": "Be brief.\n\nDev."}


def test_openai_client_using_developer_messages_gets_a_developer_message() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "x"},
            {"role": "developer", "content": "later"},
        ]
    }
    out = unchanged_input(prompt.openai_chat, body)
    assert out["messages"][0] == {"role": "developer", "content": P}
    assert len(out["messages"]) == 3


def test_openai_system_parts_merge_into_the_first_text_part() -> None:
    body = {
        "messages": [
            {
                "role": "system",
                "content": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}],
            },
            {"role": "user", "content": "x"},
        ]
    }
    out = unchanged_input(prompt.openai_chat, body)
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "Be brief.\n\nA"},
        {"type": "text", "text": "B"},
    ]


def test_openai_empty_system_content_becomes_the_prefix() -> None:
    body = {"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "x"}]}
    out = unchanged_input(prompt.openai_chat, body)
    assert out["messages"][0] == {"role": "system", "content": P}


def test_openai_body_without_messages_is_left_alone() -> None:
    body = {"model": "m"}
    assert prompt.openai_chat(body, P) is body


# Anthropic ---------------------------------------------------------------------------------


def test_anthropic_without_system_gets_a_string() -> None:
    out = unchanged_input(prompt.anthropic, {"messages": [{"role": "user", "content": "x"}]})
    assert out["system"] == P


def test_anthropic_string_system_gets_the_prefix() -> None:
    out = unchanged_input(prompt.anthropic, {"system": "Mine.", "messages": []})
    assert out["system"] == "Be brief.\n\nMine."


def test_anthropic_blocks_get_a_block_of_their_own_and_keep_cache_control() -> None:
    blocks = [
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Env.", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]
    out = unchanged_input(prompt.anthropic, {"system": blocks, "messages": []})
    assert out["system"] == [{"type": "text", "text": P}, *blocks]


# Gemini ------------------------------------------------------------------------------------


def test_gemini_without_system_instruction_gets_one() -> None:
    out = unchanged_input(prompt.gemini, {"contents": []})
    assert out["systemInstruction"] == {"parts": [{"text": P}]}


def test_gemini_parts_merge_into_the_first_text_part() -> None:
    body = {"systemInstruction": {"role": "user", "parts": [{"text": "Mine."}, {"text": "More."}]}}
    out = unchanged_input(prompt.gemini, body)
    assert out["systemInstruction"] == {
        "role": "user",
        "parts": [{"text": "Be brief.\n\nMine."}, {"text": "More."}],
    }


def test_gemini_snake_case_and_string_forms_are_kept() -> None:
    out = unchanged_input(prompt.gemini, {"system_instruction": "Mine."})
    assert out == {"system_instruction": "Be brief.\n\nMine."}
    out = unchanged_input(prompt.gemini, {"system_instruction": {"parts": [{"text": "M"}]}})
    assert out == {"system_instruction": {"parts": [{"text": "Be brief.\n\nM"}]}}


def test_gemini_first_part_not_text_gets_a_part_of_its_own() -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    out = unchanged_input(prompt.gemini, {"systemInstruction": {"parts": [image]}})
    assert out["systemInstruction"]["parts"] == [{"text": P}, image]


# Responses ---------------------------------------------------------------------------------


def test_responses_without_instructions_gets_them() -> None:
    out = unchanged_input(prompt.responses, {"input": "x"})
    assert out == {"input": "x", "instructions": P}


def test_responses_instructions_get_the_prefix() -> None:
    out = unchanged_input(prompt.responses, {"instructions": "Mine.", "input": "x"})
    assert out["instructions"] == "Be brief.\n\nMine."


def test_responses_item_instructions_get_a_leading_system_item() -> None:
    items = [{"type": "message", "role": "developer", "content": "Mine."}]
    out = unchanged_input(prompt.responses, {"instructions": items})
    assert out["instructions"] == [{"type": "message", "role": "system", "content": P}, *items]


# Which prompt -------------------------------------------------------------------------------


def snapshot(global_prompt: str = "", combo_prompt: str | None = None) -> Snapshot:
    combo = ComboRow("coding", "priority", ("openai/x",), True, system_prompt=combo_prompt)
    return dataclasses.replace(
        Snapshot.empty(),
        settings=Settings(system_prompt=global_prompt),
        combos={"coding": combo},
        model_aliases={"work": "coding", "fast": "openai/x"},
    )


def test_global_then_combo_prompt_joined_by_a_blank_line() -> None:
    snap = snapshot("Global.", "Combo.")
    assert system_prefix(snap, "coding") == "Global.\n\nCombo."
    assert system_prefix(snap, "work") == "Global.\n\nCombo."  # an alias of the combo
    assert system_prefix(snap, "fast") == "Global."  # an alias of a plain target
    assert system_prefix(snap, "openai/x") == "Global."


def test_combo_prompt_alone_and_nothing_at_all() -> None:
    assert system_prefix(snapshot("", "Combo."), "coding") == "Combo."
    assert system_prefix(snapshot("", None), "coding") == ""
    assert system_prefix(snapshot("", "Combo."), "openai/x") == ""
