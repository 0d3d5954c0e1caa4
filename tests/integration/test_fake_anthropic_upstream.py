"""The fake Anthropic upstream, driven directly with the official SDK and with raw HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import httpx2
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam, TextBlock, ThinkingBlock, ToolParam, ToolUseBlock

from tests.fakes.anthropic_upstream import (
    DEFAULT_API_KEY,
    MAX_RECORDED,
    SIGNATURE,
    FakeAnthropic,
    RecordedRequest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
USER: list[MessageParam] = [{"role": "user", "content": "hello there big world"}]
ECHO = "Echo: hello there big world"
# A 1x1 transparent PNG: 67 bytes once decoded.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ"
    "RU5ErkJggg=="
)
TOOLS: list[ToolParam] = [
    {
        "name": "lookup_weather",
        "description": "Weather of a town.",
        "input_schema": {"type": "object", "properties": {"town": {"type": "string"}}},
    },
    {
        "name": "lookup_time",
        "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
    {"name": "never_called", "input_schema": {"type": "object"}},
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def client(fake: FakeAnthropic) -> AsyncIterator[AsyncAnthropic]:
    sdk = AsyncAnthropic(base_url=fake.base_url, api_key=DEFAULT_API_KEY, max_retries=0)
    yield sdk
    await sdk.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def headers(key: str = DEFAULT_API_KEY, version: str | None = "2023-06-01") -> dict[str, str]:
    sent = {"x-api-key": key}
    if version is not None:
        sent["anthropic-version"] = version
    return sent


def sse_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Splits an SSE body into (event name, data), checking the `event:`/`data:` framing."""
    text = body.decode()
    assert text.endswith("\n\n")
    events: list[tuple[str, dict[str, Any]]] = []
    for chunk in text[:-2].split("\n\n"):
        lines = chunk.split("\n")
        assert len(lines) == 2, chunk
        assert lines[0].startswith("event: "), chunk
        assert lines[1].startswith("data: "), chunk
        name = lines[0].removeprefix("event: ")
        data = json.loads(lines[1].removeprefix("data: "))
        assert data["type"] == name
        events.append((name, data))
    return events


async def post(
    http: aiohttp.ClientSession,
    fake: FakeAnthropic,
    body: dict[str, Any],
    *,
    path: str = "/v1/messages",
    sent: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    async with http.post(
        fake.base_url + path, json=body, headers=headers() if sent is None else sent
    ) as resp:
        return resp.status, await resp.json()


def text_of(message: anthropic.types.Message) -> str:
    return "".join(b.text for b in message.content if isinstance(b, TextBlock))


# --------------------------------------------------------------------------- echo


async def test_non_stream_echo_and_usage(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="claude-echo-1", max_tokens=1024, system="Be brief.", messages=USER
    )
    assert message.id.startswith("msg_")
    assert (message.type, message.role, message.model) == (
        "message",
        "assistant",
        "claude-echo-1",
    )
    assert [(b.type, text_of(message)) for b in message.content] == [("text", ECHO)]
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (6, 5)
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
    assert usage.output_tokens_details is None
    assert message._request_id is not None
    assert message._request_id.startswith("req_")


async def test_block_content_and_history(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="claude-x",
        max_tokens=100,
        messages=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": [{"type": "text", "text": "first answer"}]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "one"}],
            },
        ],
    )
    assert text_of(message) == "Echo: second one"
    assert message.usage.input_tokens == 6


async def test_system_as_blocks_with_cache_control(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="claude-x",
        max_tokens=100,
        system=[
            {"type": "text", "text": "You are terse."},
            {"type": "text", "text": "Long context.", "cache_control": {"type": "ephemeral"}},
        ],
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "hi",
                        "cache_control": {"type": "ephemeral", "ttl": "1h"},
                    }
                ],
            }
        ],
    )
    assert text_of(message) == "Echo: hi"
    assert message.usage.input_tokens == 6


