"""The fake Gemini upstream, driven directly with the official SDK and with raw HTTP."""

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
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from tests.fakes.gemini_upstream import (
    DEFAULT_API_KEY,
    MAX_RECORDED,
    THOUGHT_SIGNATURE,
    THOUGHT_SIGNATURE_WIRE,
    FakeGemini,
    RecordedRequest,
)

# google-genai subclasses aiohttp.ClientSession, which aiohttp 3.14 deprecates with a warning;
# the project turns warnings into errors, so this one (and only this one) is let through here.

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMPT = "hello there big world"
USER: dict[str, Any] = {"role": "user", "parts": [{"text": PROMPT}]}
WEATHER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="lookup_weather",
            description="Weather for a place.",
            parameters=types.Schema(
                type=types.Type.OBJECT,
                properties={
                    "place": types.Schema(type=types.Type.STRING),
                    "unit": types.Schema(type=types.Type.STRING),
                },
            ),
        ),
        types.FunctionDeclaration(
            name="local_time",
            parameters_json_schema={"type": "object", "properties": {"zone": {"type": "string"}}},
        ),
    ]
)


def make_client(
    base_url: str, key: str = DEFAULT_API_KEY, api_version: str | None = "v1beta"
) -> genai.Client:
    """An SDK client pointed at the fake, using API-key auth (the ``x-goog-api-key`` header)."""
    options = types.HttpOptions(base_url=base_url, api_version=api_version)
    return genai.Client(api_key=key, http_options=options)


async def close_client(sdk: genai.Client) -> None:
    await sdk.aio.aclose()
    sdk.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as server:
        yield server


@pytest.fixture
async def client(fake: FakeGemini) -> AsyncIterator[genai.Client]:
    sdk = make_client(fake.base_url)
    yield sdk
    await close_client(sdk)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url(fake: FakeGemini, model: str, method: str, query: str = "") -> str:
    return f"{fake.base_url}/v1beta/models/{model}:{method}{query}"


def key_header(key: str = DEFAULT_API_KEY) -> dict[str, str]:
    return {"x-goog-api-key": key}


def sse_events(body: bytes) -> list[dict[str, Any]]:
    """Splits an ``alt=sse`` body into its chunks, checking each is ``data: ...\\r\\n\\r\\n``."""
    text = body.decode()
    assert text.endswith("\r\n\r\n")
    events = text[: -len("\r\n\r\n")].split("\r\n\r\n")
    for event in events:
        assert event.startswith("data: "), event
        assert "\n" not in event, event
    return [json.loads(event[len("data: ") :]) for event in events]


def array_chunks(body: bytes) -> list[dict[str, Any]]:
    """Splits a JSON-array stream body, checking Google's ``[{...}\\n,\\r\\n{...}\\n]`` framing."""
    text = body.decode()
    assert text.startswith('[{\n  "candidates": [')
    assert text.endswith("}\n]")
    pieces = text[1 : -len("\n]")].split("\n,\r\n")
    for piece in pieces:
        assert piece.startswith("{\n  ") and piece.endswith("\n}"), piece
    whole: list[dict[str, Any]] = json.loads(text)
    assert whole == [json.loads(piece) for piece in pieces]
    return whole


def texts(response: types.GenerateContentResponse) -> list[str]:
    assert response.candidates
    content = response.candidates[0].content
    assert content is not None and content.parts is not None
    return [part.text or "" for part in content.parts]


# --------------------------------------------------------------------------- normal replies


async def test_non_stream_echo_and_usage(client: genai.Client, fake: FakeGemini) -> None:
    response = await client.aio.models.generate_content(
        model="gemini-2.5-flash",
        contents=PROMPT,
        config=types.GenerateContentConfig(system_instruction="Be brief."),
    )
    assert response.text == "Echo: hello there big world"
    assert response.candidates is not None
    [candidate] = response.candidates
    assert candidate.index == 0
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content is not None and candidate.content.role == "model"
    usage = response.usage_metadata
    assert usage is not None
    # 2 system words + 4 user words in, 5 words out; zero counts are left out (proto3 JSON).
    assert (usage.prompt_token_count, usage.candidates_token_count) == (6, 5)
    assert usage.total_token_count == 11
    assert usage.thoughts_token_count is None
    assert usage.cached_content_token_count is None
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details[0].token_count == 6
    assert response.model_version == "gemini-2.5-flash"
    assert response.response_id and len(response.response_id) == 23

    last = fake.state.requests[-1]
    assert (last.method, last.path) == ("POST", "/v1beta/models/gemini-2.5-flash:generateContent")
    assert last.headers["x-goog-api-key"] == DEFAULT_API_KEY
    assert last.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]


