"""The fake OpenAI upstream, driven directly with the official SDK and with raw HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import (
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)

from tests.fakes.openai_upstream import (
    DEFAULT_API_KEY,
    MAX_RECORDED,
    FakeOpenAI,
    RecordedRequest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there big world"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    sdk = AsyncOpenAI(base_url=fake.base_url, api_key=DEFAULT_API_KEY, max_retries=0)
    yield sdk
    await sdk.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def auth(key: str = DEFAULT_API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def sse_events(body: bytes) -> list[str]:
    """Splits an SSE body into event payloads, checking every event is `data: ...\\n\\n`."""
    text = body.decode()
    assert text.endswith("\n\n")
    events = text[:-2].split("\n\n")
    for event in events:
        assert event.startswith("data: "), event
        assert "\n" not in event, event
    return [event[len("data: ") :] for event in events]


# --------------------------------------------------------------------------- normal replies


async def test_non_stream_echo_and_usage(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be brief."}, *USER],
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o-mini"
    assert completion.system_fingerprint is not None
    assert completion.system_fingerprint.startswith("fp_")
    [choice] = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Echo: hello there big world"
    assert choice.message.tool_calls is None
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (6, 5, 11)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0


async def test_content_parts_echo_the_last_user_message(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "one"}],
            },
        ],
    )
    assert completion.choices[0].message.content == "Echo: second one"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 6


async def test_stream_echo_ends_with_usage_chunk(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    first = chunks[0].choices[0]
    assert first.delta.role == "assistant"
    assert first.delta.content == ""
    contents = [c.choices[0].delta.content for c in chunks[1:-2]]
    assert len(contents) >= 3
    assert "".join(c or "" for c in contents) == "Echo: hello there big world"
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "stop"
    assert finish.usage is None
    assert all(c.choices[0].finish_reason is None for c in chunks[:-2])
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (4, 5)
    assert last.usage.total_tokens == 9


async def test_raw_sse_framing(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    request = {
        "model": "gpt-4o-mini",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    url = f"{fake.base_url}/chat/completions"
    async with http.post(url, json=request, headers=auth()) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert resp.headers["x-request-id"].startswith("req_")
        body = await resp.read()

    events = sse_events(body)
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert list(chunk)[:6] == [
            "id",
            "object",
            "created",
            "model",
            "service_tier",
            "system_fingerprint",
        ]
        assert chunk["object"] == "chat.completion.chunk"
        assert "usage" in chunk
    for chunk in chunks[:-1]:
        assert chunk["usage"] is None
        [choice] = chunk["choices"]
        assert set(choice) == {"index", "delta", "logprobs", "finish_reason"}
        assert choice["logprobs"] is None
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert chunks[-2]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert chunks[-1]["choices"] == []
    assert set(chunks[-1]["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    }

    # Without include_usage no chunk carries a usage key at all.
    del request["stream_options"]
    async with http.post(url, json=request, headers=auth()) as resp:
        events = sse_events(await resp.read())
    assert events[-1] == "[DONE]"
    assert all("usage" not in json.loads(e) for e in events[:-1])


async def test_max_tokens_truncates_with_length(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, max_tokens=2
    )
    assert completion.choices[0].message.content == "Echo: hello"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 2

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, max_completion_tokens=3, stream=True
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Echo: hello there"
    assert chunks[-1].choices[0].finish_reason == "length"


async def test_only_n_1_is_served(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER, n=2)
    assert raised.value.param == "n"


async def test_echo_headers(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        extra_headers={"x-fake-echo-headers": "1", "X-Custom-Thing": "abc"},
    )
    content = completion.choices[0].message.content
    assert content is not None
    headers = json.loads(content)
    assert headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert headers["x-custom-thing"] == "abc"
    assert all(name == name.lower() for name in headers)


# --------------------------------------------------------------------------- tool calls


async def test_tool_call_stream_reassembles(client: AsyncOpenAI) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "lookup_weather",
                "parameters": {"type": "object", "properties": {"town": {"type": "string"}}},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "lookup_time",
                "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "never_called"}},
    ]
    stream = await client.chat.completions.create(
        model="fake-tools", messages=USER, tools=tools, stream=True
    )
    chunks = [chunk async for chunk in stream]

    first = chunks[0].choices[0].delta
    assert first.role == "assistant"
    assert first.content is None
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            assert delta.function is not None
            if delta.index not in calls:
                # The first fragment of a call names it and has empty arguments.
                assert delta.id is not None
                assert delta.type == "function"
                assert delta.function.arguments == ""
                calls[delta.index] = {
                    "id": delta.id,
                    "name": delta.function.name,
                    "arguments": "",
                    "pieces": 0,
                }
            else:
                assert delta.id is None
                assert delta.type is None
                assert delta.function.name is None
                calls[delta.index]["arguments"] += delta.function.arguments or ""
                calls[delta.index]["pieces"] += 1

    assert sorted(calls) == [0, 1]
    assert [(c["id"], c["name"], c["arguments"]) for c in calls.values()] == [
        ("call_fake_1", "lookup_weather", '{"town":"Paris"}'),
        ("call_fake_2", "lookup_time", '{"zone":"Tokyo"}'),
    ]
    assert all(c["pieces"] >= 3 for c in calls.values())
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_tool_call_non_stream_defaults(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="fake-tools", messages=USER)
    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None
    assert all(isinstance(c, ChatCompletionMessageFunctionToolCall) for c in calls)
    function_calls = [c for c in calls if isinstance(c, ChatCompletionMessageFunctionToolCall)]
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in function_calls] == [
        ("call_fake_1", "function", "get_weather", '{"city":"Paris"}'),
        ("call_fake_2", "function", "get_time", '{"city":"Tokyo"}'),
    ]


# --------------------------------------------------------------------------- tool results


def tool_turn(*results: str) -> list[ChatCompletionMessageParam]:
    """A conversation whose last turn answers the two calls of `fake-tools`."""
    messages: list[ChatCompletionMessageParam] = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_fake_{i + 1}",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
                for i in range(len(results))
            ],
        },
    ]
    messages.extend(
        {"role": "tool", "tool_call_id": f"call_fake_{i + 1}", "content": result}
        for i, result in enumerate(results)
    )
    return messages


async def test_tool_results_are_echoed_in_order(client: AsyncOpenAI) -> None:
    messages = tool_turn("sunny 21C", "it is noon")
    # Text parts of a tool message count like string content.
    messages[-1] = {
        "role": "tool",
        "tool_call_id": "call_fake_2",
        "content": [{"type": "text", "text": "it is"}, {"type": "text", "text": "noon"}],
    }
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    [choice] = completion.choices
    assert choice.message.content == "Tool said: sunny 21C | it is noon"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    # 4 user words + 0 for the assistant's tool calls + 2 + 3 tool words.
    assert completion.usage.prompt_tokens == 9
    assert completion.usage.completion_tokens == 8


async def test_only_a_trailing_tool_turn_counts(client: AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        *tool_turn("sunny"),
        {"role": "assistant", "content": "It is sunny."},
        {"role": "user", "content": "thanks a lot"},
    ]
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert completion.choices[0].message.content == "Echo: thanks a lot"


def replay(message: ChatCompletionMessage) -> list[ChatCompletionMessageParam]:
    """The assistant turn that made `message`'s function calls, as request history."""
    calls = [
        c for c in message.tool_calls or [] if isinstance(c, ChatCompletionMessageFunctionToolCall)
    ]
    assert calls
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.function.name, "arguments": c.function.arguments},
                }
                for c in calls
            ],
        }
    ]


