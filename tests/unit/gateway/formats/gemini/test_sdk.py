"""The official google-genai SDK against this codec, over a fake HTTP transport (no network).

What the SDK sends must parse into the hub; what the emitters write must be read by the
SDK's own stream reader without an error, with the same text, calls and usage.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx2
import orjson
import pytest
from google import genai
from google.genai import errors, types

from gateway.formats import hub
from gateway.formats.gemini import CODEC, GeminiStreamEmitter
from gateway.formats.sse import KEEPALIVE_COMMENT
from tests.unit.gateway.formats.gemini.support import emit
from tests.unit.gateway.formats.gemini.test_stream import AWKWARD

Handler = Callable[[httpx2.Request], httpx2.Response]


def sdk_client(handler: Handler) -> genai.Client:
    options = types.HttpOptions(
        base_url="http://gemini.test",
        api_version="v1beta",
        httpx_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        httpx_async_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )
    return genai.Client(api_key="test-key", http_options=options)


def serving(body: bytes, seen: list[httpx2.Request] | None = None) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if seen is not None:
            seen.append(request)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return handler


def sdk_stream(body: bytes) -> list[types.GenerateContentResponse]:
    client = sdk_client(serving(body))
    return list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))


def collected(chunks: list[types.GenerateContentResponse]) -> dict[str, Any]:
    text, thoughts, calls, signatures = "", "", [], []
    finish, usage = None, None
    for chunk in chunks:
        for candidate in chunk.candidates or ():
            finish = candidate.finish_reason or finish
            for part in (candidate.content.parts if candidate.content else None) or ():
                if part.thought_signature:
                    signatures.append(part.thought_signature)
                if part.function_call:
                    call = part.function_call
                    calls.append((call.id, call.name, call.args))
                elif part.thought:
                    thoughts += part.text or ""
                elif part.text:
                    text += part.text
        usage = chunk.usage_metadata or usage
    return {
        "text": text,
        "thoughts": thoughts,
        "calls": calls,
        "signatures": signatures,
        "finish": finish,
        "usage": usage,
    }


@pytest.mark.parametrize("name", [n for n in AWKWARD if not n.startswith("error")])
def test_sdk_reads_every_emitted_stream(name: str) -> None:
    events = AWKWARD[name]
    got = collected(sdk_stream(emit(events)))
    text = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert got["text"] == text
    assert got["finish"] is not None  # the stream always ends finished
    for event in events:
        if event["type"] == "tool_call_start":
            assert event["name"] in {name for _, name, _ in got["calls"]} or not event["name"]


def test_sdk_reads_calls_signatures_and_usage() -> None:
    sig = base64.b64encode(b"opaque-signature").decode()
    events: list[hub.Event] = [
        {"type": "start", "id": "r1", "model": "gemini-2.5-pro"},
        {"type": "reasoning_delta", "text": "I should call f."},
        {"type": "reasoning_signature", "signature": sig},
        {"type": "text_delta", "text": "Calling f."},
        {"type": "tool_call_start", "index": 0, "id": "c1", "name": "f", "signature": sig},
        {"type": "tool_call_delta", "index": 0, "arguments": '{"q": "x", "n": [1, 2]}'},
        {"type": "tool_call_start", "index": 1, "id": "c2", "name": "g"},
        {"type": "finish", "reason": "tool_calls"},
        {
            "type": "usage",
            "usage": {
                "input_tokens": 40,
                "output_tokens": 25,
                "reasoning_tokens": 10,
                "cached_tokens": 8,
            },
        },
    ]
    got = collected(sdk_stream(emit(events)))
    assert got["thoughts"] == "I should call f."
    assert got["text"] == "Calling f."
    assert got["calls"] == [("c1", "f", {"q": "x", "n": [1, 2]}), ("c2", "g", {})]
    assert got["signatures"] == [b"opaque-signature", b"opaque-signature"]
    assert got["finish"] == types.FinishReason.STOP
    usage = got["usage"]
    assert (usage.prompt_token_count, usage.candidates_token_count) == (40, 15)
    assert (usage.thoughts_token_count, usage.cached_content_token_count) == (10, 8)
    assert usage.total_token_count == 65


@pytest.mark.parametrize("name", [n for n in AWKWARD if n.startswith("error")])
def test_sdk_raises_the_mid_stream_error(name: str) -> None:
    with pytest.raises(errors.ServerError) as raised:
        sdk_stream(emit(AWKWARD[name]))
    assert raised.value.code == 503
    assert raised.value.status == "UNAVAILABLE"
    assert raised.value.message == "Overloaded"


def test_keepalive_is_invisible_to_the_sdk() -> None:
    emitter = GeminiStreamEmitter({"model": "m"})
    body = (
        emitter.keepalive()
        + emitter.feed({"type": "text_delta", "text": "a"})
        + emitter.keepalive()
        + emitter.keepalive()
        + emitter.feed({"type": "text_delta", "text": "b"})
        + emitter.keepalive()
        + emitter.close()
    )
    assert collected(sdk_stream(body))["text"] == "ab"


def test_a_generic_sse_comment_would_break_the_sdk() -> None:
    """Why keepalive() is not the usual ": keep-alive" comment: google-genai reads any line
    that is not "data: ..." as raw JSON."""
    body = KEEPALIVE_COMMENT + emit([{"type": "text_delta", "text": "a"}])
    with pytest.raises(errors.UnknownApiResponseError):
        sdk_stream(body)


async def test_async_sdk_reads_the_stream() -> None:
    body = emit(AWKWARD["interleaved parallel calls"])
    client = sdk_client(serving(body))
    chunks = [
        chunk
        async for chunk in await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="hi"
        )
    ]
    assert [c[1:] for c in collected(chunks)["calls"]] == [("f", {"a": 1}), ("g", {"b": 2})]


def test_sdk_request_parses_into_the_hub() -> None:
    seen: list[httpx2.Request] = []
    client = sdk_client(serving(emit([{"type": "text_delta", "text": "ok"}]), seen))
    signature = b"\x01\x02signature-bytes"
    history = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        types.Content(
            role="model",
            parts=[
                types.Part(text="Let me think.", thought=True),
                types.Part(
                    function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}),
                    thought_signature=signature,
                ),
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name="get_weather", response={"output": "18°C"}
                    )
                ),
                types.Part.from_bytes(data=b"\x89PNG fake", mime_type="image/png"),
            ],
        ),
    ]
    config = types.GenerateContentConfig(
        system_instruction="Answer briefly.",
        temperature=0.3,
        top_p=0.8,
        top_k=12,
        max_output_tokens=300,
        stop_sequences=["STOP"],
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024),
        tools=[
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="get_weather",
                        description="Current weather.",
                        parameters_json_schema={
                            "type": "object",
                            "properties": {"city": {"type": "string"}},
                            "required": ["city"],
                        },
                    ),
                    types.FunctionDeclaration(
                        name="get_time",
                        parameters=types.Schema(
                            type=types.Type.OBJECT,
                            properties={"tz": types.Schema(type=types.Type.STRING, nullable=True)},
                        ),
                    ),
                ]
            )
        ],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["get_weather"]
            )
        ),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    list(
        client.models.generate_content_stream(
            model="gemini-2.5-flash", contents=history, config=config
        )
    )
    [request] = seen
    assert request.url.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    hub_request = CODEC.request_to_hub(orjson.loads(request.content))
    system, user, model, tool, image = hub_request["messages"]
    assert system["content"] == [{"type": "text", "text": "Answer briefly."}]
    assert user["content"] == [{"type": "text", "text": "Weather in Paris?"}]
    assert model["reasoning"] == [{"text": "Let me think."}]
    [call] = model["tool_calls"]
    assert (call["name"], orjson.loads(call["arguments"])) == ("get_weather", {"city": "Paris"})
    assert base64.b64decode(call["signature"]) == signature
    assert tool["tool_call_id"] == call["id"]
    assert orjson.loads(tool["content"][0]["text"]) == {"output": "18°C"}
    assert image["content"][0]["type"] == "image"
    assert base64.b64decode(image["content"][0]["data"]) == b"\x89PNG fake"  # type: ignore[typeddict-item]
    assert hub_request["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
        {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"tz": {"type": ["string", "null"]}}},
        },
    ]
    assert hub_request["tool_choice"] == {"name": "get_weather"}
    assert hub_request["reasoning"] == {"enabled": True, "budget_tokens": 1024}
    assert (hub_request["temperature"], hub_request["top_p"], hub_request["top_k"]) == (
        0.3,
        0.8,
        12,
    )
    assert (hub_request["max_tokens"], hub_request["stop"]) == (300, ["STOP"])


def test_request_we_emit_is_accepted_by_the_sdk_types() -> None:
    """What request_from_hub writes validates against the SDK's own request types."""
    body = CODEC.request_from_hub(
        {
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "s"}]},
                {"role": "user", "content": [{"type": "text", "text": "q"}]},
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "calling"}],
                    "tool_calls": [{"id": "c1", "name": "f", "arguments": '{"a": 1}'}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "ok"}]},
            ],
            "tools": [
                {
                    "name": "f",
                    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
                }
            ],
            "tool_choice": "auto",
            "reasoning": {"effort": "low"},
            "response_format": {
                "type": "json_schema",
                "schema": {"type": "object", "properties": {"x": {"type": "string"}}},
            },
        }
    )
    for content in body["contents"]:
        types.Content.model_validate(content)
    types.Content.model_validate(body["systemInstruction"])
    types.Tool.model_validate(body["tools"][0])
    types.ToolConfig.model_validate(body["toolConfig"])
    types.GenerationConfig.model_validate(body["generationConfig"])