async def test_cached_model_reports_cache_reads(client: AsyncAnthropic) -> None:
    # 7 input words: 3 are read from the cache, and input_tokens excludes them.
    messages: list[MessageParam] = [
        {"role": "user", "content": "one two three four five six seven"}
    ]
    message = await client.messages.create(model="claude-cached", max_tokens=100, messages=messages)
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (4, 3)
    async with client.messages.stream(
        model="claude-cached", max_tokens=100, messages=messages
    ) as stream:
        final = await stream.get_final_message()
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens) == (4, 3)
    counted = await client.messages.count_tokens(model="claude-cached", messages=messages)
    assert counted.input_tokens == 7


async def test_cache_write_model_reports_cache_writes(client: AsyncAnthropic) -> None:
    # 9 input words: 4 read from the cache, 2 written to it, 3 neither.
    messages: list[MessageParam] = [{"role": "user", "content": "a b c d e f g h i"}]
    message = await client.messages.create(
        model="claude-cached-cache-write", max_tokens=100, messages=messages
    )
    usage = message.usage
    assert (usage.input_tokens, usage.cache_read_input_tokens) == (3, 4)
    assert usage.cache_creation_input_tokens == 2


async def test_max_tokens_truncates(client: AsyncAnthropic) -> None:
    message = await client.messages.create(model="claude-x", max_tokens=2, messages=USER)
    assert text_of(message) == "Echo: hello"
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2

    async with client.messages.stream(model="claude-x", max_tokens=3, messages=USER) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert pieces == ["Echo:", " hello", " there"]
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 3

    empty = await client.messages.create(model="claude-x", max_tokens=0, messages=USER)
    assert (empty.content, empty.stop_reason, empty.usage.output_tokens) == ([], "max_tokens", 0)


async def test_echo_headers(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="claude-x",
        max_tokens=100,
        messages=USER,
        extra_headers={"x-fake-echo-headers": "1", "X-Custom-Thing": "abc"},
    )
    received = json.loads(text_of(message))
    assert received["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert received["x-custom-thing"] == "abc"
    assert "anthropic-version" in received
    assert list(received) == sorted(received)


async def test_images_are_noted(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="claude-x",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": base64.b64encode(PNG).decode(),
                        },
                    },
                    {"type": "text", "text": "what is this"},
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                    },
                ],
            }
        ],
    )
    assert text_of(message) == (
        f"Echo: what is this [image: image/png {len(PNG)} bytes]"
        " [image: https://example.com/cat.jpg]"
    )
    assert message.usage.input_tokens == 3


async def test_documents_are_accepted(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="claude-x",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "x y z"},
                        "title": "notes",
                    },
                    {"type": "text", "text": "summarise"},
                ],
            }
        ],
    )
    assert text_of(message) == "Echo: summarise"


# --------------------------------------------------------------------------- streaming


async def test_stream_reassembles(client: AsyncAnthropic) -> None:
    async with client.messages.stream(
        model="claude-x", max_tokens=100, system="Be brief.", messages=USER
    ) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert pieces == ["Echo:", " hello", " there", " big", " world"]
    assert final.id.startswith("msg_")
    assert text_of(final) == ECHO
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (6, 5)


