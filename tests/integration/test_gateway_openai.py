"""The gateway driven by the official openai SDK against the fake OpenAI upstream."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openai
import orjson
import pytest

from gateway.config import commands
from gateway.config.file_format import ConnectionEntry
from gateway.service import GatewayService
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import (
    CLIENT_KEY,
    basic_config,
    import_toml,
    log_rows,
    start_service,
    wait_for,
)

MESSAGES = [{"role": "user", "content": "hello there gateway"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def gateway(data_dir: Path, fake: FakeOpenAI) -> AsyncIterator[GatewayService]:
    import_toml(data_dir, basic_config(fake.base_url))
    service = await start_service(data_dir)
    yield service
    await service.stop()


@pytest.fixture
async def client(gateway: GatewayService) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.endpoint}/v1", api_key=CLIENT_KEY, max_retries=0
    ) as sdk:
        yield sdk


async def test_non_stream_passes_through(
    client: openai.AsyncOpenAI, fake: FakeOpenAI, gateway: GatewayService, data_dir: Path
) -> None:
    reply = await client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert reply.choices[0].message.content == "Echo: hello there gateway"
    assert reply.model == "gpt-4o-mini"
    assert reply.usage is not None and reply.usage.prompt_tokens == 3
    upstream = fake.state.requests[-1]
    assert upstream.body["model"] == "gpt-4o-mini"  # the alias is gone, the rest unchanged
    assert upstream.body["messages"] == MESSAGES
    assert upstream.headers["authorization"] == "Bearer sk-upstream-test"  # auth replaced
    assert upstream.headers["accept-encoding"] == "identity"  # nothing to inflate per chunk
    await gateway.flush_logs()
    row = log_rows(data_dir)[-1]
    assert (row["status"], row["key_name"], row["client_dialect"]) == (200, "tests", "openai")
    assert (row["provider"], row["connection"], row["upstream_model"]) == (
        "openai",
        "primary",
        "gpt-4o-mini",
    )
    assert (row["tokens_in"], row["tokens_out"], row["stream"]) == (3, 4, 0)
    assert row["requested_model"] == "openai/gpt-4o-mini"


async def test_stream_with_usage(
    client: openai.AsyncOpenAI, gateway: GatewayService, data_dir: Path
) -> None:
    stream = await client.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, chunks = "", None, 0
    async for chunk in stream:
        chunks += 1
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == "Echo: hello there gateway"
    assert chunks >= 5
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (3, 4)
    await gateway.flush_logs()
    row = log_rows(data_dir)[-1]
    assert (row["status"], row["stream"], row["tokens_in"], row["tokens_out"]) == (200, 1, 3, 4)
    assert row["ttfb_ms"] is not None and row["ttfb_ms"] <= row["latency_ms"]


async def test_stream_tool_calls_pass_through(client: openai.AsyncOpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
    ]
    stream = await client.chat.completions.create(
        model="openai/fake-tools", messages=MESSAGES, tools=tools, stream=True
    )  # type: ignore[arg-type]
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            if delta.function:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    assert finish == "tool_calls"
    assert calls == {
        0: {"id": "call_fake_1", "name": "lookup", "arguments": '{"query":"Paris"}'},
        1: {"id": "call_fake_2", "name": "lookup", "arguments": '{"query":"Tokyo"}'},
    }


async def test_non_stream_tool_calls(client: openai.AsyncOpenAI, fake: FakeOpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    reply = await client.chat.completions.create(
        model="openai/fake-tools", messages=MESSAGES, tools=tools, tool_choice="auto"
    )  # type: ignore[arg-type]
    calls = reply.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("call_fake_1", "get_weather", '{"city":"Paris"}'),
        ("call_fake_2", "get_weather", '{"city":"Tokyo"}'),
    ]
    assert fake.state.requests[-1].body["tools"] == tools
    assert fake.state.requests[-1].body["tool_choice"] == "auto"


@pytest.mark.parametrize(
    ("model", "exception", "code"),
    [
        ("openai/fake-error-429", openai.RateLimitError, "rate_limit_exceeded"),
        ("openai/fake-error-400", openai.BadRequestError, None),
        ("openai/fake-error-500", openai.InternalServerError, None),
    ],
)
async def test_upstream_errors_reach_the_sdk(
    client: openai.AsyncOpenAI, model: str, exception: type[openai.APIStatusError], code: str | None
) -> None:
    with pytest.raises(exception) as raised:
        await client.chat.completions.create(model=model, messages=MESSAGES)
    if code:
        assert raised.value.code == code
    assert raised.value.response.headers.get("x-request-id")


async def test_upstream_429_keeps_rate_limit_headers(gateway: GatewayService) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY},
            json={"model": "openai/fake-error-429", "messages": MESSAGES},
        ) as response,
    ):
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert "x-ratelimit-remaining-requests" in response.headers


async def test_stream_error_before_first_byte_is_a_plain_error(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(
            model="openai/fake-error-429", messages=MESSAGES, stream=True
        )


async def test_wrong_key_is_401(gateway: GatewayService) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.endpoint}/v1", api_key="sk-sb-wrong", max_retries=0
    ) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.chat.completions.create(model="openai/x", messages=MESSAGES)
    assert raised.value.code == "invalid_api_key"
    assert "Invalid Switchboard API key" in raised.value.message


async def test_missing_key_is_401(gateway: GatewayService) -> None:
    # The SDK refuses to send no key at all, so this client is raw HTTP.
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway.endpoint}/v1/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": MESSAGES},
        ) as response,
    ):
        assert response.status == 401
        error = (await response.json())["error"]
    assert error["code"] == "invalid_api_key"
    assert "Missing Switchboard API key" in error["message"]


async def test_x_api_key_header_is_accepted(gateway: GatewayService) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY},
            json={"model": "openai/gpt-4o-mini", "messages": MESSAGES},
        ) as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["choices"][0]["message"]["content"] == "Echo: hello there gateway"


async def test_unknown_model_is_404_with_a_hint(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await client.chat.completions.create(model="nowhere/model-x", messages=MESSAGES)
    assert raised.value.code == "model_not_found"
    assert "/v1/models" in raised.value.message


async def test_malformed_and_invalid_bodies(gateway: GatewayService) -> None:
    url = f"{gateway.endpoint}/v1/chat/completions"
    headers = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}
    cases = [
        (b'{"model": ', "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b"", "invalid_json"),
        (b'{"model": 42, "messages": []}', "invalid_request"),
    ]
    async with aiohttp.ClientSession() as http:
        for body, code in cases:
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 400, body
                error = (await response.json())["error"]
                assert error["code"] == code
                assert error["type"] == "invalid_request_error"


async def test_body_over_the_limit_is_413(
    gateway: GatewayService, fake: FakeOpenAI, data_dir: Path
) -> None:
    await gateway.call(commands.set_settings, gateway.context, {"max_body_mb": 1})
    big = orjson.dumps(
        {"model": "openai/x", "messages": [{"role": "user", "content": "x" * (1024 * 1024)}]}
    )
    url = f"{gateway.endpoint}/v1/chat/completions"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, data=io.BytesIO(big), headers={"x-api-key": CLIENT_KEY}
        ) as response:
            assert response.status == 413
            assert (await response.json())["error"]["code"] == "request_too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked upload
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        async with http.post(url, data=chunks(), headers={"x-api-key": CLIENT_KEY}) as response:
            assert response.status == 413
    assert not any(r.body and r.body.get("model") == "x" for r in fake.state.requests)


async def test_large_body_passes_through(client: openai.AsyncOpenAI, fake: FakeOpenAI) -> None:
    text = "word " * 400_000  # 2 MB: above aiohttp's 1 MiB "large raw body" threshold
    reply = await client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )
    assert reply.usage is not None and reply.usage.prompt_tokens == 400_000
    assert fake.state.requests[-1].body["messages"][0]["content"] == text


async def test_unreachable_upstream_is_502(data_dir: Path) -> None:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    import_toml(data_dir, basic_config(f"http://127.0.0.1:{closed_port}/v1"))
    service = await start_service(data_dir)
    try:
        async with openai.AsyncOpenAI(
            base_url=f"{service.endpoint}/v1", api_key=CLIENT_KEY, max_retries=0
        ) as sdk:
            with pytest.raises(openai.APIStatusError) as raised:
                await sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
        assert raised.value.status_code == 502
        assert raised.value.code == "upstream_unreachable"
        assert "cannot connect" in raised.value.message
    finally:
        await service.stop()


async def test_upstream_timeout_is_504(gateway: GatewayService, client: openai.AsyncOpenAI) -> None:
    await gateway.call(commands.set_settings, gateway.context, {"upstream_read_timeout_s": 0.2})
    with pytest.raises(openai.APIStatusError) as raised:
        await client.chat.completions.create(model="openai/fake-slow-1.0", messages=MESSAGES)
    assert raised.value.status_code == 504
    assert raised.value.code == "upstream_timeout"


async def test_429_moves_to_the_next_account_and_its_answer_is_forwarded(
    data_dir: Path, fake: FakeOpenAI
) -> None:
    async with FakeOpenAI(api_key="sk-second") as second:
        import_toml(data_dir, basic_config(fake.base_url))
        service = await start_service(data_dir)
        try:
            entry = ConnectionEntry(
                name="backup",
                provider="openai",
                api_key="sk-second",
                base_url=second.base_url,
                priority=5,
            )
            await service.call(commands.add_connection, service.context, entry)
            # The first account is rate limited (its fake answers 429 for this model name,
            # the second account's fake serves every model normally).
            fake_model = "fake-error-429"
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{service.endpoint}/v1/chat/completions",
                    headers={"x-api-key": CLIENT_KEY},
                    json={"model": f"openai/{fake_model}", "messages": MESSAGES},
                ) as response,
            ):
                assert response.status == 429  # same model name fails on both fakes
            assert second.state.requests[-1].body["model"] == fake_model
        finally:
            await service.stop()


async def test_combo_falls_through_to_the_next_target(
    data_dir: Path,
    fake: FakeOpenAI,
) -> None:
    import_toml(
        data_dir,
        basic_config(
            fake.base_url,
            extra="""
