"""Each client dialect's endpoints beyond the matrix: auth styles, errors in the client's shape,
token counting, model lists, JSON-array streams, keep-alives, the [1m] suffix and the log."""

from __future__ import annotations

import math

import aiohttp
import anthropic
import openai
import orjson
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gtypes

from tests.integration.conformance.conftest import World
from tests.support.gateway import CLIENT_KEY, log_rows

MESSAGES = [{"role": "user", "content": "count these four words"}]


async def post(
    world: World,
    path: str,
    body: dict,
    headers: dict | None = None,  # type: ignore[type-arg]
) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{world.gateway.endpoint}{path}",
            json=body,
            headers=headers if headers is not None else {"x-api-key": CLIENT_KEY},
        ) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def test_anthropic_x_api_key_and_errors_in_anthropic_shape(world: World) -> None:
    status, _, body = await post(
        world, "/v1/messages", {"model": "openai/gpt-x", "max_tokens": 10, "messages": MESSAGES}
    )
    assert status == 200 and orjson.loads(body)["type"] == "message"
    status, _, body = await post(
        world, "/v1/messages", {"model": "nowhere/x", "max_tokens": 10, "messages": MESSAGES}
    )
    assert status == 404
    error = orjson.loads(body)
    assert error["type"] == "error" and error["error"]["type"] == "not_found_error"
    async with anthropic.AsyncAnthropic(
        base_url=world.gateway.endpoint, api_key="sk-sb-wrong", max_retries=0
    ) as sdk:
        with pytest.raises(anthropic.AuthenticationError):
            await sdk.messages.create(model="openai/gpt-x", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]


async def test_gemini_key_in_query_and_errors_in_gemini_shape(world: World) -> None:
    path = "/v1beta/models/openai/gpt-x:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]}
    status, _, raw = await post(world, f"{path}?key={CLIENT_KEY}", body, headers={})
    assert status == 200
    assert orjson.loads(raw)["candidates"][0]["content"]["parts"][0]["text"] == "Echo: hi there"
    status, _, raw = await post(world, f"{path}?key=wrong", body, headers={})
    assert status == 401
    assert orjson.loads(raw)["error"]["status"] == "UNAUTHENTICATED"
    status, _, raw = await post(
        world,
        "/v1beta/models/nowhere/x:generateContent",
        body,
        headers={"x-goog-api-key": CLIENT_KEY},
    )
    assert status == 404 and orjson.loads(raw)["error"]["status"] == "NOT_FOUND"


async def test_responses_errors_in_openai_shape(world: World) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{world.gateway.endpoint}/v1", api_key=CLIENT_KEY, max_retries=0
    ) as sdk:
        with pytest.raises(openai.NotFoundError):
            await sdk.responses.create(model="nowhere/x", input="hi")
        with pytest.raises(openai.BadRequestError) as raised:
            await sdk.responses.create(
                model="openai/gpt-x", input="hi", previous_response_id="resp_123"
            )
    assert "previous_response_id" in raised.value.message


async def test_gemini_json_array_stream(world: World) -> None:
    status, headers, raw = await post(
        world,
        "/v1beta/models/anthropic/claude-x:streamGenerateContent",
        {"contents": [{"role": "user", "parts": [{"text": "array of chunks"}]}]},
        headers={"x-goog-api-key": CLIENT_KEY},
    )
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    chunks = orjson.loads(raw)
    assert isinstance(chunks, list) and len(chunks) >= 2
    text = "".join(
        p.get("text", "") for c in chunks for p in c["candidates"][0]["content"].get("parts", [])
    )
    assert text == "Echo: array of chunks"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["promptTokenCount"] == 3


async def test_count_tokens_by_the_upstream_or_estimated(world: World) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=world.gateway.endpoint, api_key=CLIENT_KEY, max_retries=0
    ) as sdk:
        counted = await sdk.messages.count_tokens(model="anthropic/claude-x", messages=MESSAGES)  # type: ignore[arg-type]
        assert counted.input_tokens == 4  # the fake Anthropic counts words
        assert world.fakes["anthropic"].state.requests[-1].path == "/v1/messages/count_tokens"
        estimated = await sdk.messages.count_tokens(model="openai/gpt-x", messages=MESSAGES)  # type: ignore[arg-type]
        assert estimated.input_tokens == math.ceil(len("count these four words") / 4)
    client = genai.Client(
        api_key=CLIENT_KEY,
        http_options=gtypes.HttpOptions(base_url=world.gateway.endpoint, api_version="v1beta"),
    )
    try:
        counted_g = await client.aio.models.count_tokens(
            model="gemini/gem-x", contents="count these four words"
        )
        assert counted_g.total_tokens == 4
        estimated_g = await client.aio.models.count_tokens(
            model="openai/gpt-x", contents="count these four words"
        )
        assert estimated_g.total_tokens == math.ceil(len("count these four words") / 4)
    finally:
        await client.aio.aclose()