async def test_raw_sse_framing(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    request = {"model": "fake-think", "max_tokens": 2000, "messages": USER, "stream": True}
    async with http.post(fake.base_url + "/v1/messages", json=request, headers=headers()) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert resp.headers["request-id"].startswith("req_")
        events = sse_events(await resp.read())

    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("message_start") == names.count("message_stop") == 1
    assert names.count("ping") == 1
    assert names.index("ping") == 2  # right after the first content_block_start

    start = events[0][1]["message"]
    assert start["content"] == []
    assert start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == 4
    assert set(start["usage"]) >= {"cache_read_input_tokens", "cache_creation_input_tokens"}

    # Every block is started once, then gets deltas, then is stopped once; indexes contiguous.
    blocks: list[int] = []
    open_index: int | None = None
    for name, data in events[1:-2]:
        if name == "content_block_start":
            assert open_index is None
            open_index = data["index"]
            blocks.append(data["index"])
        elif name == "content_block_delta":
            assert data["index"] == open_index
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        else:
            assert name == "ping"
    assert open_index is None
    assert blocks == [0, 1]

    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert starts == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "text", "text": ""},
    ]
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    kinds = [d["type"] for d in deltas]
    assert kinds == ["thinking_delta"] * 6 + ["signature_delta"] + ["text_delta"] * 5
    assert "".join(d.get("thinking", "") for d in deltas) == "Thinking about: hello there big world"
    assert deltas[6] == {"type": "signature_delta", "signature": SIGNATURE}

    end = events[-2][1]
    assert end["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert end["usage"]["output_tokens"] == 5 + 6
    assert end["usage"]["output_tokens_details"] == {"thinking_tokens": 6}


async def test_streamed_errors_are_plain_http(client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(
            model="fake-error-400", max_tokens=100, messages=USER, stream=True
        )
    assert raised.value.type == "invalid_request_error"
    assert raised.value.request_id is not None


# --------------------------------------------------------------------------- tools


async def test_tools_non_stream(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="fake-tools", max_tokens=100, messages=USER, tools=TOOLS
    )
    assert message.stop_reason == "tool_use"
    calls = [b for b in message.content if isinstance(b, ToolUseBlock)]
    assert len(calls) == len(message.content) == 2
    assert [(c.id, c.name, c.input) for c in calls] == [
        ("toolu_fake_1", "lookup_weather", {"town": "Paris"}),
        ("toolu_fake_2", "lookup_time", {"zone": "Tokyo"}),
    ]


async def test_tools_defaults_and_single_tool(client: AsyncAnthropic) -> None:
    message = await client.messages.create(model="fake-tools", max_tokens=100, messages=USER)
    assert [(b.id, b.name, b.input) for b in message.content if isinstance(b, ToolUseBlock)] == [
        ("toolu_fake_1", "get_weather", {"city": "Paris"}),
        ("toolu_fake_2", "get_time", {"city": "Tokyo"}),
    ]
    single = await client.messages.create(
        model="fake-tools", max_tokens=100, messages=USER, tools=[TOOLS[2]]
    )
    assert [(b.name, b.input) for b in single.content if isinstance(b, ToolUseBlock)] == [
        ("never_called", {"city": "Paris"}),
        ("never_called", {"city": "Tokyo"}),
    ]


async def test_tools_stream(client: AsyncAnthropic) -> None:
    async with client.messages.stream(
        model="fake-tools", max_tokens=100, messages=USER, tools=TOOLS
    ) as stream:
        fragments: dict[int, list[str]] = {}
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                fragments.setdefault(event.index, []).append(event.delta.partial_json)
        final = await stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [(b.id, b.name, b.input) for b in final.content if isinstance(b, ToolUseBlock)] == [
        ("toolu_fake_1", "lookup_weather", {"town": "Paris"}),
        ("toolu_fake_2", "lookup_time", {"zone": "Tokyo"}),
    ]
    assert sorted(fragments) == [0, 1]
    for index, expected in ((0, '{"town":"Paris"}'), (1, '{"zone":"Tokyo"}')):
        assert fragments[index][0] == ""  # the API opens each input with an empty fragment
        assert len([f for f in fragments[index] if f]) >= 3
        assert "".join(fragments[index]) == expected


def tool_turns(*results: dict[str, Any]) -> list[MessageParam]:
    calls = [
        {"type": "tool_use", "id": r["tool_use_id"], "name": "get_weather", "input": {}}
        for r in results
    ]
    return [
        *USER,
        {"role": "assistant", "content": calls},  # type: ignore[list-item]
        {"role": "user", "content": list(results)},  # type: ignore[list-item]
    ]


async def test_tool_results_are_echoed(client: AsyncAnthropic) -> None:
    messages = tool_turns(
        {"type": "tool_result", "tool_use_id": "toolu_fake_1", "content": "sunny, 21 C"},
        {
            "type": "tool_result",
            "tool_use_id": "toolu_fake_2",
            "content": [{"type": "text", "text": "no"}, {"type": "text", "text": "clock"}],
            "is_error": True,
        },
    )
    # fake-tools answers a tool result like Echo, so a tool loop ends.
    for model in ("claude-x", "fake-tools"):
        message = await client.messages.create(model=model, max_tokens=100, messages=messages)
        assert text_of(message) == "Tool said: sunny, 21 C | error: no clock"
        assert message.stop_reason == "end_turn"
        assert message.usage.input_tokens == 4 + 3 + 2


async def test_tool_pairing_is_checked(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    orphan = [
        *USER,
        {"role": "assistant", "content": "ok"},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}],
        },
    ]
    status, body = await post(http, fake, {"model": "m", "max_tokens": 9, "messages": orphan})
    assert status == 400
    assert body["error"]["message"].startswith(
        "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x."
    )

    unanswered = [
        *USER,
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_y", "name": "f", "input": {}}],
        },
        {"role": "user", "content": "never mind"},
    ]
    status, body = await post(http, fake, {"model": "m", "max_tokens": 9, "messages": unanswered})
    assert status == 400
    assert body["error"]["message"].startswith(
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_y."
    )


