"""Reasoning signatures go back only to the upstream that made them: a conversation that
moves to another provider loses the foreign signatures, one that stays keeps them."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.formats.gemini.wire import SKIP_SIGNATURE
from gateway.service import GatewayService
from tests.support.four_dialects import four_dialect_config, four_fakes
from tests.support.gateway import CLIENT_KEY, import_toml, start_service

pytestmark = pytest.mark.timeout(60)

TOOLS_OPENAI = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
TOOLS_ANTHROPIC = [
    {
        "name": "get_weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
# What a real Anthropic signature looks like: base64, so Gemini's emitter would take it.
ANTHROPIC_SIGNATURE = base64.b64encode(b"signed by anthropic, valid only there").decode()
GEMINI_SIGNATURE = "c2lnLWZha2UtMQ=="  # the Gemini fake's (base64 of b"sig-fake-1")


@pytest.fixture
async def world(data_dir: Path) -> AsyncIterator[tuple[GatewayService, dict[str, Any]]]:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    import_toml(data_dir, four_dialect_config(fakes, key_name="origin"))
    service = await start_service(data_dir)
    try:
        yield service, fakes
    finally:
        await service.stop()
        for fake in fakes.values():
            await fake.stop()


async def post(
    service: GatewayService, path: str, body: dict[str, Any], pin: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    if pin:
        headers["X-Switchboard-Model"] = pin
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{service.endpoint}{path}", json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def chat(model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": model, "messages": messages, "tools": TOOLS_OPENAI}


def messages_body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "model": "anthropic/claude-echo",
        "max_tokens": 256,
        "messages": messages,
        "tools": TOOLS_ANTHROPIC,
    }


async def test_an_openai_client_turn_signed_by_anthropic(world: tuple) -> None:  # type: ignore[type-arg]
    """The replay cache gives Anthropic's signature back to Anthropic only."""
    service, fakes = world
    first = [{"role": "user", "content": "plan then act"}]
    status, body = await post(
        service, "/v1/chat/completions", chat("x", first), "anthropic/fake-think-tools"
    )
    assert status == 200
    message = body["choices"][0]["message"]
    call_id = message["tool_calls"][0]["id"]
    history = [
        *first,
        {"role": "assistant", "content": None, "tool_calls": message["tool_calls"]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
    ]

    status, body = await post(service, "/v1/chat/completions", chat("x", history), "resp/gpt-x")
    assert status == 200
    sent = fakes["responses"].state.requests[-1].body["input"]
    assert [item["type"] for item in sent if item.get("type")] == [
        "message",
        "function_call",
        "function_call_output",
    ]  # no reasoning item: its encrypted_content would be Anthropic's signature
    assert "sig-fake-1" not in str(sent)

    status, body = await post(service, "/v1/chat/completions", chat("x", history), "gemini/gpt-x")
    assert status == 200
    sent = fakes["gemini"].state.requests[-1].body["contents"]
    signatures = [p.get("thoughtSignature") for c in sent for p in c["parts"]]
    assert [s for s in signatures if s] == [SKIP_SIGNATURE]

    # The same origin still gets it back (the fake refuses the turn without it).
    status, body = await post(
        service, "/v1/chat/completions", chat("x", history), "anthropic/fake-think-tools"
    )
    assert status == 200 and body["choices"][0]["message"]["content"] == "Tool said: sunny"
    thinking = fakes["anthropic"].state.requests[-1].body["messages"][1]["content"][0]
    assert (thinking["type"], thinking["signature"]) == ("thinking", "sig-fake-1")


def anthropic_tool_history(signature: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "plan then act"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should look it up", "signature": signature},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                },
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}],
        },
    ]


async def test_an_anthropic_signature_never_reaches_gemini(world: tuple) -> None:  # type: ignore[type-arg]
    service, fakes = world
    history = anthropic_tool_history(ANTHROPIC_SIGNATURE)
    status, body = await post(service, "/v1/messages", messages_body(history), "gemini/gpt-x")
    assert status == 200 and body["content"][-1]["text"] == "Tool said: sunny"
    sent = fakes["gemini"].state.requests[-1].body["contents"]
    call_part = next(p for c in sent for p in c["parts"] if "functionCall" in p)
    assert call_part["thoughtSignature"] == SKIP_SIGNATURE  # Google's "not ours" placeholder
    assert ANTHROPIC_SIGNATURE not in str(sent)

    # Continued on Anthropic, the turn keeps its signature (passed through unchanged).
    status, body = await post(service, "/v1/messages", messages_body(history))
    assert status == 200
    thinking = fakes["anthropic"].state.requests[-1].body["messages"][1]["content"][0]
    assert thinking["signature"] == ANTHROPIC_SIGNATURE


async def test_a_gemini_signature_never_reaches_anthropic(world: tuple) -> None:  # type: ignore[type-arg]
    """An Anthropic client got Gemini's signature in a thinking block; moving to Anthropic,
    the same-dialect request is re-emitted without it rather than passed through."""
    service, fakes = world
    first = [{"role": "user", "content": "deep question"}]
    status, body = await post(service, "/v1/messages", messages_body(first), "gemini/fake-think")
    assert status == 200
    thinking = body["content"][0]
    assert (thinking["type"], thinking["signature"]) == ("thinking", GEMINI_SIGNATURE)
    history = [
        *first,
        {"role": "assistant", "content": body["content"]},
        {"role": "user", "content": "and then?"},
    ]

    status, body = await post(service, "/v1/messages", messages_body(history))
    assert status == 200 and body["content"][-1]["text"] == "Echo: and then?"
    sent = fakes["anthropic"].state.requests[-1]
    assert [b["type"] for b in sent.body["messages"][1]["content"]] == ["text"]
    assert GEMINI_SIGNATURE not in sent.raw.decode()
    assert sent.headers["anthropic-version"] == "2023-06-01"

    # Back on Gemini, its own signature goes with the turn.
    status, body = await post(service, "/v1/messages", messages_body(history), "gemini/gpt-x")
    assert status == 200
    sent_parts = [
        p for c in fakes["gemini"].state.requests[-1].body["contents"] for p in c["parts"]
    ]
    assert [p["thoughtSignature"] for p in sent_parts if "thoughtSignature" in p] == [
        GEMINI_SIGNATURE
    ]