async def test_sdk_default_api_version_v1_is_served(fake: FakeGemini) -> None:
    sdk = make_client(fake.base_url, api_version=None)
    try:
        response = await sdk.aio.models.generate_content(model="gemini-2.5-pro", contents=PROMPT)
    finally:
        await close_client(sdk)
    assert response.text == "Echo: hello there big world"
    assert fake.state.requests[-1].path == "/v1/models/gemini-2.5-pro:generateContent"


async def test_echo_uses_the_last_user_message(client: genai.Client) -> None:
    contents = [
        types.Content(role="user", parts=[types.Part(text="first question")]),
        types.Content(role="model", parts=[types.Part(text="first answer")]),
        types.Content(role="user", parts=[types.Part(text="second"), types.Part(text="part")]),
    ]
    response = await client.aio.models.generate_content(model="any-model", contents=contents)
    assert response.text == "Echo: second part"
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 6


async def test_stream_reassembles_with_usage_on_every_chunk(client: genai.Client) -> None:
    chunks = [
        chunk
        async for chunk in await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents=PROMPT
        )
    ]
    assert [chunk.text for chunk in chunks] == ["Echo:", " hello", " there", " big", " world"]
    assert "".join(chunk.text or "" for chunk in chunks) == "Echo: hello there big world"
    finish = [chunk.candidates[0].finish_reason if chunk.candidates else None for chunk in chunks]
    assert finish == [None, None, None, None, types.FinishReason.STOP]
    # Like Google, every chunk reports usage with the running candidates count.
    running = [
        chunk.usage_metadata.candidates_token_count for chunk in chunks if chunk.usage_metadata
    ]
    assert running == [1, 2, 3, 4, 5]
    last_usage = chunks[-1].usage_metadata
    assert last_usage is not None
    assert (last_usage.prompt_token_count, last_usage.total_token_count) == (4, 9)
    assert len({chunk.response_id for chunk in chunks}) == 1


async def test_raw_sse_framing(fake: FakeGemini, http: aiohttp.ClientSession) -> None:
    request = {"contents": [USER]}
    async with http.post(
        url(fake, "gemini-2.5-flash", "streamGenerateContent", "?alt=sse"),
        json=request,
        headers=key_header(),
    ) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/event-stream"
        body = await resp.read()
    chunks = sse_events(body)
    assert b"[DONE]" not in body
    assert len(chunks) == 5
    for chunk in chunks:
        assert set(chunk) == {"candidates", "usageMetadata", "modelVersion", "responseId"}
        assert chunk["candidates"][0]["content"]["role"] == "model"
        assert chunk["candidates"][0]["index"] == 0
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks] == [
        "Echo:",
        " hello",
        " there",
        " big",
        " world",
    ]
    assert "finishReason" not in chunks[0]["candidates"][0]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"] == {
        "promptTokenCount": 4,
        "candidatesTokenCount": 5,
        "totalTokenCount": 9,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}],
    }