async def test_gemini_model_list(world: World) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{world.gateway.endpoint}/v1beta/models", headers={"x-goog-api-key": CLIENT_KEY}
        ) as response,
    ):
        assert response.status == 200
        names = [m["name"] for m in (await response.json())["models"]]
    assert "models/openai/gpt-4o-mini" in names or any(
        n.startswith("models/openai/") for n in names
    )
    assert all(n.startswith("models/") for n in names)


@pytest.mark.parametrize(
    ("path", "body", "ping"),
    [
        (
            "/v1/messages",
            {
                "model": "openai/fake-drip-400",
                "max_tokens": 50,
                "stream": True,
                "messages": MESSAGES,
            },
            b"event: ping",
        ),
        (
            "/v1/chat/completions",
            {"model": "anthropic/fake-drip-400", "stream": True, "messages": MESSAGES},
            b": keep-alive",
        ),
    ],
)
async def test_keepalive_during_upstream_silence(
    world: World,
    path: str,
    body: dict,  # type: ignore[type-arg]
    ping: bytes,
) -> None:
    world.gateway.runtime.keepalive_s = 0.1
    status, _, raw = await post(world, path, body)
    assert status == 200
    assert ping in raw
    if path == "/v1/messages":
        assert raw.rstrip().endswith(b'"type":"message_stop"}')
        assert raw.count(b"event: message_start") == 1
    else:
        assert raw.count(b"data: [DONE]") == 1


async def test_extended_context_suffix(world: World) -> None:
    status, _, _ = await post(
        world, "/v1/chat/completions", {"model": "anthropic/claude-x[1m]", "messages": MESSAGES}
    )
    assert status == 200
    sent = world.fakes["anthropic"].state.requests[-1]
    assert sent.body["model"] == "claude-x"
    assert "context-1m" in sent.headers.get("anthropic-beta", "")


async def test_log_rows_name_both_dialects(world: World) -> None:
    status, _, _ = await post(
        world, "/v1/messages", {"model": "gemini/gem-x", "max_tokens": 20, "messages": MESSAGES}
    )
    assert status == 200
    await world.gateway.flush_logs()
    row = log_rows(world.gateway.data_dir)[-1]
    assert (row["client_dialect"], row["provider"], row["connection"]) == (
        "anthropic",
        "gemini",
        "up-gemini",
    )
    assert (row["tokens_in"], row["tokens_out"], row["status"]) == (4, 5, 200)


async def test_genai_sdk_errors(world: World) -> None:
    client = genai.Client(
        api_key="wrong",
        http_options=gtypes.HttpOptions(base_url=world.gateway.endpoint, api_version="v1beta"),
    )
    try:
        with pytest.raises(genai_errors.ClientError) as raised:
            await client.aio.models.generate_content(model="openai/gpt-x", contents="hi")
        assert raised.value.code == 401
    finally:
        await client.aio.aclose()


async def test_a_trailing_gemini_signature_does_not_split_the_answer(world: World) -> None:
    """Gemini puts thoughtSignature on the last answer part; Claude Code shows only the last
    text block, so the answer must stay one block (the signature goes after it)."""
    async with (
        anthropic.AsyncAnthropic(
            base_url=world.gateway.endpoint, api_key=CLIENT_KEY, max_retries=0
        ) as sdk,
        sdk.messages.stream(
            model="gemini/fake-think",
            max_tokens=200,
            messages=[{"role": "user", "content": "hello big world"}],
        ) as stream,
    ):
        message = await stream.get_final_message()
    texts = [block.text for block in message.content if block.type == "text"]
    assert texts == ["Echo: hello big world"]
    signed = [block for block in message.content if block.type == "thinking" and block.signature]
    assert signed


@pytest.mark.parametrize("upstream", ["resp", "anthropic"], ids=["passthrough", "translated"])
async def test_responses_stream_failure_ends_with_response_failed(
    world: World, upstream: str
) -> None:
    """Codex CLI ignores bare ``error`` events and reads the reason from response.failed."""
    status, _, raw = await post(
        world,
        "/v1/responses",
        {"model": f"{upstream}/fake-cut", "input": "cut me off", "stream": True},
    )
    assert status == 200
    events = [orjson.loads(line[6:]) for line in raw.split(b"\n") if line.startswith(b"data: ")]
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and "interrupted" in failed["error"]["message"]
    numbers = [e["sequence_number"] for e in events]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert failed["id"] == events[0]["response"]["id"]