[[combos]]
name = "coding"
targets = ["openai/fake-error-503", "openai/fake-error-429", "openai/gpt-4o-mini"]
""",
        ),
    )
    service = await start_service(data_dir)
    try:
        async with openai.AsyncOpenAI(
            base_url=f"{service.endpoint}/v1", api_key=CLIENT_KEY, max_retries=0
        ) as sdk:
            reply = await sdk.chat.completions.create(model="coding", messages=MESSAGES)
        assert reply.choices[0].message.content == "Echo: hello there gateway"
        tried = [r.body["model"] for r in fake.state.requests[-3:]]
        assert tried == ["fake-error-503", "fake-error-429", "gpt-4o-mini"]
        await service.flush_logs()
        row = log_rows(data_dir)[-1]
        assert (row["requested_model"], row["upstream_model"], row["status"]) == (
            "coding",
            "gpt-4o-mini",
            200,
        )
    finally:
        await service.stop()


async def test_stream_chunks_are_not_buffered(gateway: GatewayService) -> None:
    arrivals: list[float] = []
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY},
            json={"model": "openai/fake-drip-150", "messages": MESSAGES, "stream": True},
        ) as response,
    ):
        async for _ in response.content.iter_any():
            arrivals.append(time.perf_counter())
    # The fake writes one event every 150 ms; if the gateway buffered, they would arrive
    # together at the end. The first byte must come well before the last.
    assert len(arrivals) >= 4
    assert arrivals[-1] - arrivals[0] >= 0.45


async def test_cut_stream_ends_with_an_error_event(
    gateway: GatewayService, client: openai.AsyncOpenAI, data_dir: Path
) -> None:
    stream = await client.chat.completions.create(
        model="openai/fake-cut", messages=MESSAGES, stream=True
    )
    received = ""
    with pytest.raises(openai.APIError) as raised:
        async for chunk in stream:
            received += chunk.choices[0].delta.content or ""
    assert received == "Echo: hello"
    assert "interrupted" in raised.value.message
    await gateway.flush_logs()
    row = log_rows(data_dir)[-1]
    assert row["error"] is not None and "interrupted" in str(row["error"])


async def test_request_id_is_echoed_or_created(gateway: GatewayService) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{gateway.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY, "X-Request-Id": "trace-42"},
            json={"model": "openai/gpt-4o-mini", "messages": MESSAGES},
        ) as r:
            assert r.headers["X-Request-Id"] == "trace-42"
        async with http.post(
            f"{gateway.endpoint}/v1/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": MESSAGES},
        ) as r:
            assert r.status == 401
            assert len(r.headers["X-Request-Id"]) == 24


async def test_models_list(client: openai.AsyncOpenAI, gateway: GatewayService) -> None:
    await gateway.call(
        commands.add_combo,
        gateway.context,
        commands.ComboEntry(name="coding", targets=["openai/gpt-4o-mini"]),
    )
    page = await client.models.list()
    ids = [model.id for model in page.data]
    assert ids[-1] == "coding"
    assert all(i.startswith("openai/") for i in ids[:-1]) and len(ids) > 1
    owners = {model.id: model.owned_by for model in page.data}
    assert owners["coding"] == "combo"


async def test_health_needs_no_key(gateway: GatewayService) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{gateway.endpoint}/health") as r:
        assert r.status == 200
        body = await r.json()
    assert body["status"] == "ok"


async def test_unknown_route_is_openai_shaped_404(gateway: GatewayService) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{gateway.endpoint}/v2/what") as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "unknown_route"


async def test_keyless_access_on_loopback_when_allowed(gateway: GatewayService) -> None:
    await gateway.call(commands.set_settings, gateway.context, {"require_api_key": False})
    url = f"{gateway.endpoint}/v1/chat/completions"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, json={"model": "openai/gpt-4o-mini", "messages": MESSAGES}
        ) as response:
            assert response.status == 200
            body = await response.json()
        assert body["choices"][0]["message"]["content"] == "Echo: hello there gateway"
        async with http.get(
            f"{gateway.endpoint}/v1/models",  # a presented key must be valid
            headers={"Authorization": "Bearer sk-sb-bogus"},
        ) as response:
            assert response.status == 401


async def test_changes_from_another_process_are_picked_up(
    gateway: GatewayService, data_dir: Path
) -> None:
    """The CLI writes the same database from another process; the gateway reloads."""
    from tests.support.gateway import with_context

    before = gateway.snapshot.revision
    with_context(data_dir, lambda ctx: commands.create_key(ctx, "later", "sk-sb-later-key-123"))
    await wait_for(lambda: gateway.snapshot.revision > before)
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.endpoint}/v1", api_key="sk-sb-later-key-123", max_retries=0
    ) as sdk:
        reply = await sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert reply.choices[0].message.content == "Echo: hello there gateway"


async def test_upstream_connections_are_kept_alive(
    client: openai.AsyncOpenAI, fake: FakeOpenAI
) -> None:
    for _ in range(20):
        await client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    peers = {request.peer for request in fake.state.requests[-20:]}
    assert len(peers) == 1  # twenty sequential requests, one pooled upstream connection


async def test_many_concurrent_requests(
    client: openai.AsyncOpenAI, gateway: GatewayService, data_dir: Path
) -> None:
    async def one(i: int) -> str:
        reply = await client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}]
        )
        return reply.choices[0].message.content or ""

    replies = await asyncio.gather(*(one(i) for i in range(100)))
    assert replies == [f"Echo: n{i}" for i in range(100)]
    await gateway.flush_logs()
    assert len([r for r in log_rows(data_dir) if r["status"] == 200]) == 100
