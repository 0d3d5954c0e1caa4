"""Per-connection rate limits and auth refresh through the real gateway: a slot held for a
whole stream, rpm and learned limits sending requests to the next target, one refresh for
many refused requests, and connections that need a login skipped until the config changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.config import commands
from gateway.config.file_format import ConnectionEntry
from gateway.config.snapshot import Upstream
from gateway.routing.credentials import NEEDS_LOGIN, Refresher
from gateway.service import GatewayService
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, import_toml, log_rows, wait_for, with_context

pytestmark = pytest.mark.timeout(60)
MESSAGES = [{"role": "user", "content": "limit me"}]
COMBO = '\n[[combos]]\nname = "c"\ntargets = ["openai/gpt-x", "backup/gpt-x"]\n'


def connection(name: str, fake: Any, key: str, extra: str = "", provider: str = "openai") -> str:
    return (
        f'\n[[connections]]\nname = "{name}"\nprovider = "{provider}"\napi_key = "{key}"\n'
        f'base_url = "{fake.base_url}"\n{extra}'
    )


def backup(fake: FakeOpenAI) -> str:
    """A second provider (a custom OpenAI-style server, prefix backup/) for combos."""
    return connection("backup", fake, "sk-b", 'dialect = "openai"\nalias = "backup"\n', "custom")


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeOpenAI, FakeOpenAI]]:
    async with FakeOpenAI(api_key="sk-a") as first, FakeOpenAI(api_key="sk-b") as second:
        yield first, second


async def gateway_with(
    data_dir: Path, config: str, reload_interval: float = 0.05
) -> GatewayService:
    import_toml(data_dir, f'[[api_keys]]\nname = "t"\nkey = "{CLIENT_KEY}"\n{config}')
    service = GatewayService(data_dir, port=0, reload_interval=reload_interval)
    await service.start()
    return service


async def ask(
    service: GatewayService, model: str, *, stream: bool = False, pin: str | None = None
) -> tuple[int, Mapping[str, str], bytes]:
    headers = {"x-api-key": CLIENT_KEY}
    if pin:
        headers["X-Switchboard-Model"] = pin
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{service.endpoint}/v1/chat/completions",
            headers=headers,
            json={"model": model, "messages": MESSAGES, "stream": stream},
        ) as response,
    ):
        return response.status, response.headers, await response.read()


def content(raw: bytes) -> str:
    return str(orjson.loads(raw)["choices"][0]["message"]["content"])


def error_message(raw: bytes) -> str:
    return str(orjson.loads(raw)["error"]["message"])


async def connections_used(service: GatewayService, data_dir: Path) -> list[str]:
    await service.flush_logs()
    return [str(row["connection"]) for row in log_rows(data_dir)]


# rate limits ---------------------------------------------------------------------------------


async def test_max_concurrent_one_holds_the_slot_for_the_whole_stream(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, _ = fakes
    service = await gateway_with(data_dir, connection("a", first, "sk-a", "max_concurrent = 1\n"))
    try:
        streamed = asyncio.create_task(ask(service, "openai/fake-drip-200", stream=True))
        await wait_for(lambda: bool(first.state.requests))
        status, _, raw = await ask(service, "openai/gpt-x")  # waits for the stream's slot
        assert (status, content(raw)) == (200, "Echo: limit me")
        stream_status, _, stream_raw = await streamed
        assert stream_status == 200 and stream_raw.endswith(b"data: [DONE]\n\n")
        drip, plain = first.state.requests
        assert [drip.body["model"], plain.body["model"]] == ["fake-drip-200", "gpt-x"]
        events = stream_raw.count(b"data: ")
        assert events >= 5
        # The second request reached the upstream only after every event of the first was sent.
        assert plain.at - drip.at >= events * 0.2 - 0.05
    finally:
        await service.stop()


async def test_without_limits_two_requests_overlap(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, _ = fakes
    service = await gateway_with(data_dir, connection("a", first, "sk-a"))
    try:
        streamed = asyncio.create_task(ask(service, "openai/fake-drip-200", stream=True))
        await wait_for(lambda: bool(first.state.requests))
        assert (await ask(service, "openai/gpt-x"))[0] == 200
        await streamed
        drip, plain = first.state.requests
        assert plain.at - drip.at < 0.6  # the contrast: no slot to wait for
    finally:
        await service.stop()


async def test_rpm_sends_the_third_request_to_the_next_target_at_once(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, second = fakes
    service = await gateway_with(
        data_dir,
        "[settings]\nrate_limit_max_wait_s = 5\n"
        + connection("limited", first, "sk-a", "rpm = 2\n")
        + backup(second)
        + COMBO,
    )
    try:
        for _ in range(2):
            assert (await ask(service, "c"))[0] == 200
        started = time.monotonic()
        status, _, raw = await ask(service, "c")
        assert (status, content(raw)) == (200, "Echo: limit me")
        assert time.monotonic() - started < 2.0  # the slot is a minute away: no waiting
        assert (len(first.state.requests), len(second.state.requests)) == (2, 1)
        assert await connections_used(service, data_dir) == ["limited", "limited", "backup"]
    finally:
        await service.stop()


async def test_when_only_a_rate_limited_connection_serves_the_error_says_when(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, _ = fakes
    service = await gateway_with(data_dir, connection("limited", first, "sk-a", "rpm = 1\n"))
    try:
        assert (await ask(service, "openai/gpt-x"))[0] == 200
        status, headers, raw = await ask(service, "openai/gpt-x")
        assert status == 503
        message = error_message(raw)
        assert "openai/gpt-x via 'limited': skipped (rate limit (1 of 1 requests in the " in message
        assert "0 requests waiting, the next slot is in " in message
        assert 58 <= int(headers["Retry-After"]) <= 61
        assert len(first.state.requests) == 1
    finally:
        await service.stop()


async def test_a_spent_limit_learned_from_openai_headers_moves_requests_on(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, second = fakes
    service = await gateway_with(
        data_dir, connection("learns", first, "sk-a") + backup(second) + COMBO
    )
    try:
        status, _, raw = await ask(service, "openai/fake-limit-600")
        assert (status, content(raw)) == (200, "Echo: limit me")  # said: 0 requests left
        assert (await ask(service, "c"))[0] == 200
        assert (len(first.state.requests), len(second.state.requests)) == (1, 1)
        assert await connections_used(service, data_dir) == ["learns", "backup"]
    finally:
        await service.stop()


async def test_a_spent_limit_learned_from_anthropic_headers_moves_requests_on(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    _, second = fakes
    async with FakeAnthropic(api_key="sk-ant") as anthropic:
        service = await gateway_with(
            data_dir,
            connection("claude", anthropic, "sk-ant", provider="anthropic")
            + backup(second)
            + '\n[[combos]]\nname = "c"\ntargets = ["anthropic/m", "backup/gpt-x"]\n',
        )
        try:
            assert (await ask(service, "anthropic/fake-limit-600"))[0] == 200
            assert (await ask(service, "c"))[0] == 200
            assert len(anthropic.state.requests) == 1
            assert await connections_used(service, data_dir) == ["claude", "backup"]
        finally:
            await service.stop()


# auth refresh --------------------------------------------------------------------------------


class CountingRefresher:
    def __init__(self, inner: Refresher | None) -> None:
        assert inner is not None
        self.inner = inner
        self.calls = 0

    async def refresh(self, upstream: Upstream) -> Mapping[str, str] | None:
        self.calls += 1
        return await self.inner.refresh(upstream)


def counting(service: GatewayService) -> CountingRefresher:
    credentials = service.runtime.credentials
    refresher = CountingRefresher(credentials.default)
    credentials.default = refresher
    return refresher


def replace_key(data_dir: Path, fake: FakeOpenAI, name: str, key: str) -> None:
    """What `switchboard connection add NAME --replace` does, in this test's data folder."""
    entry = ConnectionEntry(name=name, provider="openai", api_key=key, base_url=fake.base_url)
    with_context(data_dir, lambda ctx: commands.add_connection(ctx, entry, replace=True))