async def test_fake_tools_loop_ends_on_tool_results(client: AsyncOpenAI) -> None:
    first = await client.chat.completions.create(model="fake-tools", messages=USER)
    calls = first.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 2
    messages: list[ChatCompletionMessageParam] = [*USER, *replay(first.choices[0].message)]
    messages.extend(
        {"role": "tool", "tool_call_id": call.id, "content": answer}
        for call, answer in zip(calls, ["rain", "9am"], strict=True)
    )
    stream = await client.chat.completions.create(
        model="fake-tools", messages=messages, stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.choices[0].delta.tool_calls is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Tool said: rain | 9am"
    assert chunks[-1].choices[0].finish_reason == "stop"


# --------------------------------------------------------------------------- images


PNG_BYTES = bytes(range(256)) * 3 + b"tail"  # 772 bytes


def image_message(*urls: str, text: str = "what is this") -> list[ChatCompletionMessageParam]:
    parts: list[Any] = [{"type": "text", "text": text}]
    parts.extend({"type": "image_url", "image_url": {"url": url}} for url in urls)
    return [{"role": "user", "content": parts}]


async def test_images_are_described(client: AsyncOpenAI) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()
    messages = image_message(data_url, "https://example.com/cat.jpg")
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert completion.choices[0].message.content == (
        "Echo: what is this [image: image/png 772 bytes] [image: https://example.com/cat.jpg]"
    )
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 3  # images are not text

    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=image_message("data:image/jpeg;base64,/9j/4AAQ", text="hi"),
        stream=True,
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream]
    assert "".join(pieces) == "Echo: hi [image: image/jpeg 6 bytes]"
    assert " [image:" in pieces  # one delta per word, like any reply