# --------------------------------------------------------------------------- thinking


async def test_think_non_stream(client: AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="fake-think",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=USER,
    )
    thinking, text = message.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == "Thinking about: hello there big world"
    assert thinking.signature == SIGNATURE
    assert isinstance(text, TextBlock)
    assert text.text == ECHO
    assert message.usage.output_tokens == 5 + 6
    assert message.usage.output_tokens_details is not None
    assert message.usage.output_tokens_details.thinking_tokens == 6


async def test_think_stream(client: AsyncAnthropic) -> None:
    async with client.messages.stream(model="fake-think", max_tokens=100, messages=USER) as stream:
        final = await stream.get_final_message()
    thinking, text = final.content
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.thinking, thinking.signature) == (
        "Thinking about: hello there big world",
        SIGNATURE,
    )
    assert isinstance(text, TextBlock)
    assert text.text == ECHO
    assert final.usage.output_tokens == 11


async def test_think_tools_requires_replayed_signature(client: AsyncAnthropic) -> None:
    first = await client.messages.create(
        model="fake-think-tools", max_tokens=100, messages=USER, tools=TOOLS
    )
    assert first.stop_reason == "tool_use"
    thinking, call = first.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.signature == SIGNATURE
    assert isinstance(call, ToolUseBlock)
    assert (call.id, call.name, call.input) == ("toolu_fake_1", "lookup_weather", {"town": "Paris"})
    result: MessageParam = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_fake_1", "content": "rain"}],
    }

    # Without the thinking block the call's turn is refused.
    bare: list[MessageParam] = [
        *USER,
        {"role": "assistant", "content": [call.model_dump()]},  # type: ignore[list-item]
        result,
    ]
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(
            model="fake-think-tools", max_tokens=100, messages=bare, tools=TOOLS
        )
    assert "signature" in raised.value.message
    assert raised.value.type == "invalid_request_error"

    # A forged signature is refused too.
    forged_thinking = {**thinking.model_dump(), "signature": "sig-other"}
    forged: list[MessageParam] = [
        *USER,
        {"role": "assistant", "content": [forged_thinking, call.model_dump()]},  # type: ignore[list-item]
        result,
    ]
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(
            model="fake-think-tools", max_tokens=100, messages=forged, tools=TOOLS
        )
    assert "Invalid `signature` in `thinking` block" in raised.value.message

    # Replaying the SDK's own content (thinking + tool_use) is accepted.
    replayed: list[MessageParam] = [*USER, {"role": "assistant", "content": first.content}, result]
    second = await client.messages.create(
        model="fake-think-tools", max_tokens=100, messages=replayed, tools=TOOLS
    )
    assert text_of(second) == "Tool said: rain"
    assert second.stop_reason == "end_turn"


async def test_think_tools_stream(client: AsyncAnthropic) -> None:
    async with client.messages.stream(
        model="fake-think-tools", max_tokens=100, messages=USER
    ) as stream:
        final = await stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "tool_use"]
    call = final.content[1]
    assert isinstance(call, ToolUseBlock)
    assert (call.id, call.name, call.input) == ("toolu_fake_1", "get_weather", {"city": "Paris"})
    assert final.stop_reason == "tool_use"


# --------------------------------------------------------------------------- count_tokens


async def test_count_tokens(client: AsyncAnthropic) -> None:
    counted = await client.messages.count_tokens(
        model="claude-x",
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[
            *USER,
            {"role": "assistant", "content": "ok then"},
            {"role": "user", "content": "go"},
        ],
    )
    assert counted.input_tokens == 2 + 4 + 2 + 1


