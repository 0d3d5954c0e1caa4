"""Idempotency, in-flight dedup and the response cache through a real gateway, with fake
upstreams in every dialect and the official SDKs as clients where natural."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import orjson
import pytest

from gateway.server.response_cache import CacheStats
from gateway.service import GatewayService
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import CLIENT_KEY, import_toml, log_rows, start_service

pytestmark = pytest.mark.timeout(60)
DIALECTS = ["openai", "anthropic", "gemini", "responses"]


@dataclass
class World:
    data_dir: Path
    fakes: dict[str, Any]
    service: GatewayService

    def calls(self, upstream: str = "openai") -> int:
        """Generation requests the fake upstream of that dialect has received."""
        return sum(r.method == "POST" for r in self.fakes[upstream].state.requests)

    async def restart(self) -> None:
        await self.service.stop()
        self.service = await start_service(self.data_dir)


async def make_world(data_dir: Path, settings: str = "", extra: str = "") -> World:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    if settings:
        import_toml(data_dir, f"[settings]\n{settings}\n")
    import_toml(data_dir, four_dialect_config(fakes, key_name="replays", extra=extra))
    return World(data_dir, fakes, await start_service(data_dir))


@pytest.fixture
async def world_factory(data_dir: Path) -> AsyncIterator[Any]:
    worlds: list[World] = []

    async def make(settings: str = "", extra: str = "") -> World:
        world = await make_world(data_dir, settings, extra)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        await world.service.stop()
        for fake in world.fakes.values():
            await fake.stop()


# Raw requests in each client dialect --------------------------------------------------------


def route(client: str, model: str, *, stream: bool) -> str:
    if client == "openai":
        return "/v1/chat/completions"
    if client == "anthropic":
        return "/v1/messages"
    if client == "responses":
        return "/v1/responses"
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"/v1beta/models/{model}:{action}"


def body(
    client: str, model: str, text: str, *, stream: bool, temperature: float | None = 0
) -> dict[str, Any]:
    if client == "gemini":
        out: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        if temperature is not None:
            out["generationConfig"] = {"temperature": temperature}
        return out
    if client == "openai":
        out = {"model": model, "messages": [{"role": "user", "content": text}]}
        if stream:
            out["stream_options"] = {"include_usage": True}
    elif client == "anthropic":
        out = {"model": model, "max_tokens": 200, "messages": [{"role": "user", "content": text}]}
    else:
        out = {"model": model, "input": text, "store": False}
    out["stream"] = stream
    if temperature is not None:
        out["temperature"] = temperature
    return out


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def ask(
    world: World,
    model: str = "openai/gpt-x",
    text: str = "same question",
    *,
    client: str = "openai",
    stream: bool = False,
    temperature: float | None = 0,
    headers: dict[str, str] | None = None,
) -> Answer:
    payload = body(client, model, text, stream=stream, temperature=temperature)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            world.service.endpoint + route(client, model, stream=stream),
            headers={"x-api-key": CLIENT_KEY, **(headers or {})},
            data=orjson.dumps(payload),
        ) as response,
    ):
        return Answer(response.status, dict(response.headers), await response.read())


def streamed_text(answer: Answer) -> str:
    """The text of an OpenAI Chat stream that ended with [DONE]."""
    lines = [line for line in answer.body.split(b"\n") if line.startswith(b"data: ")]
    assert lines[-1] == b"data: [DONE]"
    chunks = [orjson.loads(line[6:]) for line in lines[:-1]]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


async def logged(world: World) -> list[dict[str, object]]:
    await world.service.flush_logs()
    return log_rows(world.data_dir)


# Idempotency --------------------------------------------------------------------------------


async def test_the_same_idempotency_key_within_the_window_gets_the_first_answer(
    world_factory: Any,
) -> None:
    world = await world_factory()
    sdk = openai.AsyncOpenAI(
        base_url=f"{world.service.endpoint}/v1", api_key=CLIENT_KEY, max_retries=0
    )
    try:
        replies = []
        for _ in range(2):
            raw = await sdk.chat.completions.with_raw_response.create(
                model="openai/gpt-x",
                messages=[{"role": "user", "content": "pay once"}],
                temperature=0.9,  # not deterministic: only the key makes it a repeat
                extra_headers={"Idempotency-Key": "order-17"},
            )
            replies.append((raw.headers.get("X-Switchboard-Replay"), raw.http_response.content))
            assert raw.parse().choices[0].message.content == "Echo: pay once"
    finally:
        await sdk.close()
    assert world.calls() == 1
    assert replies[0][0] is None and replies[1][0] == "idempotent"
    assert replies[0][1] == replies[1][1]  # the same completion id: the very same answer
    rows = await logged(world)
    assert [(r["replay"], r["provider"], r["status"]) for r in rows] == [
        (None, "openai", 200),
        ("idempotent", None, 200),
    ]
    assert rows[1]["tokens_in"] == rows[0]["tokens_in"] == 2
    assert world.service.runtime.replays.stats().idempotent == 1


async def test_a_repeat_while_the_first_runs_waits_for_it_and_after_the_window_runs_again(
    world_factory: Any,
) -> None:
    world = await world_factory("dedup_window_s = 0.5")
    key = {"X-Request-Id": "req-abc"}
    first, second = await asyncio.gather(
        ask(world, "openai/fake-slow-0.3", temperature=1, headers=key),
        ask(world, "openai/fake-slow-0.3", temperature=1, headers=key),
    )
    assert first.body == second.body and first.status == 200
    assert world.calls() == 1
    assert {
        first.headers.get("X-Switchboard-Replay"),
        second.headers.get("X-Switchboard-Replay"),
    } == {
        None,
        "idempotent",
    }
    await asyncio.sleep(0.6)
    third = await ask(world, "openai/fake-slow-0.3", temperature=1, headers=key)
    assert world.calls() == 2 and third.body != first.body
    assert "X-Switchboard-Replay" not in third.headers


async def test_a_failed_first_attempt_is_not_replayed(world_factory: Any) -> None:
    world = await world_factory()
    key = {"Idempotency-Key": "k-400"}
    first = await ask(world, "openai/fake-error-400", temperature=1, headers=key)
    second = await ask(world, "openai/fake-error-400", temperature=1, headers=key)
    assert (first.status, second.status) == (400, 400)
    assert world.calls() == 2 and "X-Switchboard-Replay" not in second.headers


# In-flight dedup ----------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_identical_deterministic_requests_in_flight_share_one_upstream_call(
    world_factory: Any, stream: bool
) -> None:
    world = await world_factory()
    model = "openai/fake-drip-30" if stream else "openai/fake-slow-0.3"
    answers = await asyncio.gather(*(ask(world, model, stream=stream) for _ in range(10)))
    assert world.calls() == 1
    assert len({a.body for a in answers}) == 1 and answers[0].status == 200
    marks = sorted(a.headers.get("X-Switchboard-Replay", "") for a in answers)
    assert marks == [""] + ["shared"] * 9
    if stream:
        assert streamed_text(answers[0]) == "Echo: same question"
        assert all(a.headers["Content-Type"].startswith("text/event-stream") for a in answers)
    rows = await logged(world)
    assert sorted(str(r["replay"]) for r in rows) == ["None"] + ["shared"] * 9
    assert world.service.runtime.replays.stats().shared == 9


async def test_requests_with_a_temperature_above_zero_each_go_upstream(world_factory: Any) -> None:
    world = await world_factory()
    answers = await asyncio.gather(
        *(ask(world, "openai/fake-slow-0.3", temperature=0.7) for _ in range(10))
    )
    assert world.calls() == 10
    assert len({a.body for a in answers}) == 10  # ten completions, ten ids


async def test_followers_get_the_leaders_error(world_factory: Any) -> None:
    world = await world_factory("upstream_read_timeout_s = 0.3")
    answers = await asyncio.gather(*(ask(world, "openai/fake-slow-3") for _ in range(5)))
    assert [a.status for a in answers] == [504] * 5
    assert len({a.body for a in answers}) == 1
    assert world.calls() == 1


async def test_when_the_leaders_client_goes_away_a_follower_runs_itself(
    world_factory: Any,
) -> None:
    world = await world_factory()
    payload = orjson.dumps(body("openai", "openai/fake-drip-100", "leave early", stream=True))
    url = world.service.endpoint + "/v1/chat/completions"
    headers = {"x-api-key": CLIENT_KEY}
    http = aiohttp.ClientSession()
    leader = await http.post(url, headers=headers, data=payload)
    await leader.content.readany()  # the stream has started
    follower = asyncio.create_task(ask(world, "openai/fake-drip-100", "leave early", stream=True))
    await asyncio.sleep(0.15)
    assert not follower.done()
    leader.close()  # the leader's client goes away mid-stream
    await http.close()
    answer = await follower
    assert answer.status == 200 and streamed_text(answer) == "Echo: leave early"
    assert answer.headers.get("X-Switchboard-Replay") is None  # it ran itself
    assert world.calls() == 2


async def test_dedup_is_off_with_a_zero_window(world_factory: Any) -> None:
    world = await world_factory("dedup_window_s = 0")
    await asyncio.gather(*(ask(world, "openai/fake-slow-0.2") for _ in range(3)))
    assert world.calls() == 3


# Response cache ------------------------------------------------------------------------------


async def test_the_cache_is_off_by_default(world_factory: Any) -> None:
    world = await world_factory()
    first = await ask(world)
    second = await ask(world)
    assert world.calls() == 2 and first.body != second.body
    assert "X-Switchboard-Cache" not in second.headers
    assert world.service.cache_stats() == CacheStats()


async def openai_sdk(world: World, *, stream: bool) -> tuple[str, str | None]:
    sdk = openai.AsyncOpenAI(
        base_url=f"{world.service.endpoint}/v1", api_key=CLIENT_KEY, max_retries=0
    )
    try:
        kwargs: dict[str, Any] = {
            "model": "openai/gpt-x",
            "messages": [{"role": "user", "content": "cache me"}],
            "temperature": 0,
        }
        if not stream:
            raw = await sdk.chat.completions.with_raw_response.create(**kwargs)
            return raw.parse().choices[0].message.content or "", raw.headers.get(
                "X-Switchboard-Cache"
            )
        text = ""
        async with sdk.chat.completions.with_streaming_response.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        ) as response:
            async for chunk in await response.parse():
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
            return text, response.headers.get("X-Switchboard-Cache")
    finally:
        await sdk.close()


async def anthropic_sdk(world: World, *, stream: bool) -> tuple[str, str | None]:
    sdk = anthropic.AsyncAnthropic(
        base_url=world.service.endpoint, api_key=CLIENT_KEY, max_retries=0
    )
    try:
        kwargs: dict[str, Any] = {
            "model": "openai/gpt-x",  # translated: Anthropic client, OpenAI upstream
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "cache me"}],
            "extra_body": {"temperature": 0},  # (this SDK version no longer takes it as such)
        }
        if not stream:
            raw = await sdk.messages.with_raw_response.create(**kwargs)
            message = await raw.parse()
            return message.content[0].text, raw.headers.get("X-Switchboard-Cache")  # type: ignore[union-attr]
        async with sdk.messages.stream(**kwargs) as events:
            message = await events.get_final_message()
            header = events.response.headers.get("X-Switchboard-Cache")
        return message.content[0].text, header  # type: ignore[union-attr]
    finally:
        await sdk.close()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("sdk", [openai_sdk, anthropic_sdk], ids=["openai", "anthropic"])
async def test_the_second_identical_request_is_answered_from_the_cache(
    world_factory: Any, sdk: Any, stream: bool
) -> None:
    world = await world_factory("cache_enabled = true")
    assert await sdk(world, stream=stream) == ("Echo: cache me", "miss")
    assert await sdk(world, stream=stream) == ("Echo: cache me", "hit")
    assert world.calls() == 1
    stats = world.service.cache_stats()
    assert (stats.hits, stats.misses, stats.stores, stats.entries) == (1, 1, 1, 1)
    assert stats.tokens_saved == 2 + 3  # "cache me" in, "Echo: cache me" out
    rows = await logged(world)
    assert [r["replay"] for r in rows] == [None, "cache"]
    assert (rows[1]["tokens_in"], rows[1]["tokens_out"], rows[1]["stream"]) == (2, 3, int(stream))


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("path", ["same-dialect", "translated"])
@pytest.mark.parametrize("client", DIALECTS)
async def test_a_cache_hit_replays_the_exact_bytes_in_every_dialect(
    world_factory: Any, client: str, path: str, stream: bool
) -> None:
    world = await world_factory("cache_enabled = true")
    upstream = (
        client if path == "same-dialect" else ("openai" if client != "openai" else "anthropic")
    )
    model = f"{PREFIX[upstream]}/gpt-x"
    first = await ask(world, model, client=client, stream=stream)
    second = await ask(world, model, client=client, stream=stream)
    assert first.status == second.status == 200, first.body
    assert (first.headers["X-Switchboard-Cache"], second.headers["X-Switchboard-Cache"]) == (
        "miss",
        "hit",
    )
    assert second.body == first.body
    assert (
        second.headers["Content-Type"].split(";")[0] == first.headers["Content-Type"].split(";")[0]
    )
    assert world.calls(upstream) == 1


async def test_the_cache_survives_a_restart_until_its_ttl(world_factory: Any) -> None:
    world = await world_factory("cache_enabled = true\ncache_ttl_s = 2")
    first = await ask(world)
    await world.restart()
    second = await ask(world)
    assert second.headers["X-Switchboard-Cache"] == "hit" and second.body == first.body
    assert world.calls() == 1
    await asyncio.sleep(2.1)
    third = await ask(world)
    assert third.headers["X-Switchboard-Cache"] == "miss" and third.body != first.body
    assert world.calls() == 2


async def test_the_bypass_header_goes_upstream(world_factory: Any) -> None:
    world = await world_factory("cache_enabled = true")
    await ask(world)
    fresh = await ask(world, headers={"X-Switchboard-No-Cache": "true"})
    assert fresh.headers["X-Switchboard-Cache"] == "bypass"
    no_cache = await ask(world, headers={"Cache-Control": "no-cache"})
    assert no_cache.headers["X-Switchboard-Cache"] == "bypass"
    assert world.calls() == 3
    hit = await ask(world)
    assert hit.headers["X-Switchboard-Cache"] == "hit" and hit.body == no_cache.body
    assert world.calls() == 3


async def test_only_deterministic_successful_answers_are_cached(world_factory: Any) -> None:
    world = await world_factory("cache_enabled = true")
    for _ in range(2):
        warm = await ask(world, temperature=0.5)
        assert "X-Switchboard-Cache" not in warm.headers
        failed = await ask(world, "openai/fake-error-400")
        assert failed.status == 400 and failed.headers["X-Switchboard-Cache"] == "miss"
        cut = await ask(world, "openai/fake-cut", stream=True)
        assert cut.status == 200 and cut.headers["X-Switchboard-Cache"] == "miss"
    assert world.calls() == 6
    assert world.service.cache_stats().stores == 0


async def test_a_combo_with_cache_on_is_cached_while_the_global_switch_is_off(
    world_factory: Any,
) -> None:
    combos = (
        '\n[[combos]]\nname = "cached"\ntargets = ["openai/gpt-x"]\ncache = true\n'
        '\n[[combos]]\nname = "plain"\ntargets = ["openai/gpt-x"]\n'
    )
    world = await world_factory(extra=combos)
    for model in ("cached", "plain", "openai/gpt-x"):
        await ask(world, model)
        await ask(world, model)
    assert world.calls() == 1 + 2 + 2
    stats = world.service.cache_stats()
    assert (stats.hits, stats.misses, stats.stores) == (1, 1, 1)


async def test_a_combo_can_switch_the_cache_off(world_factory: Any) -> None:
    combos = '\n[[combos]]\nname = "fresh"\ntargets = ["openai/gpt-x"]\ncache = false\n'
    world = await world_factory("cache_enabled = true", extra=combos)
    for model in ("fresh", "openai/gpt-x"):
        await ask(world, model)
        await ask(world, model)
    assert world.calls() == 2 + 1


async def test_stats_count_exactly_and_clear_empties_the_cache(world_factory: Any) -> None:
    world = await world_factory("cache_enabled = true")
    await ask(world, text="one")  # miss, store
    await ask(world, text="one")  # hit
    await ask(world, text="one")  # hit
    await ask(world, text="two two")  # miss, store
    await ask(world, text="two two", headers={"X-Switchboard-No-Cache": "1"})  # bypass, store
    await ask(world, text="three", temperature=0.3)  # not deterministic: not counted
    stats = world.service.cache_stats()
    assert (stats.hits, stats.misses, stats.bypassed, stats.stores) == (2, 2, 1, 3)
    assert (stats.evictions, stats.expired, stats.entries) == (0, 0, 2)
    assert stats.tokens_saved == 2 * (1 + 2)  # "one": 1 in, "Echo: one" 2 out
    await world.service.clear_cache()
    assert world.service.cache_stats().entries == 0
    again = await ask(world, text="one")
    assert again.headers["X-Switchboard-Cache"] == "miss"
    await world.restart()
    assert (await ask(world, text="two two")).headers["X-Switchboard-Cache"] == "miss"