async def test_raw_json_array_stream_framing(fake: FakeGemini, http: aiohttp.ClientSession) -> None:
    async with http.post(
        url(fake, "gemini-2.5-flash", "streamGenerateContent"),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert resp.status == 200
        assert resp.headers["content-type"] == "application/json; charset=UTF-8"
        body = await resp.read()
    chunks = array_chunks(body)
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == (
        "Echo: hello there big world"
    )
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    # alt=json is the same framing as no alt at all.
    async with http.post(
        url(fake, "gemini-2.5-flash", "streamGenerateContent", "?alt=json"),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert len(array_chunks(await resp.read())) == 5


async def test_raw_non_stream_body_is_pretty_json(
    fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        url(fake, "gemini-2.5-flash", "generateContent"),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert resp.status == 200
        assert resp.headers["content-type"] == "application/json; charset=UTF-8"
        body = await resp.read()
    assert body.startswith(b'{\n  "candidates": [\n')
    assert body.endswith(b"}\n")
    parsed = json.loads(body)
    assert parsed["candidates"][0]["content"]["parts"] == [{"text": "Echo: hello there big world"}]


async def test_max_output_tokens_cuts_with_max_tokens(client: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=2)
    response = await client.aio.models.generate_content(
        model="gemini-2.5-flash", contents=PROMPT, config=config
    )
    assert response.text == "Echo: hello"
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata is not None
    assert response.usage_metadata.candidates_token_count == 2
    chunks = [
        c
        async for c in await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents=PROMPT, config=config
        )
    ]
    assert [c.text for c in chunks] == ["Echo:", " hello"]
    assert chunks[-1].candidates is not None
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


async def test_cached_model_reports_cached_tokens(client: genai.Client) -> None:
    response = await client.aio.models.generate_content(
        model="gemini-2.5-flash-cached", contents="one two three four five"
    )
    usage = response.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.cached_content_token_count) == (5, 2)
    assert usage.cache_tokens_details is not None
    assert usage.cache_tokens_details[0].token_count == 2


async def test_echo_headers(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        http_options=types.HttpOptions(headers={"x-fake-echo-headers": "1", "X-Extra": "yes"})
    )
    response = await client.aio.models.generate_content(
        model="gemini-2.5-flash", contents=PROMPT, config=config
    )
    assert response.text is not None
    echoed = json.loads(response.text)
    assert echoed["x-goog-api-key"] == DEFAULT_API_KEY
    assert echoed["x-extra"] == "yes"
    assert list(echoed) == sorted(echoed)


# --------------------------------------------------------------------------- tools


async def test_fake_tools_two_parallel_calls(client: genai.Client) -> None:
    response = await client.aio.models.generate_content(
        model="fake-tools",
        contents="What is the weather?",
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL]),
    )
    calls = response.function_calls
    assert calls is not None
    assert [(c.id, c.name, c.args) for c in calls] == [
        ("call_fake_1", "lookup_weather", {"place": "Paris"}),
        ("call_fake_2", "local_time", {"zone": "Tokyo"}),
    ]
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.text is None


async def test_fake_tools_stream_sends_calls_whole_in_one_chunk(client: genai.Client) -> None:
    chunks = [
        c
        async for c in await client.aio.models.generate_content_stream(
            model="fake-tools",
            contents="What is the weather?",
            config=types.GenerateContentConfig(tools=[WEATHER_TOOL]),
        )
    ]
    assert len(chunks) == 1
    calls = chunks[0].function_calls
    assert calls is not None
    assert [c.id for c in calls] == ["call_fake_1", "call_fake_2"]
    assert chunks[0].usage_metadata is not None
    assert chunks[0].usage_metadata.candidates_token_count == 10


async def test_fake_tools_defaults_allowed_names_and_none_mode(client: genai.Client) -> None:
    response = await client.aio.models.generate_content(model="fake-tools", contents="hi")
    assert response.function_calls is not None
    assert [(c.name, c.args) for c in response.function_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Tokyo"}),
    ]
    only_time = types.ToolConfig(
        function_calling_config=types.FunctionCallingConfig(
            mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["local_time"]
        )
    )
    response = await client.aio.models.generate_content(
        model="fake-tools",
        contents="hi",
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL], tool_config=only_time),
    )
    assert response.function_calls is not None
    assert [(c.name, c.args) for c in response.function_calls] == [
        ("local_time", {"zone": "Paris"}),
        ("local_time", {"zone": "Tokyo"}),
    ]
    no_calls = types.ToolConfig(
        function_calling_config=types.FunctionCallingConfig(
            mode=types.FunctionCallingConfigMode.NONE
        )
    )
    response = await client.aio.models.generate_content(
        model="fake-tools",
        contents=PROMPT,
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL], tool_config=no_calls),
    )
    assert response.function_calls is None
    assert response.text == "Echo: hello there big world"