async def test_count_tokens_validates(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    status, body = await post(http, fake, {"model": "claude-x"}, path="/v1/messages/count_tokens")
    assert status == 400
    assert body["error"]["message"] == "messages: Field required"
    status, body = await post(
        http, fake, {"model": "m", "messages": USER}, path="/v1/messages/count_tokens"
    )
    assert (status, body) == (200, {"input_tokens": 4})


# --------------------------------------------------------------------------- errors


async def test_rate_limit_error(client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as raised:
        await client.messages.create(model="fake-error-429", max_tokens=100, messages=USER)
    error = raised.value
    assert error.status_code == 429
    assert error.type == "rate_limit_error"
    assert isinstance(error.body, dict)
    assert error.body["type"] == "error"
    assert error.body["request_id"] == error.request_id
    sent = error.response.headers
    assert sent["retry-after"] == "1"
    assert sent["anthropic-ratelimit-requests-remaining"] == "0"
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        for part in ("limit", "remaining", "reset"):
            assert f"anthropic-ratelimit-{kind}-{part}" in sent
    reset = datetime.fromisoformat(sent["anthropic-ratelimit-requests-reset"])
    assert reset.tzinfo is not None


async def test_overloaded_error(client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.OverloadedError) as raised:
        await client.messages.create(model="fake-error-529", max_tokens=100, messages=USER)
    assert isinstance(raised.value, anthropic.InternalServerError)
    assert raised.value.status_code == 529
    assert raised.value.type == "overloaded_error"


@pytest.mark.parametrize(
    ("status", "error_class", "err_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (402, anthropic.PaymentRequiredError, "billing_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
        (418, anthropic.APIStatusError, "invalid_request_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (504, anthropic.GatewayTimeoutError, "timeout_error"),
    ],
)
async def test_error_types(
    client: AsyncAnthropic, status: int, error_class: type[anthropic.APIStatusError], err_type: str
) -> None:
    with pytest.raises(error_class) as raised:
        await client.messages.create(model=f"fake-error-{status}", max_tokens=100, messages=USER)
    assert raised.value.status_code == status
    assert raised.value.type == err_type
    assert isinstance(raised.value.body, dict)
    assert set(raised.value.body) == {"type", "error", "request_id"}


async def test_wrong_key(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    async with AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-wrong", max_retries=0) as sdk:
        with pytest.raises(anthropic.AuthenticationError) as raised:
            await sdk.messages.create(model="claude-x", max_tokens=100, messages=USER)
    assert raised.value.type == "authentication_error"

    request = {"model": "claude-x", "max_tokens": 100, "messages": USER}
    status, body = await post(http, fake, request, sent=headers("sk-ant-wrong"))
    assert status == 401
    assert body["type"] == "error"
    assert body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
    assert body["request_id"].startswith("req_")

    status, body = await post(http, fake, request, sent={"anthropic-version": "2023-06-01"})
    assert status == 401
    assert body["error"]["message"] == "x-api-key header is required"

    # The x-api-key header wins over a bearer token.
    sent = {**headers("sk-ant-wrong"), "Authorization": f"Bearer {DEFAULT_API_KEY}"}
    status, _ = await post(http, fake, request, sent=sent)
    assert status == 401


async def test_anthropic_version_header(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    request = {"model": "claude-x", "max_tokens": 100, "messages": USER}
    status, body = await post(http, fake, request, sent=headers(version=None))
    assert status == 400
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    status, body = await post(http, fake, request, sent=headers(version="2023-06-01, 2023-06-01"))
    assert status == 400
    assert (
        body["error"]["message"]
        == 'anthropic-version: "2023-06-01, 2023-06-01" is not a valid version'
    )
    status, _ = await post(http, fake, request, sent=headers(version="2023-06-01"))
    assert status == 200


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"model": "m", "messages": USER}, "max_tokens: Field required"),
        ({"model": "m", "max_tokens": 9}, "messages: Field required"),
        ({"max_tokens": 9, "messages": USER}, "model: Field required"),
        (
            {"model": "m", "max_tokens": "9", "messages": USER},
            "max_tokens: Input should be a valid integer",
        ),
        (
            {"model": "m", "max_tokens": 9, "messages": []},
            "messages: at least one message is required",
        ),
        (
            {"model": "m", "max_tokens": 9, "messages": [{"role": "assistant", "content": "hi"}]},
            'messages: first message must use the "user" role',
        ),
        (
            {"model": "m", "max_tokens": 9, "messages": [{"role": "system", "content": "hi"}]},
            "messages.0.role: Input should be 'user', 'assistant' or 'system'",
        ),
        (
            {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": ""}]},
            "messages.0: user messages must have non-empty content",
        ),
        (
            {
                "model": "m",
                "max_tokens": 9,
                "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}],
            },
            "messages: text content blocks must be non-empty",
        ),
        (
            {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": " \n"}]},
            "messages: text content blocks must contain non-whitespace text",
        ),
        (
            {
                "model": "m",
                "max_tokens": 9,
                "messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}],
            },
            "messages.0.content.0: Input tag 'video' found using 'type' does not match any of "
            "the expected tags",
        ),
        (
            {
                "model": "m",
                "max_tokens": 9,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/bmp",
                                    "data": "AA==",
                                },
                            }
                        ],
                    }
                ],
            },
            "messages.0.content.0.source.base64.media_type: Input should be 'image/jpeg', "
            "'image/png', 'image/gif', 'image/webp'",
        ),
        (
            {
                "model": "m",
                "max_tokens": 9,
                "messages": [
                    *USER,
                    {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm"}]},
                ],
            },
            "messages.1.content.0.signature: Field required",
        ),
        (
            {
                "model": "m",
                "max_tokens": 9,
                "messages": USER,
                "system": [{"type": "text", "text": ""}],
            },
            "system: text content blocks must be non-empty",
        ),
        (
            {
                "model": "m",
                "max_tokens": 9,
                "messages": USER,
                "system": [{"type": "text", "text": "x", "cache_control": {"type": "forever"}}],
            },
            "system.0.cache_control.type: Input should be 'ephemeral'",
        ),
        (
            {
                "model": "m",
                "max_tokens": 1024,
                "messages": USER,
                "thinking": {"type": "enabled", "budget_tokens": 1024},
            },
            "`max_tokens` must be greater than `thinking.budget_tokens`.",
        ),
        (
            {"model": "m", "max_tokens": 9, "messages": USER, "tools": [{"name": "f"}]},
            "tools.0.custom.input_schema: Field required",
        ),
    ],
)
async def test_request_validation(
    fake: FakeAnthropic, http: aiohttp.ClientSession, request_body: dict[str, Any], message: str
) -> None:
    status, body = await post(http, fake, request_body)
    assert status == 400
    assert body["error"] == {"type": "invalid_request_error", "message": message}


