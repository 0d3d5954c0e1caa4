"""Every client dialect by every upstream dialect, driven by the official SDKs.

Each test runs for all 16 cells; nothing is skipped. A cell a dialect could not support would
be listed in UNSUPPORTED with the reason and the behaviour it gets instead (checked by its
test), and docs/dialects.md would repeat the reason (a test checks).
"""

from __future__ import annotations

import asyncio
import json

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from tests.integration.conformance.conftest import CELLS, World
from tests.support.clients import StreamFailedError, png

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
]
FIRST_CALL_ID = {
    "openai": "call_fake_1",
    "anthropic": "toolu_fake_1",
    "gemini": "call_fake_1",
    "responses": "call_fake_1",
}
SECOND_CALL_ID = {k: v.replace("_1", "_2") for k, v in FIRST_CALL_ID.items()}
ECHO_SCHEMA = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}

# Cells that cannot be served, with the reason and the behaviour they get instead. Every cell
# of every scenario is currently supported; an entry here must also appear in docs/dialects.md.
UNSUPPORTED: dict[tuple[str, str, str], str] = {}

RATE_LIMIT = {
    "openai": openai.RateLimitError,
    "responses": openai.RateLimitError,
    "anthropic": anthropic.RateLimitError,
    "gemini": genai_errors.ClientError,
}
SERVER_ERROR = {
    "openai": openai.InternalServerError,
    "responses": openai.InternalServerError,
    "anthropic": anthropic.InternalServerError,
    "gemini": genai_errors.ServerError,
}
STREAM_BROKEN = (openai.APIError, anthropic.APIError, genai_errors.APIError, StreamFailedError)

pytestmark = [pytest.mark.parametrize(("client", "upstream"), CELLS), pytest.mark.timeout(30)]


async def test_text_and_usage(world: World, client: str, upstream: str) -> None:
    reply = await world.talk(client, upstream, "gpt-x").user("hello matrix")
    assert reply.text == "Echo: hello matrix"
    assert reply.finish == "stop"
    assert reply.usage == (2, 3)


async def test_streaming_text(world: World, client: str, upstream: str) -> None:
    reply = await world.talk(client, upstream, "gpt-x").user("stream me please", stream=True)
    assert reply.text == "Echo: stream me please"
    assert reply.finish == "stop"
    assert reply.usage == (3, 4)


async def test_system_prompt_reaches_the_upstream(world: World, client: str, upstream: str) -> None:
    talk = world.talk(client, upstream, "gpt-x", system="Answer in one word.")
    reply = await talk.user("why")
    assert reply.text == "Echo: why"
    assert system_text(upstream, world.last_body(upstream)) == "Answer in one word."