async def test_function_response_turn_says_tool_said(client: genai.Client) -> None:
    first = await client.aio.models.generate_content(
        model="fake-tools",
        contents="What is the weather?",
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL]),
    )
    assert first.candidates is not None and first.candidates[0].content is not None
    calls = first.function_calls
    assert calls is not None
    results = types.Content(
        role="user",
        parts=[
            types.Part(
                function_response=types.FunctionResponse(
                    id=calls[0].id, name=calls[0].name, response={"output": "Sunny, 21C"}
                )
            ),
            types.Part(
                function_response=types.FunctionResponse(
                    id=calls[1].id, name=calls[1].name, response={"error": "clock broken"}
                )
            ),
        ],
    )
    contents = [
        types.Content(role="user", parts=[types.Part(text="What is the weather?")]),
        first.candidates[0].content,
        results,
    ]
    second = await client.aio.models.generate_content(
        model="fake-tools",
        contents=contents,
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL]),
    )
    assert second.function_calls is None
    assert second.text == "Tool said: Sunny, 21C | error: clock broken"


async def test_function_response_text_forms(client: genai.Client) -> None:
    def turn(response: dict[str, Any]) -> list[types.Content]:
        return [
            types.Content(role="user", parts=[types.Part(text="go")]),
            types.Content(
                role="model",
                parts=[types.Part(function_call=types.FunctionCall(name="f", args={}))],
            ),
            types.Content(
                role="user",
                parts=[types.Part.from_function_response(name="f", response=response)],
            ),
        ]

    for response, expected in (
        ({"result": "plain"}, "Tool said: plain"),
        ({"a": 1, "b": "x"}, 'Tool said: {"a":1,"b":"x"}'),
        ({"output": {"temp": 3}}, 'Tool said: {"temp":3}'),
    ):
        reply = await client.aio.models.generate_content(model="echo", contents=turn(response))
        assert reply.text == expected


# --------------------------------------------------------------------------- media, JSON


async def test_inline_image_and_file_uri_suffix(client: genai.Client) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(24)
    contents = [
        types.Content(
            role="user",
            parts=[
                types.Part(text="what is this"),
                types.Part.from_bytes(data=image, mime_type="image/png"),
                types.Part.from_uri(file_uri="https://example.com/cat.jpg", mime_type="image/jpeg"),
            ],
        )
    ]
    response = await client.aio.models.generate_content(model="gemini-2.5-flash", contents=contents)
    assert response.text == (
        "Echo: what is this [image: image/png 32 bytes] [image: https://example.com/cat.jpg]"
    )


class EchoReply(BaseModel):
    echo: str


async def test_structured_output_response_schema(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=EchoReply
    )
    response = await client.aio.models.generate_content(
        model="gemini-2.5-flash", contents=PROMPT, config=config
    )
    assert response.text == '{"echo":"hello there big world"}'
    assert isinstance(response.parsed, EchoReply)
    assert response.parsed.echo == PROMPT


async def test_structured_output_response_json_schema_streams(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema={"type": "object", "properties": {"echo": {"type": "string"}}},
    )
    chunks = [
        c
        async for c in await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents=PROMPT, config=config
        )
    ]
    assert json.loads("".join(c.text or "" for c in chunks)) == {"echo": PROMPT}


# --------------------------------------------------------------------------- thinking


async def test_fake_think_thought_part_then_signed_answer(client: genai.Client) -> None:
    response = await client.aio.models.generate_content(model="fake-think", contents=PROMPT)
    assert response.candidates is not None and response.candidates[0].content is not None
    thought, answer = response.candidates[0].content.parts or []
    assert thought.thought is True
    assert thought.text == "Thinking about: hello there big world"
    assert thought.thought_signature is None
    assert answer.thought is None
    assert answer.text == "Echo: hello there big world"
    # The SDK decodes the base64 wire value into the signature's bytes.
    assert answer.thought_signature == THOUGHT_SIGNATURE == b"sig-fake-1"
    assert response.text == "Echo: hello there big world"  # .text skips thought parts
    usage = response.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count) == (4, 5)
    assert usage.thoughts_token_count == 6
    assert usage.total_token_count == 15