async def test_only_the_last_user_message_images_count(client: AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        *image_message("http://example.com/old.png", text="earlier"),
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and now"},
    ]
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert completion.choices[0].message.content == "Echo: and now"


@pytest.mark.parametrize(
    "url", ["data:image/png;base64,@@not-base64@@", "data:image/png;base64", "ftp://x/y.png"]
)
async def test_bad_image_urls_are_400(client: AsyncOpenAI, url: str) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(model="gpt-4o-mini", messages=image_message(url))
    assert raised.value.code == "invalid_image_url"
    assert raised.value.param == "messages"


# --------------------------------------------------------------------------- structured output


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {
            "type": "json_schema",
            "json_schema": {
                "name": "echo",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"echo": {"type": "string"}},
                    "required": ["echo"],
                    "additionalProperties": False,
                },
            },
        },
    ],
)
async def test_structured_output_is_compact_json(client: AsyncOpenAI, response_format: Any) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=image_message("https://example.com/a.png", text='say "hi"'),
        response_format=response_format,
    )
    content = completion.choices[0].message.content
    assert content == '{"echo":"say \\"hi\\""}'
    assert json.loads(content) == {"echo": 'say "hi"'}

    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=tool_turn("sunny"),  # JSON output wins over the tool-result reply
        response_format=response_format,
        stream=True,
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert json.loads(text) == {"echo": "hello there big world"}


async def test_text_response_format_is_a_normal_reply(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, response_format={"type": "text"}
    )
    assert completion.choices[0].message.content == "Echo: hello there big world"


# --------------------------------------------------------------------------- reasoning


def reasoning_of(obj: Any) -> str | None:
    """`reasoning_content`, an extra field the SDK keeps in `model_extra`."""
    extra = obj.model_extra or {}
    value = extra.get("reasoning_content")
    assert value == getattr(obj, "reasoning_content", None)
    return value


async def test_think_non_stream(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="fake-think", messages=USER)
    [choice] = completion.choices
    assert choice.finish_reason == "stop"
    assert choice.message.content == "Echo: hello there big world"
    assert reasoning_of(choice.message) == "Thinking about: hello there big world"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 11, 15)
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 6