async def test_multi_turn_history(world: World, client: str, upstream: str) -> None:
    talk = world.talk(client, upstream, "gpt-x")
    await talk.user("first question")
    reply = await talk.user("second question")
    assert reply.text == "Echo: second question"
    assert turn_texts(upstream, world.last_body(upstream)) == [
        ("user", "first question"),
        ("assistant", "Echo: first question"),
        ("user", "second question"),
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_parallel_tool_calls_then_results(
    world: World, client: str, upstream: str, stream: bool
) -> None:
    talk = world.talk(client, upstream, "fake-tools", tools=TOOLS)
    reply = await talk.user("weather and time in two cities", stream=stream)
    assert reply.finish == "tool_calls"
    assert reply.tool_calls == [
        (FIRST_CALL_ID[upstream], "get_weather", {"city": "Paris"}),
        (SECOND_CALL_ID[upstream], "get_time", {"city": "Tokyo"}),
    ]
    final = await talk.tool_results(
        {FIRST_CALL_ID[upstream]: "18C", SECOND_CALL_ID[upstream]: "9am"}, stream=stream
    )
    assert final.text.startswith("Tool said: ")
    assert final.text.index("18C") < final.text.index("9am")
    assert final.finish == "stop"


async def test_image_input(world: World, client: str, upstream: str) -> None:
    reply = await world.talk(client, upstream, "gpt-x").user("what is this", image=png(68))
    assert reply.text == "Echo: what is this [image: image/png 68 bytes]"


async def test_structured_output(world: World, client: str, upstream: str) -> None:
    reply = await world.talk(client, upstream, "gpt-x", json_schema=ECHO_SCHEMA).user(
        "structure me"
    )
    assert json.loads(reply.text) == {"echo": "structure me"}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_reasoning_is_shown(world: World, client: str, upstream: str, stream: bool) -> None:
    reply = await world.talk(client, upstream, "fake-think", think=True).user(
        "deep question", stream=stream
    )
    assert reply.reasoning == "Thinking about: deep question"
    assert reply.text == "Echo: deep question"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_reasoning_signatures_survive_a_tool_turn(
    world: World, client: str, upstream: str, stream: bool
) -> None:
    """The upstream rejects the second turn unless the reasoning signature comes back."""
    talk = world.talk(client, upstream, "fake-think-tools", tools=TOOLS, think=True)
    reply = await talk.user("plan then act", stream=stream)
    assert reply.tool_calls and reply.tool_calls[0][1] == "get_weather"
    final = await talk.tool_results({reply.tool_calls[0][0]: "sunny"}, stream=stream)
    assert final.text.startswith("Tool said: ") and "sunny" in final.text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_upstream_429_is_the_sdks_rate_limit_error(
    world: World, client: str, upstream: str, stream: bool
) -> None:
    with pytest.raises(RATE_LIMIT[client]) as raised:
        await world.talk(client, upstream, "fake-error-429").user("hi", stream=stream)
    if client == "gemini":
        assert raised.value.code == 429  # type: ignore[attr-defined]


async def test_upstream_500_is_the_sdks_server_error(
    world: World, client: str, upstream: str
) -> None:
    with pytest.raises(SERVER_ERROR[client]):
        await world.talk(client, upstream, "fake-error-500").user("hi")


async def test_length_limit(world: World, client: str, upstream: str) -> None:
    # 16: the Responses API's smallest max_output_tokens.
    words = [f"w{i}" for i in range(20)]
    reply = await world.talk(client, upstream, "gpt-x", max_tokens=16).user(" ".join(words))
    assert reply.text == "Echo: " + " ".join(words[:15])
    assert reply.finish == "length"


async def test_mid_stream_failure_ends_with_an_error(
    world: World, client: str, upstream: str
) -> None:
    async with asyncio.timeout(15):
        with pytest.raises(STREAM_BROKEN) as raised:
            await world.talk(client, upstream, "fake-cut").user("cut me off", stream=True)
    assert "interrupted" in str(raised.value)


# What arrived upstream, read in each upstream dialect -----------------------------------------


def system_text(dialect: str, body: dict) -> str:  # type: ignore[type-arg]
    if dialect == "openai":
        return next(m["content"] for m in body["messages"] if m["role"] in ("system", "developer"))
    if dialect == "anthropic":
        system = body["system"]
        return system if isinstance(system, str) else "".join(b["text"] for b in system)
    if dialect == "gemini":
        instruction = body.get("systemInstruction") or body["system_instruction"]
        return "".join(p["text"] for p in instruction["parts"])
    return body["instructions"]


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    return " ".join(
        p.get("text", "")
        for p in content
        if isinstance(p, dict)  # type: ignore[union-attr]
        and p.get("text")
    )


def turn_texts(dialect: str, body: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    if dialect in ("openai", "anthropic"):
        return [
            (m["role"], _text(m["content"]))
            for m in body["messages"]
            if m["role"] in ("user", "assistant")
        ]
    if dialect == "gemini":
        role = {"user": "user", "model": "assistant"}
        return [(role[c["role"]], _text(c["parts"])) for c in body["contents"]]
    return [
        (item["role"], _text(item["content"]))
        for item in body["input"]
        if item.get("role") in ("user", "assistant")
    ]