async def test_fake_think_wire_signature_is_base64(
    fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    assert THOUGHT_SIGNATURE_WIRE == "c2lnLWZha2UtMQ=="
    assert base64.b64decode(THOUGHT_SIGNATURE_WIRE) == b"sig-fake-1"
    async with http.post(
        url(fake, "fake-think", "generateContent"), json={"contents": [USER]}, headers=key_header()
    ) as resp:
        body = await resp.json()
    assert body["candidates"][0]["content"]["parts"] == [
        {"text": "Thinking about: hello there big world", "thought": True},
        {"text": "Echo: hello there big world", "thoughtSignature": "c2lnLWZha2UtMQ=="},
    ]
    assert body["usageMetadata"]["thoughtsTokenCount"] == 6


async def test_fake_think_stream_signs_the_last_part(client: genai.Client) -> None:
    chunks = [
        c
        async for c in await client.aio.models.generate_content_stream(
            model="fake-think", contents=PROMPT
        )
    ]
    parts = [
        c.candidates[0].content.parts[0]
        for c in chunks
        if c.candidates and c.candidates[0].content and c.candidates[0].content.parts
    ]
    assert parts[0].thought is True
    assert parts[0].text == "Thinking about: hello there big world"
    assert "".join(p.text or "" for p in parts[1:]) == "Echo: hello there big world"
    assert [p.thought_signature for p in parts] == [None] * 5 + [THOUGHT_SIGNATURE]
    assert chunks[0].usage_metadata is not None
    assert chunks[0].usage_metadata.thoughts_token_count == 6


async def fake_think_tools_first_turn(
    client: genai.Client,
) -> tuple[list[types.Content], types.FunctionCall]:
    question = types.Content(role="user", parts=[types.Part(text="weather in Paris?")])
    first = await client.aio.models.generate_content(
        model="fake-think-tools",
        contents=[question],
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL]),
    )
    assert first.candidates is not None and first.candidates[0].content is not None
    model_turn = first.candidates[0].content
    thought, call_part = model_turn.parts or []
    assert thought.thought is True and thought.text == "Thinking about: weather in Paris?"
    assert call_part.function_call is not None
    assert call_part.function_call.id == "call_fake_1"
    assert call_part.function_call.name == "lookup_weather"
    assert call_part.function_call.args == {"place": "Paris"}
    assert call_part.thought_signature == THOUGHT_SIGNATURE
    assert first.usage_metadata is not None
    assert first.usage_metadata.thoughts_token_count == 5
    result = types.Content(
        role="user",
        parts=[
            types.Part(
                function_response=types.FunctionResponse(
                    id="call_fake_1", name="lookup_weather", response={"output": "Rainy"}
                )
            )
        ],
    )
    return [question, model_turn, result], call_part.function_call


async def test_fake_think_tools_round_trip_with_signature(
    client: genai.Client, fake: FakeGemini
) -> None:
    history, _ = await fake_think_tools_first_turn(client)
    second = await client.aio.models.generate_content(
        model="fake-think-tools",
        contents=history,
        config=types.GenerateContentConfig(tools=[WEATHER_TOOL]),
    )
    assert second.text == "Tool said: Rainy"
    assert second.function_calls is None
    sent = fake.state.requests[-1].body["contents"][1]["parts"][1]
    assert sent["thoughtSignature"] == THOUGHT_SIGNATURE_WIRE
    assert sent["functionCall"]["id"] == "call_fake_1"


async def test_fake_think_tools_without_signature_is_400(client: genai.Client) -> None:
    history, call = await fake_think_tools_first_turn(client)
    history[1] = types.Content(role="model", parts=[types.Part(function_call=call)])
    with pytest.raises(errors.ClientError) as raised:
        await client.aio.models.generate_content(model="fake-think-tools", contents=history)
    assert raised.value.code == 400
    assert raised.value.status == "INVALID_ARGUMENT"
    assert raised.value.message is not None
    assert "thought_signature" in raised.value.message
    assert "default_api:lookup_weather" in raised.value.message
    assert "position 2" in raised.value.message


async def test_fake_think_tools_wrong_signature_is_400(client: genai.Client) -> None:
    history, call = await fake_think_tools_first_turn(client)
    history[1] = types.Content(
        role="model", parts=[types.Part(function_call=call, thought_signature=b"other")]
    )
    with pytest.raises(errors.ClientError) as raised:
        await client.aio.models.generate_content(model="fake-think-tools", contents=history)
    assert raised.value.code == 400
    assert raised.value.message == "Corrupted thought signature."