async def test_think_stream_reasoning_comes_first(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="fake-think",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=2,  # cuts the reply only
    )
    chunks = [chunk async for chunk in stream]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    kinds: list[str] = []
    reasoning = ""
    content = ""
    for delta in deltas[1:-1]:
        piece = reasoning_of(delta)
        if piece is not None:
            assert delta.content is None
            kinds.append("reasoning")
            reasoning += piece
        else:
            assert delta.content is not None
            kinds.append("content")
            content += delta.content
    assert kinds == ["reasoning"] * 6 + ["content"] * 2
    assert reasoning == "Thinking about: hello there big world"
    assert content == "Echo: hello"
    assert chunks[-2].choices[0].finish_reason == "length"
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == 8
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 6


async def test_think_raw_deltas(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    request = {"model": "fake-think", "messages": USER, "stream": True}
    async with http.post(f"{fake.base_url}/chat/completions", json=request, headers=auth()) as r:
        events = sse_events(await r.read())
    assert events[-1] == "[DONE]"
    deltas = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0] == {"role": "assistant", "content": None, "reasoning_content": ""}
    assert deltas[1] == {"content": None, "reasoning_content": "Thinking"}
    assert deltas[2] == {"content": None, "reasoning_content": " about:"}
    assert deltas[7] == {"content": "Echo:", "reasoning_content": None}
    assert deltas[-1] == {}


async def test_think_tags_non_stream(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="fake-think-tags", messages=USER)
    message = completion.choices[0].message
    assert message.content == (
        "<think>Thinking about: hello there big world</think>Echo: hello there big world"
    )
    assert reasoning_of(message) is None
    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 6


async def test_think_tags_are_split_across_deltas(
    fake: FakeOpenAI, http: aiohttp.ClientSession
) -> None:
    request = {"model": "fake-think-tags", "messages": USER, "stream": True}
    async with http.post(f"{fake.base_url}/chat/completions", json=request, headers=auth()) as r:
        events = sse_events(await r.read())
    deltas = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert all("reasoning_content" not in d for d in deltas)
    pieces = [d["content"] for d in deltas[1:-1]]
    assert "".join(pieces) == (
        "<think>Thinking about: hello there big world</think>Echo: hello there big world"
    )
    assert pieces[:2] == ["<th", "ink>Thinking"]
    assert " world</th" in pieces and "ink>Echo:" in pieces
    # Neither tag ever arrives whole in one delta.
    assert not any("<think>" in p or "</think>" in p for p in pieces)


async def test_think_tools_round_trip(client: AsyncOpenAI) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "lookup_weather",
                "parameters": {"type": "object", "properties": {"town": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "lookup_time"}},
    ]
    completion = await client.chat.completions.create(
        model="fake-think-tools", messages=USER, tools=tools
    )
    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert reasoning_of(choice.message) == "Thinking about: hello there big world"
    calls = choice.message.tool_calls
    assert calls is not None
    function_calls = [c for c in calls if isinstance(c, ChatCompletionMessageFunctionToolCall)]
    assert [(c.id, c.function.name, c.function.arguments) for c in function_calls] == [
        ("call_fake_1", "lookup_weather", '{"town":"Paris"}')
    ]
    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 6

    # The reply to the tool result needs no reasoning replay.
    messages: list[ChatCompletionMessageParam] = [
        *USER,
        *replay(choice.message),
        {"role": "tool", "tool_call_id": "call_fake_1", "content": "windy"},
    ]
    answer = await client.chat.completions.create(
        model="fake-think-tools", messages=messages, tools=tools
    )
    assert answer.choices[0].message.content == "Tool said: windy"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.tool_calls is None


