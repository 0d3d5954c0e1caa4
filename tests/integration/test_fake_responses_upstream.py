"""The fake OpenAI Responses upstream, driven directly with the official SDK and raw HTTP."""

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
from openai.types.responses import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseStreamEvent,
)

from tests.fakes.responses_upstream import (
    DEFAULT_API_KEY,
    MAX_RECORDED,
    REASONING_SIGNATURE,
    FakeResponses,
    RecordedRequest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
USER: list[Any] = [{"role": "user", "content": "hello there big world"}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "lookup_weather",
    "description": "Weather for a place.",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["location", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
CLOCK_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "lookup_time",
    "description": "Local time in a zone.",
    "parameters": {
        "type": "object",
        "properties": {"zone": {"type": "string"}},
        "required": ["zone"],
        "additionalProperties": False,
    },
    "strict": True,
}
TEXT_EVENTS = [
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 5,
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeResponses]:
    async with FakeResponses() as server:
        yield server


@pytest.fixture
async def client(fake: FakeResponses) -> AsyncIterator[AsyncOpenAI]:
    sdk = AsyncOpenAI(base_url=fake.base_url, api_key=DEFAULT_API_KEY, max_retries=0)
    yield sdk
    await sdk.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def auth(key: str = DEFAULT_API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def collect(stream: AsyncIterator[ResponseStreamEvent]) -> list[ResponseStreamEvent]:
    return [event async for event in stream]


def types_of(events: list[ResponseStreamEvent]) -> list[str]:
    return [event.type for event in events]


def check_sequence(events: list[ResponseStreamEvent]) -> None:
    assert [event.sequence_number for event in events] == list(range(len(events)))


def parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Splits an SSE body into (event name, data) pairs, checking the framing of each event."""
    text = body.decode()
    assert text.endswith("\n\n")
    pairs: list[tuple[str, dict[str, Any]]] = []
    for block in text[:-2].split("\n\n"):
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: "), block
        assert data_line.startswith("data: "), block
        pairs.append((event_line[len("event: ") :], json.loads(data_line[len("data: ") :])))
    return pairs


def only_message(response: Response) -> ResponseOutputMessage:
    [item] = response.output
    assert isinstance(item, ResponseOutputMessage)
    return item


# --------------------------------------------------------------------------- echo


async def test_non_stream_echo_and_usage(client: AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="gpt-4.1-mini",
        instructions="Be brief.",
        input=[{"role": "developer", "content": "Answer in English."}, *USER],
        metadata={"run": "7"},
        temperature=0.2,
    )
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.model == "gpt-4.1-mini"
    assert response.status == "completed"
    assert response.error is None
    assert response.incomplete_details is None
    assert response.created_at > 0
    message = only_message(response)
    assert message.id.startswith("msg_")
    assert (message.role, message.status) == ("assistant", "completed")
    [part] = message.content
    assert part.type == "output_text"
    assert part.text == "Echo: hello there big world"
    assert part.annotations == []
    assert response.output_text == "Echo: hello there big world"
    usage = response.usage
    assert usage is not None
    # "Be brief." + "Answer in English." + "hello there big world" = 2 + 3 + 4 words.
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (9, 5, 14)
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    # The request's settings are echoed, with the API's defaults for the rest.
    assert response.instructions == "Be brief."
    assert response.metadata == {"run": "7"}
    assert response.temperature == 0.2
    assert response.top_p == 1.0
    assert response.parallel_tool_calls is True
    assert response.tool_choice == "auto"
    assert response.tools == []
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "text"
    assert response.store is True
    assert response.truncation == "disabled"


async def test_string_input_and_instructions(client: AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="gpt-4.1", input="just a string", instructions="You are terse."
    )
    assert response.output_text == "Echo: just a string"
    assert response.usage is not None
    assert response.usage.input_tokens == 6


async def test_content_parts_and_history(client: AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="gpt-4.1",
        input=[
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "first question"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "first answer"}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "second"},
                    {"type": "input_file", "file_id": "file-abc"},
                    {"type": "input_text", "text": "question"},
                ],
            },
        ],
    )
    assert response.output_text == "Echo: second question"
    assert response.usage is not None
    assert response.usage.input_tokens == 7


async def test_cached_model_reports_half_the_input(client: AsyncOpenAI) -> None:
    response = await client.responses.create(model="gpt-cached-1", input=USER)
    assert response.usage is not None
    assert response.usage.input_tokens == 4
    assert response.usage.input_tokens_details.cached_tokens == 2


async def test_cache_write_model_reports_cache_writes(client: AsyncOpenAI) -> None:
    response = await client.responses.create(model="gpt-cache-write", input=USER)
    assert response.usage is not None
    details = response.usage.input_tokens_details
    assert (response.usage.input_tokens, details.cached_tokens) == (4, 0)
    assert details.cache_write_tokens == 1


async def test_echo_headers(client: AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="gpt-4.1",
        input=USER,
        extra_headers={"x-fake-echo-headers": "1", "X-Custom": "yes"},
    )
    headers = json.loads(response.output_text)
    assert headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert headers["x-custom"] == "yes"
    assert list(headers) == sorted(headers)


# --------------------------------------------------------------------------- streaming


async def test_stream_echo_events(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(model="gpt-4.1-mini", input=USER, stream=True)
    events = await collect(stream)
    assert types_of(events) == [
        "response.created",
        "response.in_progress",
        *TEXT_EVENTS,
        "response.completed",
    ]
    check_sequence(events)
    created, in_progress = events[0], events[1]
    assert created.type == "response.created" and in_progress.type == "response.in_progress"
    assert created.response.status == "in_progress"
    assert created.response.output == []
    assert created.response.usage is None
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert [d.delta for d in deltas] == ["Echo:", " hello", " there", " big", " world"]
    item_ids = {d.item_id for d in deltas}
    assert len(item_ids) == 1
    assert all((d.output_index, d.content_index) == (0, 0) for d in deltas)
    done = events[-4]
    assert done.type == "response.output_text.done"
    assert done.text == "Echo: hello there big world"
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.id == created.response.id
    assert completed.response.status == "completed"
    assert completed.response.output_text == "Echo: hello there big world"
    assert only_message(completed.response).id in item_ids
    usage = completed.response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (4, 5, 9)
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


async def test_stream_helper_gives_the_final_response(client: AsyncOpenAI) -> None:
    pieces: list[str] = []
    async with client.responses.stream(model="gpt-4.1", input=USER) as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                pieces.append(event.delta)
        final = await stream.get_final_response()
    assert "".join(pieces) == "Echo: hello there big world"
    assert final.output_text == "Echo: hello there big world"
    assert final.usage is not None and final.usage.output_tokens == 5


async def test_raw_sse_framing(fake: FakeResponses, http: aiohttp.ClientSession) -> None:
    request = {"model": "gpt-4.1", "input": "hi you", "stream": True}
    async with http.post(f"{fake.base_url}/responses", json=request, headers=auth()) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/event-stream"
        assert resp.headers["x-request-id"].startswith("req_")
        body = await resp.read()
    assert b"[DONE]" not in body
    pairs = parse_sse(body)
    assert [data["sequence_number"] for _, data in pairs] == list(range(len(pairs)))
    for name, data in pairs:
        assert data["type"] == name
    assert pairs[0][0] == "response.created"
    assert pairs[-1][0] == "response.completed"
    delta = next(data for name, data in pairs if name == "response.output_text.delta")
    assert set(delta) == {
        "type",
        "sequence_number",
        "item_id",
        "output_index",
        "content_index",
        "delta",
        "logprobs",
    }


# --------------------------------------------------------------------------- tool calls


async def test_function_calls_non_stream(client: AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="fake-tools", input=USER, tools=[WEATHER_TOOL, CLOCK_TOOL]
    )
    assert response.status == "completed"
    first, second = response.output
    assert isinstance(first, ResponseFunctionToolCall)
    assert isinstance(second, ResponseFunctionToolCall)
    assert (first.id, first.call_id, first.name) == ("fc_fake_1", "call_fake_1", "lookup_weather")
    assert first.arguments == '{"location":"Paris"}'
    assert (second.id, second.call_id, second.name) == ("fc_fake_2", "call_fake_2", "lookup_time")
    assert second.arguments == '{"zone":"Tokyo"}'
    assert first.status == second.status == "completed"
    assert response.output_text == ""
    assert response.tools[0].type == "function"


async def test_function_calls_default_and_single_tool(client: AsyncOpenAI) -> None:
    response = await client.responses.create(model="fake-tools", input=USER)
    calls = [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]
    assert [(c.name, c.arguments) for c in calls] == [
        ("get_weather", '{"city":"Paris"}'),
        ("get_time", '{"city":"Tokyo"}'),
    ]
    response = await client.responses.create(model="fake-tools", input=USER, tools=[CLOCK_TOOL])
    calls = [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]
    assert [(c.name, c.arguments) for c in calls] == [
        ("lookup_time", '{"zone":"Paris"}'),
        ("lookup_time", '{"zone":"Tokyo"}'),
    ]


async def test_function_calls_stream(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(
        model="fake-tools", input=USER, tools=[WEATHER_TOOL, CLOCK_TOOL], stream=True
    )
    events = await collect(stream)
    check_sequence(events)
    names = types_of(events)
    assert names[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert names[-1] == "response.completed"
    arguments: dict[str, str] = {}
    delta_counts: dict[str, int] = {}
    for event in events:
        if event.type == "response.output_item.added":
            assert isinstance(event.item, ResponseFunctionToolCall)
            assert event.item.arguments == ""
            assert event.item.status == "in_progress"
            assert event.item.id is not None
            arguments[event.item.id] = ""
        elif event.type == "response.function_call_arguments.delta":
            arguments[event.item_id] += event.delta
            delta_counts[event.item_id] = delta_counts.get(event.item_id, 0) + 1
        elif event.type == "response.function_call_arguments.done":
            assert event.arguments == arguments[event.item_id]
    assert arguments == {"fc_fake_1": '{"location":"Paris"}', "fc_fake_2": '{"zone":"Tokyo"}'}
    assert all(count >= 3 for count in delta_counts.values())
    dones = [e for e in events if e.type == "response.output_item.done"]
    assert [(e.output_index, e.item.type) for e in dones] == [
        (0, "function_call"),
        (1, "function_call"),
    ]
    final = events[-1]
    assert final.type == "response.completed"
    calls = [item for item in final.response.output if isinstance(item, ResponseFunctionToolCall)]
    assert [(c.call_id, c.name) for c in calls] == [
        ("call_fake_1", "lookup_weather"),
        ("call_fake_2", "lookup_time"),
    ]


async def test_stream_helper_function_call_arguments(client: AsyncOpenAI) -> None:
    async with client.responses.stream(
        model="fake-tools", input=USER, tools=[WEATHER_TOOL]
    ) as stream:
        final = await stream.get_final_response()
    calls = [item for item in final.output if isinstance(item, ResponseFunctionToolCall)]
    assert [c.arguments for c in calls] == ['{"location":"Paris"}', '{"location":"Tokyo"}']


async def test_raw_function_call_arguments_done_carries_the_name(
    fake: FakeResponses, http: aiohttp.ClientSession
) -> None:
    request = {"model": "fake-tools", "input": "x", "stream": True, "tools": [CLOCK_TOOL]}
    async with http.post(f"{fake.base_url}/responses", json=request, headers=auth()) as resp:
        pairs = parse_sse(await resp.read())
    dones = [data for name, data in pairs if name == "response.function_call_arguments.done"]
    assert [(d["item_id"], d["name"], d["output_index"]) for d in dones] == [
        ("fc_fake_1", "lookup_time", 0),
        ("fc_fake_2", "lookup_time", 1),
    ]


async def test_function_call_output_turn(client: AsyncOpenAI) -> None:
    history: list[Any] = [
        *USER,
        {"type": "function_call", "call_id": "call_a", "name": "w", "arguments": "{}"},
        {"type": "function_call", "call_id": "call_b", "name": "t", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
        {
            "type": "function_call_output",
            "call_id": "call_b",
            "output": [{"type": "input_text", "text": "noon"}],
        },
    ]
    for model in ("gpt-4.1", "fake-tools"):
        response = await client.responses.create(model=model, input=history)
        assert response.output_text == "Tool said: sunny | noon"
        assert response.usage is not None and response.usage.output_tokens == 5


async def test_only_the_last_turns_results_count(client: AsyncOpenAI) -> None:
    history: list[Any] = [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": "c1", "name": "w", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "old"},
        {"role": "assistant", "content": "and now?"},
        {"type": "function_call", "call_id": "c2", "name": "w", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c2", "output": "new"},
    ]
    response = await client.responses.create(model="gpt-4.1", input=history)
    assert response.output_text == "Tool said: new"


# --------------------------------------------------------------------------- images, json


async def test_input_images(client: AsyncOpenAI) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(24)
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    response = await client.responses.create(
        model="gpt-4.1",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what is this"},
                    {"type": "input_image", "image_url": data_url, "detail": "auto"},
                    {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
                ],
            }
        ],
    )
    assert response.output_text == (
        "Echo: what is this [image: image/png 32 bytes] [image: https://example.com/cat.jpg]"
    )


async def test_bad_base64_image_is_rejected(client: AsyncOpenAI) -> None:
    content = [{"type": "input_image", "image_url": "data:image/png;base64,@@@"}]
    with pytest.raises(openai.BadRequestError) as raised:
        await client.responses.create(model="gpt-4.1", input=[{"role": "user", "content": content}])
    assert "base64" in raised.value.message


async def test_json_schema_output(client: AsyncOpenAI) -> None:
    fmt: dict[str, Any] = {
        "type": "json_schema",
        "name": "echo",
        "schema": {
            "type": "object",
            "properties": {"echo": {"type": "string"}},
            "required": ["echo"],
            "additionalProperties": False,
        },
        "strict": True,
    }
    response = await client.responses.create(model="gpt-4.1", input=USER, text={"format": fmt})
    assert response.output_text == '{"echo":"hello there big world"}'
    assert json.loads(response.output_text) == {"echo": "hello there big world"}
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"
    json_mode = await client.responses.create(
        model="gpt-4.1", input=USER, text={"format": {"type": "json_object"}}
    )
    assert json.loads(json_mode.output_text) == {"echo": "hello there big world"}


async def test_json_schema_needs_a_name(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.responses.create(
            model="gpt-4.1",
            input=USER,
            text={"format": {"type": "json_schema", "schema": {"type": "object"}}},  # type: ignore[typeddict-item]
        )
    assert raised.value.code == "missing_required_parameter"
    assert raised.value.param == "text.format.name"


# --------------------------------------------------------------------------- reasoning


async def test_fake_think(client: AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="fake-think",
        input=USER,
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
    )
    reasoning, message = response.output
    assert isinstance(reasoning, ResponseReasoningItem)
    assert reasoning.id.startswith("rs_")
    assert reasoning.encrypted_content == REASONING_SIGNATURE
    assert [(s.type, s.text) for s in reasoning.summary] == [
        ("summary_text", "Thinking about: hello there big world")
    ]
    assert isinstance(message, ResponseOutputMessage)
    assert response.output_text == "Echo: hello there big world"
    assert response.reasoning is not None
    assert (response.reasoning.effort, response.reasoning.summary) == ("low", "auto")
    usage = response.usage
    assert usage is not None
    assert usage.output_tokens_details.reasoning_tokens == 6
    assert usage.output_tokens == 5 + 6


async def test_fake_think_stream(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(model="fake-think", input="why sky", stream=True)
    events = await collect(stream)
    check_sequence(events)
    assert types_of(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        *["response.reasoning_summary_text.delta"] * 4,
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2]
    assert added.type == "response.output_item.added"
    assert isinstance(added.item, ResponseReasoningItem)
    assert added.item.encrypted_content is None
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary == "Thinking about: why sky"
    text_done = events[8]
    assert text_done.type == "response.reasoning_summary_text.done"
    assert (text_done.item_id, text_done.summary_index) == (added.item.id, 0)
    reasoning_done = events[10]
    assert reasoning_done.type == "response.output_item.done"
    assert isinstance(reasoning_done.item, ResponseReasoningItem)
    assert reasoning_done.item.encrypted_content == REASONING_SIGNATURE
    assert reasoning_done.item.summary[0].text == "Thinking about: why sky"
    message_added = events[11]
    assert message_added.type == "response.output_item.added"
    assert message_added.output_index == 1
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Echo: why sky"
    assert completed.response.usage is not None
    assert completed.response.usage.output_tokens_details.reasoning_tokens == 4


async def test_fake_think_tools_round_trip(client: AsyncOpenAI) -> None:
    first = await client.responses.create(
        model="fake-think-tools", input=USER, tools=[WEATHER_TOOL], store=False
    )
    reasoning, call = first.output
    assert isinstance(reasoning, ResponseReasoningItem)
    assert reasoning.encrypted_content == REASONING_SIGNATURE
    assert isinstance(call, ResponseFunctionToolCall)
    assert (call.id, call.call_id, call.name, call.arguments) == (
        "fc_fake_1",
        "call_fake_1",
        "lookup_weather",
        '{"location":"Paris"}',
    )
    assert first.usage is not None
    assert first.usage.output_tokens_details.reasoning_tokens == 6

    result = {"type": "function_call_output", "call_id": "call_fake_1", "output": "21C"}
    replayed = [item.model_dump(exclude_none=True) for item in first.output]
    second = await client.responses.create(
        model="fake-think-tools", input=[*USER, *replayed, result], tools=[WEATHER_TOOL]
    )
    assert second.output_text == "Tool said: 21C"

    without_reasoning = [*USER, replayed[1], result]
    with pytest.raises(openai.BadRequestError) as raised:
        await client.responses.create(
            model="fake-think-tools", input=without_reasoning, tools=[WEATHER_TOOL]
        )
    assert "signature" in raised.value.message
    assert "encrypted_content" in raised.value.message
    assert raised.value.status_code == 400

    forged = {**replayed[0], "encrypted_content": "sig-forged"}
    with pytest.raises(openai.BadRequestError, match="signature"):
        await client.responses.create(
            model="fake-think-tools", input=[*USER, forged, replayed[1], result]
        )


async def test_fake_think_tools_stream_then_replay(client: AsyncOpenAI) -> None:
    async with client.responses.stream(
        model="fake-think-tools", input=USER, tools=[CLOCK_TOOL]
    ) as stream:
        final = await stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "function_call"]
    result = {"type": "function_call_output", "call_id": "call_fake_1", "output": "9am"}
    replayed = [item.model_dump(exclude_none=True) for item in final.output]
    second = await client.responses.create(
        model="fake-think-tools", input=[*USER, *replayed, result]
    )
    assert second.output_text == "Tool said: 9am"


# --------------------------------------------------------------------------- max_output_tokens


async def test_max_output_tokens_cuts_non_stream(client: AsyncOpenAI) -> None:
    response = await client.responses.create(model="gpt-4.1", input=USER, max_output_tokens=2)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.max_output_tokens == 2
    message = only_message(response)
    assert message.status == "incomplete"
    assert response.output_text == "Echo: hello"
    assert response.usage is not None and response.usage.output_tokens == 2


async def test_max_output_tokens_not_reached(client: AsyncOpenAI) -> None:
    response = await client.responses.create(model="gpt-4.1", input=USER, max_output_tokens=16)
    assert response.status == "completed"
    assert response.incomplete_details is None


async def test_max_output_tokens_cuts_stream(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(
        model="gpt-4.1", input=USER, max_output_tokens=3, stream=True
    )
    events = await collect(stream)
    check_sequence(events)
    assert types_of(events)[-1] == "response.incomplete"
    assert "response.completed" not in types_of(events)
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Echo:", " hello", " there"]
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.status == "incomplete"
    assert last.response.incomplete_details is not None
    assert last.response.incomplete_details.reason == "max_output_tokens"
    assert last.response.output_text == "Echo: hello there"


# --------------------------------------------------------------------------- errors


async def test_rate_limit_error(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as raised:
        await client.responses.create(model="fake-error-429", input=USER)
    error = raised.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.type == "requests"
    assert error.response.headers["retry-after"] == "1"
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors(client: AsyncOpenAI, status: int) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        await client.responses.create(model=f"fake-error-{status}", input=USER, stream=True)
    assert raised.value.status_code == status
    assert raised.value.type == "server_error"


async def test_fake_error_4xx(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        await client.responses.create(model="fake-error-400", input=USER)
    with pytest.raises(openai.NotFoundError) as raised:
        await client.responses.create(model="fake-error-404", input=USER)
    assert raised.value.code == "model_not_found"


async def test_wrong_key(fake: FakeResponses) -> None:
    async with AsyncOpenAI(
        base_url=fake.base_url, api_key="sk-wrong-key-123456", max_retries=0
    ) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.responses.create(model="gpt-4.1", input=USER)
    error = raised.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert error.type == "invalid_request_error"
    assert "sk-wrong*******3456" in error.message


async def test_missing_key_and_bad_json(fake: FakeResponses, http: aiohttp.ClientSession) -> None:
    url = f"{fake.base_url}/responses"
    async with http.post(url, json={"model": "gpt-4.1", "input": "x"}) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "invalid_api_key"
    async with http.post(url, data=b"{nope", headers=auth()) as resp:
        assert resp.status == 400
        body = await resp.json()
        assert body["error"]["type"] == "invalid_request_error"
        assert "could not parse the JSON body" in body["error"]["message"]


@pytest.mark.parametrize(
    ("items", "param", "code"),
    [
        ([{"role": "tool", "content": "x"}], "input[0].role", "invalid_value"),
        (
            [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}],
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            [{"role": "user", "content": [{"type": "output_text", "text": "x"}]}],
            "input[0].content[0].type",
            "invalid_value",
        ),
        ([{"type": "function_call_output", "output": "x"}], "input[0].call_id", None),
        ([{"type": "function_call", "call_id": "c", "arguments": "{}"}], "input[0].name", None),
        ([{"type": "reasoning", "id": "rs_1", "encrypted_content": "e"}], "input[0].summary", None),
    ],
)
async def test_invalid_input_items(
    client: AsyncOpenAI, items: list[Any], param: str, code: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.responses.create(model="gpt-4.1", input=items)
    assert raised.value.param == param
    assert raised.value.code == (code or "missing_required_parameter")


async def test_previous_response_id_is_not_found(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.responses.create(model="gpt-4.1", input=USER, previous_response_id="resp_x")
    assert raised.value.code == "previous_response_not_found"


# --------------------------------------------------------------------------- transport behaviours


async def test_fake_stream_fail_yields_response_failed(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(model="fake-stream-fail", input=USER, stream=True)
    events = await collect(stream)
    check_sequence(events)
    assert types_of(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.failed",
    ]
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.status == "failed"
    assert failed.response.error is not None
    assert failed.response.error.code == "server_error"
    assert "error while processing" in failed.response.error.message
    assert failed.response.usage is None


async def test_fake_stream_fail_with_the_stream_helper(client: AsyncOpenAI) -> None:
    seen: list[str] = []
    async with client.responses.stream(model="fake-stream-fail", input=USER) as stream:
        async for event in stream:
            seen.append(event.type)
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            await stream.get_final_response()
    assert seen[-1] == "response.failed"


async def test_fake_stream_fail_non_stream_is_a_500(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        await client.responses.create(model="fake-stream-fail", input=USER)
    assert raised.value.status_code == 500


async def test_fake_cut_breaks_the_stream(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(model="fake-cut", input=USER, stream=True)
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError) as raised:
        async for event in stream:
            seen.append(event.type)
    assert seen == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
    ]
    assert "incomplete chunked read" in str(raised.value.__cause__)


async def test_fake_cut_non_stream(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.APIConnectionError):
        await client.responses.create(model="fake-cut", input=USER)


async def test_fake_cut_raw_has_no_terminal_event(
    fake: FakeResponses, http: aiohttp.ClientSession
) -> None:
    received = b""
    request = {"model": "fake-cut", "input": USER, "stream": True}
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.post(f"{fake.base_url}/responses", json=request, headers=auth()) as resp:
            assert resp.status == 200
            async for data in resp.content.iter_any():
                received += data
    assert received.count(b"data: ") == 6
    assert b"response.completed" not in received


async def test_fake_slow_delays(client: AsyncOpenAI) -> None:
    started = time.monotonic()
    response = await client.responses.create(model="fake-slow-0.3", input=USER)
    assert time.monotonic() - started >= 0.3
    assert response.output_text == "Echo: hello there big world"


async def test_fake_drip_sends_events_apart(
    fake: FakeResponses, http: aiohttp.ClientSession
) -> None:
    arrivals: list[float] = []
    received = b""
    request = {"model": "fake-drip-40", "input": USER, "stream": True}
    started = time.monotonic()
    async with http.post(f"{fake.base_url}/responses", json=request, headers=auth()) as resp:
        assert resp.status == 200
        async for data in resp.content.iter_any():
            arrivals.append(time.monotonic())
            received += data
    pairs = parse_sse(received)
    # created, in_progress, 10 text events, completed; each written 40 ms after the previous.
    assert len(pairs) == 13
    assert arrivals[-1] - started >= 13 * 0.04 * 0.9
    assert arrivals[-1] - arrivals[0] >= 0.04


async def test_fake_empty(fake: FakeResponses, http: aiohttp.ClientSession) -> None:
    request = {"model": "fake-empty", "input": USER}
    async with http.post(f"{fake.base_url}/responses", json=request, headers=auth()) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.read() == b""


async def test_unknown_path(fake: FakeResponses, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{fake.base_url}/responses/resp_123", headers=auth()) as resp:
        assert resp.status == 404
        body = await resp.json()
        assert body["error"]["message"] == "Invalid URL (GET /v1/responses/resp_123)"


# --------------------------------------------------------------------------- models, recording


async def test_models_list(client: AsyncOpenAI) -> None:
    page = await client.models.list()
    ids = [model.id for model in page.data]
    assert "fake-think-tools" in ids
    assert "fake-stream-fail" in ids
    one = await client.models.retrieve("gpt-4.1")
    assert (one.id, one.object) == ("gpt-4.1", "model")


async def test_requests_are_recorded_and_bounded(client: AsyncOpenAI, fake: FakeResponses) -> None:
    filler = RecordedRequest(method="GET", path="/x", headers={}, body=None, raw=b"")
    fake.state.requests.extend([filler] * MAX_RECORDED)
    await client.responses.create(model="gpt-4.1", input=USER)
    await client.responses.create(model="gpt-4.1", input=USER)
    assert len(fake.state.requests) == MAX_RECORDED
    last = fake.state.requests[-1]
    assert (last.method, last.path) == ("POST", "/v1/responses")
    assert last.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert last.body["input"] == USER
    assert json.loads(last.raw) == last.body
    assert last.peer is not None and last.peer[0] == "127.0.0.1"
    # The SDK keeps its connection alive: both requests came from the same client port.
    assert fake.state.requests[-2].peer == last.peer


async def test_record_off_stores_nothing() -> None:
    async with FakeResponses("sk-other", record=False) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        async with AsyncOpenAI(base_url=server.base_url, api_key="sk-other", max_retries=0) as sdk:
            response = await sdk.responses.create(model="gpt-4.1", input=USER)
        assert response.output_text == "Echo: hello there big world"
        assert server.state.requests == []


async def test_not_started_has_no_port() -> None:
    server = FakeResponses()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
    await server.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()
    finally:
        await server.stop()
    await server.stop()


async def test_runs_as_a_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.responses_upstream",
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
            response = await sdk.responses.create(model="gpt-4.1", input=USER)
        assert response.output_text == "Echo: hello there big world"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