async def test_signature_that_is_not_base64_is_400(
    fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "go"}]},
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "sig-fake-1"}
                ],
            },
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
        ]
    }
    async with http.post(
        url(fake, "fake-think-tools", "generateContent"), json=request, headers=key_header()
    ) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == (
        "Invalid value at 'contents[1].parts[0].thought_signature' (TYPE_BYTES), "
        'Base64 decoding failed for "sig-fake-1"'
    )


# --------------------------------------------------------------------------- errors, auth


async def test_rate_limit_error(
    client: genai.Client, fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(errors.ClientError) as raised:
        await client.aio.models.generate_content(model="fake-error-429", contents=PROMPT)
    assert raised.value.code == 429
    assert raised.value.status == "RESOURCE_EXHAUSTED"
    details = raised.value.details["error"]["details"]
    retry = [d for d in details if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]
    async with http.post(
        url(fake, "fake-error-429", "generateContent"),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert resp.status == 429
        assert "retry-after" not in resp.headers  # Google reports the delay in the body only


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
    ],
)
async def test_client_errors(client: genai.Client, status: int, name: str) -> None:
    with pytest.raises(errors.ClientError) as raised:
        await client.aio.models.generate_content(model=f"fake-error-{status}", contents=PROMPT)
    assert (raised.value.code, raised.value.status) == (status, name)


@pytest.mark.parametrize(
    ("status", "name"), [(500, "INTERNAL"), (503, "UNAVAILABLE"), (504, "DEADLINE_EXCEEDED")]
)
async def test_server_errors(client: genai.Client, status: int, name: str) -> None:
    with pytest.raises(errors.ServerError) as raised:
        await client.aio.models.generate_content(model=f"fake-error-{status}", contents=PROMPT)
    assert (raised.value.code, raised.value.status) == (status, name)


async def test_stream_errors_sse_and_json_array(
    client: genai.Client, fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(errors.ServerError) as raised:
        async for _ in await client.aio.models.generate_content_stream(
            model="fake-error-500", contents=PROMPT
        ):
            pass
    assert raised.value.code == 500
    # alt=sse: a plain JSON error body; no alt: the error wrapped in a one-element array.
    async with http.post(
        url(fake, "fake-error-503", "streamGenerateContent", "?alt=sse"),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert resp.status == 503
        assert (await resp.json())["error"]["status"] == "UNAVAILABLE"
    async with http.post(
        url(fake, "fake-error-503", "streamGenerateContent"),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert resp.status == 503
        body = await resp.read()
    assert body.startswith(b'[{\n  "error": {\n') and body.endswith(b"}\n]")
    assert json.loads(body)[0]["error"]["code"] == 503


async def test_wrong_key(fake: FakeGemini) -> None:
    sdk = make_client(fake.base_url, key="AIza-wrong")
    try:
        with pytest.raises(errors.ClientError) as raised:
            await sdk.aio.models.generate_content(model="gemini-2.5-flash", contents=PROMPT)
    finally:
        await close_client(sdk)
    # Google answers an invalid API key with 400 INVALID_ARGUMENT, not 401.
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert raised.value.message == "API key not valid. Please pass a valid API key."
    reasons = [d.get("reason") for d in raised.value.details["error"]["details"]]
    assert "API_KEY_INVALID" in reasons


async def test_missing_key_and_query_key(fake: FakeGemini, http: aiohttp.ClientSession) -> None:
    request = {"contents": [USER]}
    endpoint = url(fake, "gemini-2.5-flash", "generateContent")
    async with http.post(endpoint, json=request) as resp:
        assert resp.status == 403
        assert (await resp.json())["error"]["status"] == "PERMISSION_DENIED"
    async with http.post(endpoint + f"?key={DEFAULT_API_KEY}", json=request) as resp:
        assert resp.status == 200
        assert (await resp.json())["candidates"][0]["content"]["parts"][0]["text"] == (
            "Echo: hello there big world"
        )
    async with http.post(endpoint + "?key=nope", json=request) as resp:
        assert resp.status == 400
    async with http.get(f"{fake.base_url}/v1beta/models?key={DEFAULT_API_KEY}") as resp:
        assert resp.status == 200
    assert fake.state.requests[-1].query == f"key={DEFAULT_API_KEY}"


async def test_request_validation(fake: FakeGemini, http: aiohttp.ClientSession) -> None:
    endpoint = url(fake, "gemini-2.5-flash", "generateContent")
    cases: list[tuple[Any, str]] = [
        ({"messages": [USER]}, 'Unknown name "messages"'),
        ({"contents": []}, "contents is not specified"),
        ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
        ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "valid role: user, model"),
        (
            {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "%%"}}]}]},
            "Base64 decoding failed",
        ),
    ]
    for request, expected in cases:
        async with http.post(endpoint, json=request, headers=key_header()) as resp:
            assert resp.status == 400, request
            error = (await resp.json())["error"]
        assert error["status"] == "INVALID_ARGUMENT"
        assert expected in error["message"]
    async with http.post(endpoint, data=b"{not json", headers=key_header()) as resp:
        assert resp.status == 400
        assert "Invalid JSON payload" in (await resp.json())["error"]["message"]
    # snake_case field names are accepted, as by Google's proto-JSON parser.
    snake = {"contents": [USER], "generation_config": {"max_output_tokens": 1}}
    async with http.post(endpoint, json=snake, headers=key_header()) as resp:
        assert resp.status == 200
        assert (await resp.json())["candidates"][0]["finishReason"] == "MAX_TOKENS"