async def test_lenient_shapes_are_accepted(
    fake: FakeAnthropic, http: aiohttp.ClientSession
) -> None:
    # Consecutive user turns are combined, an empty assistant string and an empty tool result
    # are fine, and a whitespace text block next to real text is fine.
    messages = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": [{"type": "text", "text": "b"}, {"type": "text", "text": " "}]},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "c"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}],
        },
        {"role": "user", "content": "d"},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]},
    ]
    status, body = await post(http, fake, {"model": "m", "max_tokens": 9, "messages": messages})
    assert status == 200
    assert body["content"] == [{"type": "text", "text": "Tool said: "}]
    assert body["usage"]["input_tokens"] == 4


async def test_malformed_json(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    sent = {**headers(), "Content-Type": "application/json"}
    raw = b'{"model": "claude-x",'
    async with http.post(fake.base_url + "/v1/messages", data=raw, headers=sent) as resp:
        assert resp.status == 400
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert set(body) == {"type", "error", "request_id"}
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("The request body is not valid JSON: ")
    assert fake.state.requests[-1].body is None
    assert fake.state.requests[-1].raw == raw


async def test_unknown_path(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    async with http.post(fake.base_url + "/v1/complete", json={}, headers=headers()) as resp:
        assert resp.status == 404
        assert resp.headers["request-id"].startswith("req_")
        body = await resp.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "not_found_error", "message": "Not Found"}
    async with http.get(fake.base_url + "/v1/messages", headers=headers()) as resp:
        assert resp.status == 404


# --------------------------------------------------------------------------- transport behaviours


async def test_fake_cut_breaks_the_stream(client: AsyncAnthropic) -> None:
    texts: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError) as raised:
        async with client.messages.stream(
            model="fake-cut", max_tokens=100, messages=USER
        ) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    # The SDK's stream helper does not wrap a broken body: httpx2's error reaches the caller.
    assert texts == ["Echo:", " hello"]
    assert "incomplete chunked read" in str(raised.value)


