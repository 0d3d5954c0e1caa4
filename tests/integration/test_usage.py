"""Usage and cost per request, end to end: four fake upstreams (one per dialect) behind a real
gateway, every client dialect, streamed and not; the log row must hold the exact tokens the
upstream reported and the hand-computed cost, or an estimate marked as such."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.service import GatewayService
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import CLIENT_KEY, import_toml, log_rows, start_service

pytestmark = pytest.mark.timeout(60)

DIALECTS = ("openai", "anthropic", "gemini", "responses")
TEXT = "one two three four five six seven"  # 7 words, 33 characters
ECHO_WORDS = 8  # "Echo: one two three four five six seven"
THOUGHT_WORDS = 9  # "Thinking about: one two three four five six seven"

# Your prices (USD per 1M tokens) for every fake model; openai/ is priced per model so that
# catalog and unknown prices can be seen there too.
PRICE = {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75}
FAKE_MODELS = ("echo-cached", "fake-think", "fake-cut", "echo", "long-echo")


def _price_table(name: str) -> str:
    return f'\n[prices."{name}"]\n' + "".join(f"{k} = {v}\n" for k, v in PRICE.items())


PRICES = "".join(_price_table(f"{PREFIX[d]}/*") for d in DIALECTS if d != "openai") + "".join(
    _price_table(f"openai/{model}") for model in FAKE_MODELS
)


def cost(fresh: int, cached: int, written: int, output: int) -> float:
    """By hand: USD per 1M tokens times tokens."""
    total = (
        fresh * PRICE["input"]
        + cached * PRICE["cache_read"]
        + written * PRICE["cache_write"]
        + output * PRICE["output"]
    )
    return total / 1e6


@dataclass
class World:
    gateway: GatewayService
    fakes: dict[str, Any]
    data_dir: Path

    async def ask(self, client: str, model: str, *, stream: bool, **options: Any) -> bytes:
        path, body = request(client, model, stream=stream, **options)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                self.gateway.endpoint + path, json=body, headers={"x-api-key": CLIENT_KEY}
            ) as response,
        ):
            return await response.read()

    async def last_row(self) -> dict[str, Any]:
        await self.gateway.flush_logs()
        return log_rows(self.data_dir)[-1]


def request(
    client: str, model: str, *, stream: bool, text: str = TEXT, usage: bool = True, sse: bool = True
) -> tuple[str, dict[str, Any]]:
    """The path and body a client of each dialect sends for one user message."""
    if client == "openai":
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
        if stream:
            body["stream"] = True
            if usage:
                body["stream_options"] = {"include_usage": True}
        return "/v1/chat/completions", body
    if client == "anthropic":
        body = {"model": model, "max_tokens": 4096, "messages": [{"role": "user", "content": text}]}
        return "/v1/messages", {**body, "stream": stream}
    if client == "responses":
        return "/v1/responses", {"model": model, "input": text, "stream": stream}
    action = "streamGenerateContent" + ("?alt=sse" if sse else "") if stream else "generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    return f"/v1beta/models/{model}:{action}", body


@pytest.fixture
async def world(data_dir: Path) -> AsyncIterator[World]:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    free = FakeOpenAI(api_key="nv-key")
    await free.start()
    nvidia = (
        f'\n[[connections]]\nname = "free-nim"\nprovider = "nvidia"\napi_key = "nv-key"\n'
        f'base_url = "{free.base_url}"\n'
    )
    import_toml(data_dir, four_dialect_config(fakes, key_name="usage", extra=nvidia + PRICES))
    service = await start_service(data_dir)
    try:
        yield World(service, fakes, data_dir)
    finally:
        await service.stop()
        for server in (*fakes.values(), free):
            await server.stop()


def tokens(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["tokens_in"],
        row["tokens_out"],
        row["cached_tokens"],
        row["cache_write_tokens"],
        row["reasoning_tokens"],
        row["estimated"],
    )


CELLS = [
    pytest.param(client, upstream, stream, id=f"{client}-to-{upstream}-{kind}")
    for client in DIALECTS
    for upstream in DIALECTS
    for stream, kind in ((False, "body"), (True, "stream"))
]


@pytest.mark.parametrize(("client", "upstream", "stream"), CELLS)
async def test_cached_tokens_from_every_dialect(
    world: World, client: str, upstream: str, stream: bool
) -> None:
    await world.ask(client, f"{PREFIX[upstream]}/echo-cached", stream=stream)
    row = await world.last_row()
    assert row["status"] == 200 and row["error"] is None
    # OpenAI reports its detail counts even when they are 0; the others leave them out.
    reasoning = 0 if upstream == "openai" else None
    assert tokens(row) == (7, ECHO_WORDS, 3, None, reasoning, 0)
    assert row["price_source"] == "override"
    assert row["cost_usd"] == pytest.approx(cost(4, 3, 0, ECHO_WORDS), rel=1e-9)


SAME_AND_OTHER = [
    pytest.param(client, upstream, stream, id=f"{client}-to-{upstream}-{kind}")
    for upstream in DIALECTS
    for client in (upstream, DIALECTS[(DIALECTS.index(upstream) + 1) % 4])
    for stream, kind in ((False, "body"), (True, "stream"))
]


@pytest.mark.parametrize(("client", "upstream", "stream"), SAME_AND_OTHER)
async def test_reasoning_tokens_from_every_dialect(
    world: World, client: str, upstream: str, stream: bool
) -> None:
    await world.ask(client, f"{PREFIX[upstream]}/fake-think", stream=stream)
    row = await world.last_row()
    output = ECHO_WORDS + THOUGHT_WORDS  # reasoning is part of the output
    cached = 0 if upstream == "openai" else None
    assert tokens(row) == (7, output, cached, None, THOUGHT_WORDS, 0)
    assert row["cost_usd"] == pytest.approx(cost(7, 0, 0, output), rel=1e-9)


@pytest.mark.parametrize("upstream", ["anthropic", "responses"])
@pytest.mark.parametrize("client", DIALECTS)
@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_cache_writes_where_the_dialect_reports_them(
    world: World, client: str, upstream: str, stream: bool
) -> None:
    await world.ask(client, f"{PREFIX[upstream]}/echo-cached-cache-write", stream=stream)
    row = await world.last_row()
    assert tokens(row) == (7, ECHO_WORDS, 3, 1, None, 0)  # 3 fresh, 3 read, 1 written
    assert row["cost_usd"] == pytest.approx(cost(3, 3, 1, ECHO_WORDS), rel=1e-9)


@pytest.mark.parametrize("upstream", ["gemini", "openai"])
async def test_gemini_json_array_streams(world: World, upstream: str) -> None:
    # A Gemini client streaming without alt=sse gets (and, same dialect, relays) a JSON array.
    body = await world.ask("gemini", f"{PREFIX[upstream]}/echo-cached", stream=True, sse=False)
    assert body.startswith(b"[")
    row = await world.last_row()
    assert (row["tokens_in"], row["tokens_out"], row["cached_tokens"], row["estimated"]) == (
        7,
        ECHO_WORDS,
        3,
        0,
    )


async def test_catalog_free_and_unknown_prices(world: World) -> None:
    await world.ask("openai", "openai/gpt-6.2-sol", stream=False)  # the fake echoes any model
    row = await world.last_row()
    assert (row["tokens_in"], row["tokens_out"], row["cached_tokens"]) == (7, ECHO_WORDS, 0)
    assert row["price_source"] == "catalog"
    assert row["cost_usd"] == pytest.approx((7 * 2.00 + ECHO_WORDS * 10.00) / 1e6, rel=1e-9)

    await world.ask("openai", "nvidia/z-ai/glm5", stream=False)
    row = await world.last_row()
    assert (row["connection"], row["price_source"], row["cost_usd"]) == ("free-nim", "free", 0.0)
    assert row["tokens_in"] == 7

    await world.ask("anthropic", "openai/gpt-unpriced", stream=True)
    row = await world.last_row()
    assert (row["tokens_in"], row["tokens_out"]) == (7, ECHO_WORDS)
    assert (row["price_source"], row["cost_usd"]) == ("unknown", None)

    await world.ask("openai", "openai/fake-error-400", stream=False)
    row = await world.last_row()  # reached the upstream, which billed nothing: no tokens
    assert (row["status"], row["tokens_in"], row["cost_usd"]) == (400, None, None)
    assert row["price_source"] == "unknown"

    await world.ask("openai", "nope/x", stream=False)
    row = await world.last_row()  # never reached an upstream: not priced at all
    assert (row["status"], row["price_source"], row["cost_usd"]) == (404, None, None)


async def test_a_stream_without_usage_is_estimated(world: World) -> None:
    # OpenAI sends no usage in a stream unless the client asks: the row is an estimate,
    # 4 characters a token: 33 characters in, 39 out ("Echo: " + TEXT).
    await world.ask("openai", "openai/echo", stream=True, usage=False)
    row = await world.last_row()
    assert tokens(row) == (math.ceil(33 / 4), math.ceil(39 / 4), None, None, None, 1)
    assert row["cost_usd"] == pytest.approx(cost(9, 0, 0, 10), rel=1e-9)


async def test_a_long_stream_without_usage_is_estimated_from_its_head_and_tail(
    world: World,
) -> None:
    # 3,000 words: far more than the 16 KiB the pass-through keeps, so the text in the head
    # and tail is scaled up to the whole stream.
    words = [f"w{i:04d}" for i in range(3000)]
    text = " ".join(words)
    reply = await world.ask("openai", "openai/long-echo", stream=True, usage=False, text=text)
    assert len(reply) > 100_000
    row = await world.last_row()
    exact_out = math.ceil(len("Echo: " + text) / 4)
    assert row["estimated"] == 1
    assert row["tokens_in"] == math.ceil(len(text) / 4)  # the request is read whole
    assert abs(row["tokens_out"] - exact_out) <= 0.05 * exact_out


@pytest.mark.parametrize(
    ("client", "tokens_in"),
    [
        ("anthropic", 7),  # relayed: message_start's input count is read from the stream's head
        ("openai", math.ceil(33 / 4)),  # translated: the parser held it for the end, estimated
    ],
)
async def test_a_cut_stream_is_estimated(world: World, client: str, tokens_in: int) -> None:
    # The fake sends message_start (input usage), "Echo:" and " one", then drops the
    # connection: the output so far (9 characters) is estimated.
    await world.ask(client, "anthropic/fake-cut", stream=True)
    row = await world.last_row()
    assert row["error"].startswith("stream interrupted")
    assert (row["tokens_in"], row["tokens_out"], row["estimated"]) == (tokens_in, 3, 1)
    assert row["cost_usd"] == pytest.approx(cost(tokens_in, 0, 0, 3), rel=1e-9)


async def test_the_service_reports_usage(world: World) -> None:
    for stream in (False, True):
        await world.ask("anthropic", "anthropic/echo-cached", stream=stream)
    await world.ask("openai", "openai/fake-think", stream=False)
    await world.ask("openai", "nope/x", stream=False)
    await world.gateway.flush_logs()
    report = await world.gateway.usage(by="model")
    got = {row.group: (row.stats.requests, row.stats.tokens_in, row.stats.cached_tokens)
           for row in report.rows}  # fmt: skip
    assert got == {"echo-cached": (2, 14, 6), "fake-think": (1, 7, 0), "nope/x": (1, 0, 0)}
    assert [row.group for row in report.rows][:2] == ["fake-think", "echo-cached"]  # by cost
    total = report.total
    assert (total.requests, total.succeeded, total.reasoning_tokens) == (4, 3, THOUGHT_WORDS)
    assert total.cost_usd == pytest.approx(
        2 * cost(4, 3, 0, ECHO_WORDS) + cost(7, 0, 0, ECHO_WORDS + THOUGHT_WORDS), abs=1e-9
    )
    assert total.latency_p50_ms is not None and total.latency_p99_ms is not None
    by_key = await world.gateway.usage(by="key", bucket="hour")
    assert [(row.group, row.stats.requests) for row in by_key.rows] == [("usage", 4)]