async def test_url_encoded_model_and_unknown_paths(
    fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    encoded = f"{fake.base_url}/v1beta/models/fake%2Dtools%3AgenerateContent"
    async with http.post(encoded, json={"contents": [USER]}, headers=key_header()) as resp:
        assert resp.status == 200
        parts = (await resp.json())["candidates"][0]["content"]["parts"]
    assert [p["functionCall"]["id"] for p in parts] == ["call_fake_1", "call_fake_2"]
    assert fake.state.requests[-1].path == "/v1beta/models/fake-tools:generateContent"
    for method, path in (
        ("POST", "/v1beta/models/x:embedSomething"),
        ("GET", "/v2/models"),
        ("POST", "/v1beta/chat/completions"),
    ):
        async with http.request(method, fake.base_url + path, headers=key_header()) as resp:
            assert resp.status == 404
            assert resp.content_type == "text/html"
            assert "Error 404 (Not Found)" in await resp.text()


# --------------------------------------------------------------------------- transport behaviours


async def test_fake_cut_breaks_the_stream(client: genai.Client) -> None:
    received: list[str] = []
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in await client.aio.models.generate_content_stream(
            model="fake-cut", contents=PROMPT
        ):
            received.append(chunk.text or "")
    assert received == ["Echo:", " hello"]


async def test_fake_cut_non_stream_raises(client: genai.Client) -> None:
    with pytest.raises(aiohttp.ClientPayloadError):
        await client.aio.models.generate_content(model="fake-cut", contents=PROMPT)


async def test_fake_cut_raw(fake: FakeGemini, http: aiohttp.ClientSession) -> None:
    for query in ("?alt=sse", ""):
        received = b""
        with pytest.raises(aiohttp.ClientPayloadError):
            async with http.post(
                url(fake, "fake-cut", "streamGenerateContent", query),
                json={"contents": [USER]},
                headers=key_header(),
            ) as resp:
                assert resp.status == 200
                async for data in resp.content.iter_any():
                    received += data
        if query:
            assert received.count(b"data: ") == 2
            assert received.endswith(b"\r\n\r\n")
        else:
            assert received.startswith(b"[{") and received.count(b"\n,\r\n") == 1
            assert not received.endswith(b"]")
        assert b"finishReason" not in received


async def test_fake_slow_delays(client: genai.Client) -> None:
    started = time.monotonic()
    response = await client.aio.models.generate_content(model="fake-slow-0.3", contents=PROMPT)
    assert time.monotonic() - started >= 0.3
    assert response.text == "Echo: hello there big world"


@pytest.mark.parametrize("query", ["?alt=sse", ""])
async def test_fake_drip_sends_chunks_apart(
    fake: FakeGemini, http: aiohttp.ClientSession, query: str
) -> None:
    arrivals: list[float] = []
    received = b""
    started = time.monotonic()
    async with http.post(
        url(fake, "fake-drip-40", "streamGenerateContent", query),
        json={"contents": [USER]},
        headers=key_header(),
    ) as resp:
        assert resp.status == 200
        async for data in resp.content.iter_any():
            arrivals.append(time.monotonic())
            received += data
    chunks = sse_events(received) if query else array_chunks(received)
    assert len(chunks) == 5
    assert arrivals[-1] - started >= 5 * 0.04 * 0.9
    assert len(arrivals) >= 2
    assert arrivals[-1] - arrivals[0] >= 0.04


async def test_fake_drip_non_stream_is_echo(client: genai.Client) -> None:
    response = await client.aio.models.generate_content(model="fake-drip-40", contents=PROMPT)
    assert response.text == "Echo: hello there big world"


async def test_fake_empty(fake: FakeGemini, http: aiohttp.ClientSession) -> None:
    for method, query in (("generateContent", ""), ("streamGenerateContent", "?alt=sse")):
        async with http.post(
            url(fake, "fake-empty", method, query), json={"contents": [USER]}, headers=key_header()
        ) as resp:
            assert resp.status == 200
            assert resp.content_type == "application/json"
            assert await resp.read() == b""


# --------------------------------------------------------------------------- tokens, models


async def test_count_tokens(
    client: genai.Client, fake: FakeGemini, http: aiohttp.ClientSession
) -> None:
    counted = await client.aio.models.count_tokens(model="gemini-2.5-flash", contents=PROMPT)
    assert counted.total_tokens == 4
    assert fake.state.requests[-1].path == "/v1beta/models/gemini-2.5-flash:countTokens"
    request = {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [USER],
        }
    }
    async with http.post(
        url(fake, "gemini-2.5-flash", "countTokens"), json=request, headers=key_header()
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {
            "totalTokens": 6,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 6}],
        }
    with pytest.raises(errors.ClientError) as raised:
        await client.aio.models.count_tokens(model="fake-error-429", contents=PROMPT)
    assert raised.value.code == 429


