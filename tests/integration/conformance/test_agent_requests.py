"""Requests shaped like the real agents' (Claude Code, Codex CLI, Gemini CLI, OpenCode), from
the codec fixtures, sent through the gateway to every upstream dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.formats.codec import codec_for
from gateway.formats.sse import SSEDecoder
from tests.integration.conformance.conftest import DIALECTS, PREFIX, World
from tests.support.gateway import CLIENT_KEY

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
AGENTS = {
    "claude-code": ("anthropic", "anthropic/claude_code_request.json"),
    "codex": ("responses", "responses/codex_request.json"),
    "gemini-cli": ("gemini", "gemini/gemini_cli_request.json"),
    "opencode": ("openai", "openai/request_agent.json"),
}
TERMINAL = {
    "anthropic": b"message_stop",
    "responses": b"response.completed",
    "openai": b"data: [DONE]",
    "gemini": b'"finishReason"',
}


def request_for(agent: str, upstream: str, stream: bool) -> tuple[str, dict[str, Any]]:
    client, fixture = AGENTS[agent]
    body = orjson.loads((FIXTURES / fixture).read_bytes())
    model = f"{PREFIX[upstream]}/gpt-x"
    if client == "gemini":
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"/v1beta/models/{model}:{action}", body
    path = {
        "anthropic": "/v1/messages",
        "responses": "/v1/responses",
        "openai": "/v1/chat/completions",
    }[client]
    return path, {**body, "model": model, "stream": stream}


def tool_names_upstream(upstream: str, body: dict[str, Any]) -> set[str]:
    tools = body.get("tools") or []
    if upstream == "gemini":
        return {d["name"] for t in tools for d in t.get("functionDeclarations", [])}
    if upstream == "openai":
        return {t["function"]["name"] for t in tools}
    return {t["name"] for t in tools if "name" in t}


def tool_names_client(agent: str, body: dict[str, Any]) -> set[str]:
    """The agent's function tools (built-in and custom-grammar tools do not translate)."""
    client = AGENTS[agent][0]
    if client == "responses":
        return {t["name"] for t in body.get("tools", []) if t.get("type") == "function"}
    if client == "anthropic":
        return {t["name"] for t in body.get("tools", []) if "input_schema" in t}
    return tool_names_upstream(client, body)


def streamed_text(client: str, raw: bytes) -> str:
    parser = codec_for(client).stream_parser()
    events = [e for sse in SSEDecoder().feed(raw + b"\n\n") for e in parser.feed(sse)]
    events += parser.close()
    assert any(e["type"] == "finish" for e in events), raw[-300:]
    return "".join(e["text"] for e in events if e["type"] == "text_delta")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("upstream", DIALECTS)
@pytest.mark.parametrize("agent", sorted(AGENTS))
async def test_agent_request_round_trip(
    world: World, agent: str, upstream: str, stream: bool
) -> None:
    path, body = request_for(agent, upstream, stream)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{world.gateway.endpoint}{path}", json=body, headers={"x-api-key": CLIENT_KEY}
        ) as response,
    ):
        raw = await response.read()
        assert response.status == 200, raw[:500]
    sent = world.last_body(upstream)
    # Every function tool the agent declared reached the upstream under the same name.
    client = AGENTS[agent][0]
    # Same dialect: every tool passes through. Across: every function tool, same name.
    expected = (
        tool_names_upstream(client, body) if client == upstream else tool_names_client(agent, body)
    )
    assert expected and expected == tool_names_upstream(upstream, sent)
    if stream:
        assert TERMINAL[client] in raw
        text = streamed_text(client, raw)
    else:
        hub_response = codec_for(client).response_to_hub(orjson.loads(raw))
        text = "".join(p["text"] for p in hub_response["content"] if p["type"] == "text")
    assert text.startswith(("Tool said: ", "Echo: ")), text