async def test_think_tools_stream(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="fake-think-tools", messages=USER, stream=True
    )
    chunks = [chunk async for chunk in stream]
    reasoning = ""
    arguments = ""
    seen_call = False
    for chunk in chunks:
        delta = chunk.choices[0].delta
        piece = reasoning_of(delta)
        if piece:
            assert not seen_call, "reasoning must come before the tool call"
            reasoning += piece
        for call in delta.tool_calls or []:
            seen_call = True
            assert call.index == 0
            assert call.function is not None
            if call.id is not None:
                assert (call.id, call.function.name) == ("call_fake_1", "get_weather")
            arguments += call.function.arguments or ""
    assert reasoning == "Thinking about: hello there big world"
    assert arguments == '{"city":"Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# --------------------------------------------------------------------------- usage


async def test_cached_tokens(client: AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Be brief and kind."},
        *USER,
    ]
    completion = await client.chat.completions.create(model="gpt-4o-mini-cached", messages=messages)
    assert completion.choices[0].message.content == "Echo: hello there big world"
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens == 8
    assert usage.prompt_tokens_details.cached_tokens == 4

    stream = await client.chat.completions.create(
        model="my-cached-model",
        messages=[*USER, {"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    last = chunks[-1].usage
    assert last is not None and last.prompt_tokens_details is not None
    assert (last.prompt_tokens, last.prompt_tokens_details.cached_tokens) == (7, 3)

    plain = await client.chat.completions.create(model="fake-think", messages=messages)
    assert plain.usage is not None and plain.usage.prompt_tokens_details is not None
    assert plain.usage.prompt_tokens_details.cached_tokens == 0


# --------------------------------------------------------------------------- errors


async def test_rate_limit_error(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as raised:
        await client.chat.completions.create(model="fake-error-429", messages=USER)
    error = raised.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.type == "requests"
    assert error.param is None
    headers = error.response.headers
    assert headers["retry-after"] == "1"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    for name in ("limit-requests", "limit-tokens", "remaining-tokens", "reset-requests"):
        assert f"x-ratelimit-{name}" in headers
    assert headers["x-ratelimit-reset-tokens"] == "45ms"


async def test_bad_request_error(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(model="fake-error-400", messages=USER, stream=True)
    assert raised.value.type == "invalid_request_error"
    assert raised.value.code is None


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors(client: AsyncOpenAI, status: int) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        await client.chat.completions.create(model=f"fake-error-{status}", messages=USER)
    assert raised.value.status_code == status
    assert raised.value.type == "server_error"


async def test_fake_error_401(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        await client.chat.completions.create(model="fake-error-401", messages=USER)
    assert raised.value.code == "invalid_api_key"


async def test_wrong_key(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    async with AsyncOpenAI(
        base_url=fake.base_url, api_key="sk-wrong-key-123456", max_retries=0
    ) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
        with pytest.raises(openai.AuthenticationError):
            await sdk.models.list()
    error = raised.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert error.type == "invalid_request_error"
    assert "sk-wrong-key-123456" not in error.message

    url = f"{fake.base_url}/chat/completions"
    async with http.post(url, json={"model": "gpt-4o-mini", "messages": USER}) as resp:
        assert resp.status == 401
        body = await resp.json()
    assert body["error"]["code"] == "invalid_api_key"


async def test_malformed_json(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    url = f"{fake.base_url}/chat/completions"
    headers = {**auth(), "Content-Type": "application/json"}
    async with http.post(url, data=b'{"model": "gpt-4o-mini",', headers=headers) as resp:
        assert resp.status == 400
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("We could not parse the JSON body")
    assert fake.state.requests[-1].body is None
    assert fake.state.requests[-1].raw == b'{"model": "gpt-4o-mini",'


async def test_unknown_path(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{fake.base_url}/embeddingz", json={}, headers=auth()) as resp:
        assert resp.status == 404
        body = await resp.json()
    assert body == {
        "error": {
            "message": "Invalid URL (POST /v1/embeddingz)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    async with http.get(f"{fake.base_url}/chat/completions", headers=auth()) as resp:
        assert resp.status == 404


# --------------------------------------------------------------------------- transport behaviours


async def test_fake_cut_breaks_the_stream(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="fake-cut", messages=USER, stream=True)
    contents: list[str] = []
    with pytest.raises(openai.APIConnectionError) as raised:
        async for chunk in stream:
            contents.append(chunk.choices[0].delta.content or "")
    # The SDK stops iterating at [DONE]; an error instead means it never arrived.
    assert contents == ["", "Echo:", " hello"]
    assert "incomplete chunked read" in str(raised.value.__cause__)


async def test_fake_cut_raw_has_no_done(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    received = b""
    url = f"{fake.base_url}/chat/completions"
    request = {"model": "fake-cut", "messages": USER, "stream": True}
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.post(url, json=request, headers=auth()) as resp:
            assert resp.status == 200
            async for data in resp.content.iter_any():
                received += data
    assert received.count(b"data: ") == 3
    assert b"[DONE]" not in received


async def test_fake_slow_delays(client: AsyncOpenAI) -> None:
    started = time.monotonic()
    completion = await client.chat.completions.create(model="fake-slow-0.3", messages=USER)
    assert time.monotonic() - started >= 0.3
    assert completion.choices[0].message.content == "Echo: hello there big world"


async def test_fake_drip_sends_events_apart(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    arrivals: list[float] = []
    received = b""
    url = f"{fake.base_url}/chat/completions"
    request = {"model": "fake-drip-40", "messages": USER, "stream": True}
    started = time.monotonic()
    async with http.post(url, json=request, headers=auth()) as resp:
        assert resp.status == 200
        async for data in resp.content.iter_any():
            arrivals.append(time.monotonic())
            received += data
    events = sse_events(received)
    # role + 5 words + finish + [DONE], each written 40 ms after the one before.
    assert len(events) == 8
    assert arrivals[-1] - started >= 8 * 0.04 * 0.9
    assert len(arrivals) >= 2
    assert arrivals[-1] - arrivals[0] >= 0.04


async def test_fake_empty(fake: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    request = {"model": "fake-empty", "messages": USER}
    async with http.post(f"{fake.base_url}/chat/completions", json=request, headers=auth()) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.read() == b""


# --------------------------------------------------------------------------- models, recording


async def test_models_list(client: AsyncOpenAI) -> None:
    page = await client.models.list()
    ids = [model.id for model in page.data]
    assert "gpt-4o-mini" in ids
    for special in ("fake-tools", "fake-think", "fake-think-tags", "fake-think-tools"):
        assert special in ids
    assert all(model.object == "model" and model.owned_by for model in page.data)
    one = await client.models.retrieve("gpt-4o")
    assert (one.id, one.object) == ("gpt-4o", "model")


async def test_requests_are_recorded_and_bounded(client: AsyncOpenAI, fake: FakeOpenAI) -> None:
    filler = RecordedRequest(method="GET", path="/x", headers={}, body=None, raw=b"")
    fake.state.requests.extend([filler] * MAX_RECORDED)
    await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert len(fake.state.requests) == MAX_RECORDED
    last = fake.state.requests[-1]
    assert (last.method, last.path) == ("POST", "/v1/chat/completions")
    assert last.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert last.body["messages"] == USER
    assert json.loads(last.raw) == last.body
    assert last.peer is not None
    assert last.peer[0] == "127.0.0.1"


async def test_record_off_stores_nothing() -> None:
    async with FakeOpenAI("sk-other", record=False) as server:
        async with AsyncOpenAI(base_url=server.base_url, api_key="sk-other", max_retries=0) as sdk:
            completion = await sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert completion.choices[0].message.content == "Echo: hello there big world"
        assert server.state.requests == []
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"


async def test_runs_as_a_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.openai_upstream",
        "--port",
        "0",
        "--api-key",
        "sk-proc",
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
        assert base_url.endswith("/v1")
        async with AsyncOpenAI(base_url=base_url, api_key="sk-proc", max_retries=0) as sdk:
            completion = await sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert completion.choices[0].message.content == "Echo: hello there big world"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