async def test_fake_cut_non_stream(client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.APIConnectionError) as raised:
        await client.messages.create(model="fake-cut", max_tokens=100, messages=USER)
    assert isinstance(raised.value.__cause__, httpx2.RemoteProtocolError)


async def test_fake_cut_raw(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    received = b""
    request = {"model": "fake-cut", "max_tokens": 100, "messages": USER, "stream": True}
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.post(
            fake.base_url + "/v1/messages", json=request, headers=headers()
        ) as resp:
            assert resp.status == 200
            async for data in resp.content.iter_any():
                received += data
    names = [
        line.removeprefix(b"event: ")
        for line in received.split(b"\n")
        if line.startswith(b"event: ")
    ]
    assert names == [
        b"message_start",
        b"content_block_start",
        b"ping",
        b"content_block_delta",
        b"content_block_delta",
    ]


async def test_fake_slow_delays(client: AsyncAnthropic) -> None:
    started = time.monotonic()
    message = await client.messages.create(model="fake-slow-0.3", max_tokens=100, messages=USER)
    assert time.monotonic() - started >= 0.3
    assert text_of(message) == ECHO


async def test_fake_drip_sends_events_apart(
    fake: FakeAnthropic, http: aiohttp.ClientSession
) -> None:
    arrivals: list[float] = []
    received = b""
    request = {"model": "fake-drip-30", "max_tokens": 100, "messages": USER, "stream": True}
    started = time.monotonic()
    async with http.post(fake.base_url + "/v1/messages", json=request, headers=headers()) as resp:
        assert resp.status == 200
        async for data in resp.content.iter_any():
            arrivals.append(time.monotonic())
            received += data
    events = sse_events(received)
    # message_start, block start, ping, 5 deltas, block stop, message_delta, message_stop.
    assert len(events) == 11
    assert arrivals[-1] - started >= 11 * 0.03 * 0.9
    assert len(arrivals) >= 2


async def test_fake_empty(fake: FakeAnthropic, http: aiohttp.ClientSession) -> None:
    request = {"model": "fake-empty", "max_tokens": 100, "messages": USER, "stream": True}
    async with http.post(fake.base_url + "/v1/messages", json=request, headers=headers()) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.read() == b""


# --------------------------------------------------------------------------- recording, process


async def test_requests_are_recorded_and_bounded(
    client: AsyncAnthropic, fake: FakeAnthropic
) -> None:
    filler = RecordedRequest(method="GET", path="/x", headers={}, body=None, raw=b"")
    fake.state.requests.extend([filler] * MAX_RECORDED)
    await client.messages.create(model="claude-x", max_tokens=100, messages=USER)
    assert len(fake.state.requests) == MAX_RECORDED
    last = fake.state.requests[-1]
    assert (last.method, last.path) == ("POST", "/v1/messages")
    assert last.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert "anthropic-version" in last.headers
    assert last.body["messages"] == USER
    assert json.loads(last.raw) == last.body
    assert last.peer is not None
    assert last.peer[0] == "127.0.0.1"


async def test_record_off_stores_nothing() -> None:
    async with FakeAnthropic("sk-ant-other", record=False) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        async with AsyncAnthropic(
            base_url=server.base_url, api_key="sk-ant-other", max_retries=0
        ) as sdk:
            message = await sdk.messages.create(model="claude-x", max_tokens=100, messages=USER)
        assert text_of(message) == ECHO
        assert server.state.requests == []


async def test_runs_as_a_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.anthropic_upstream",
        "--port",
        "0",
        "--api-key",
        "sk-ant-proc",
        "--no-record",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        base_url = line.removeprefix("listening on ")
        async with AsyncAnthropic(base_url=base_url, api_key="sk-ant-proc", max_retries=0) as sdk:
            message = await sdk.messages.create(model="claude-x", max_tokens=100, messages=USER)
        assert text_of(message) == ECHO
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