def keys_seen(fake: FakeOpenAI) -> list[str]:
    return [r.headers["authorization"] for r in fake.state.requests]


async def test_a_replaced_key_is_used_after_one_refresh(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, _ = fakes
    # The configuration is not reloaded during the test: only the refresh can see the new key.
    service = await gateway_with(data_dir, connection("a", first, "sk-a"), reload_interval=3600)
    try:
        refresher = counting(service)
        first.state.api_key = "sk-rotated"
        await asyncio.to_thread(replace_key, data_dir, first, "a", "sk-rotated")
        status, _, raw = await ask(service, "openai/gpt-x")
        assert (status, content(raw)) == (200, "Echo: limit me")
        assert keys_seen(first) == ["Bearer sk-a", "Bearer sk-rotated"]
        assert refresher.calls == 1
        assert (await ask(service, "openai/gpt-x"))[0] == 200  # straight to the new key
        assert keys_seen(first)[2:] == ["Bearer sk-rotated"]
        assert refresher.calls == 1
    finally:
        await service.stop()


async def test_twenty_refused_requests_at_once_share_one_refresh(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, _ = fakes
    service = await gateway_with(data_dir, connection("a", first, "sk-a"), reload_interval=3600)
    try:
        refresher = counting(service)
        first.state.api_key = "sk-rotated"
        await asyncio.to_thread(replace_key, data_dir, first, "a", "sk-rotated")
        answers = await asyncio.gather(*(ask(service, "openai/gpt-x") for _ in range(20)))
        assert [status for status, _, _ in answers] == [200] * 20
        assert refresher.calls == 1
        seen = keys_seen(first)
        assert seen.count("Bearer sk-rotated") == 20  # each request served once
        assert 1 <= seen.count("Bearer sk-a") <= 20
    finally:
        await service.stop()


async def test_a_key_that_stays_bad_marks_the_connection_until_the_configuration_changes(
    data_dir: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, second = fakes
    service = await gateway_with(
        data_dir,
        connection("bad", first, "sk-wrong", "priority = 1\n")
        + connection("good", second, "sk-b", "priority = 2\n"),
    )
    try:
        refresher = counting(service)
        assert (await ask(service, "openai/gpt-x"))[0] == 200  # bad: 401, refresh, then good
        assert (len(first.state.requests), refresher.calls) == (1, 1)
        for _ in range(3):  # skipped without reaching the upstream or refreshing again
            assert (await ask(service, "openai/gpt-x"))[0] == 200
        assert (len(first.state.requests), refresher.calls) == (1, 1)
        assert await connections_used(service, data_dir) == ["good"] * 4
        status, _, raw = await ask(service, "openai/gpt-x", pin="openai/gpt-x@bad")
        assert status == 503 and f"via 'bad': skipped ({NEEDS_LOGIN})" in error_message(raw)

        revision = service.snapshot.revision
        await service.call(commands.set_settings, service.context, {"max_attempts": 9})
        assert service.snapshot.revision > revision
        assert (await ask(service, "openai/gpt-x"))[0] == 200
        assert len(first.state.requests) == 2  # tried again after the change (still refused)
        assert refresher.calls == 2
    finally:
        await service.stop()