async def test_models_list_and_get(client: genai.Client, fake: FakeGemini) -> None:
    pager = await client.aio.models.list(config=types.ListModelsConfig(page_size=5))
    models = [model async for model in pager]
    names = [model.name for model in models]
    assert len(names) == len(set(names)) >= 10
    assert "models/gemini-2.5-flash" in names
    assert "models/fake-tools" in names
    assert all(
        model.supported_actions and "generateContent" in model.supported_actions for model in models
    )
    assert all(model.input_token_limit and model.output_token_limit for model in models)
    listing = [r for r in fake.state.requests if r.path == "/v1beta/models"]
    assert len(listing) >= 2  # paged with pageSize / pageToken
    assert "pageSize=5" in listing[0].query

    one = await client.aio.models.get(model="gemini-2.5-pro")
    assert one.name == "models/gemini-2.5-pro"
    assert one.display_name
    assert fake.state.requests[-1].path == "/v1beta/models/gemini-2.5-pro"


# --------------------------------------------------------------------------- recording, process


async def test_requests_are_recorded_and_bounded(client: genai.Client, fake: FakeGemini) -> None:
    filler = RecordedRequest(method="GET", path="/x", headers={}, body=None, raw=b"")
    fake.state.requests.extend([filler] * MAX_RECORDED)
    await client.aio.models.generate_content(model="gemini-2.5-flash", contents=PROMPT)
    assert len(fake.state.requests) == MAX_RECORDED
    last = fake.state.requests[-1]
    assert (last.method, last.path) == ("POST", "/v1beta/models/gemini-2.5-flash:generateContent")
    assert last.body["contents"] == [USER]
    assert json.loads(last.raw) == last.body
    assert last.peer is not None and last.peer[0] == "127.0.0.1"


async def test_record_off_stores_nothing() -> None:
    async with FakeGemini("other-key", record=False) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        sdk = make_client(server.base_url, key="other-key")
        try:
            response = await sdk.aio.models.generate_content(model="m", contents=PROMPT)
        finally:
            await close_client(sdk)
        assert response.text == "Echo: hello there big world"
        assert server.state.requests == []


async def test_runs_as_a_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.gemini_upstream",
        "--port",
        "0",
        "--api-key",
        "proc-key",
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
        sdk = make_client(base_url, key="proc-key")
        try:
            response = await sdk.aio.models.generate_content(
                model="gemini-2.5-flash", contents=PROMPT
            )
        finally:
            await close_client(sdk)
        assert response.text == "Echo: hello there big world"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
