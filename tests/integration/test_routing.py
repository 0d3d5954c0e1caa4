"""Routing through the real gateway: strategies, fallback rules, cooldowns, the final error."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gateway.routing.router import model_key
from gateway.service import GatewayService
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, import_toml, log_rows, start_service

MESSAGES = [{"role": "user", "content": "route me"}]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def account(name: str, base_url: str, key: str, priority: int) -> str:
    return (
        f'\n[[connections]]\nname = "{name}"\nprovider = "openai"\napi_key = "{key}"\n'
        f'base_url = "{base_url}"\npriority = {priority}\n'
    )


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeOpenAI, FakeOpenAI]]:
    async with FakeOpenAI(api_key="sk-a") as first, FakeOpenAI(api_key="sk-b") as second:
        yield first, second


async def gateway_with(data_dir: Path, config: str) -> GatewayService:
    import_toml(data_dir, f'[[api_keys]]\nname = "t"\nkey = "{CLIENT_KEY}"\n{config}')
    return await start_service(data_dir)


async def ask(service: GatewayService, model: str) -> tuple[int, dict[str, str], dict]:  # type: ignore[type-arg]
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{service.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY},
            json={"model": model, "messages": MESSAGES},
        ) as response,
    ):
        return response.status, dict(response.headers), await response.json()


async def test_an_empty_200_falls_back_to_the_next_target(data_dir: Path, fakes: tuple) -> None:  # type: ignore[type-arg]
    first, _ = fakes
    service = await gateway_with(
        data_dir,
        account("a", first.base_url, "sk-a", 1)
        + ('\n[[combos]]\nname = "c"\ntargets = ["openai/fake-empty", "openai/gpt-x"]\n'),
    )
    try:
        status, _, body = await ask(service, "c")
        assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: route me"
        assert [r.body["model"] for r in first.state.requests[-2:]] == ["fake-empty", "gpt-x"]
    finally:
        await service.stop()


async def test_a_malformed_request_is_not_repeated_on_every_account(
    data_dir: Path, fakes: tuple
) -> None:  # type: ignore[type-arg]
    first, second = fakes
    service = await gateway_with(
        data_dir, account("a", first.base_url, "sk-a", 1) + account("b", second.base_url, "sk-b", 2)
    )
    try:
        status, _, body = await ask(service, "openai/fake-error-400")
        assert status == 400 and body["error"]["type"] == "invalid_request_error"
        assert len(first.state.requests) == 1 and second.state.requests == []
    finally:
        await service.stop()


async def test_a_dead_account_is_cooled_down_and_skipped(data_dir: Path, fakes: tuple) -> None:  # type: ignore[type-arg]
    _, second = fakes
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    service = await gateway_with(
        data_dir, account("dead", dead, "sk-x", 1) + account("live", second.base_url, "sk-b", 2)
    )
    try:
        for _ in range(2):
            status, _, body = await ask(service, "openai/gpt-x")
            assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: route me"
        dead_id = next(
            u.connection_id for u in service.snapshot.upstreams if u.connection == "dead"
        )
        router = service.runtime.router
        assert router.cooldowns.until(model_key(dead_id, "gpt-x")) is not None
        assert router.stats.uses(f"conn:{dead_id}") == 1  # the second request skipped it
        await service.flush_logs()
        assert [r["connection"] for r in log_rows(data_dir)[-2:]] == ["live", "live"]
    finally:
        await service.stop()


async def test_when_everything_fails_one_error_lists_every_attempt(data_dir: Path) -> None:
    service = await gateway_with(
        data_dir,
        account("one", f"http://127.0.0.1:{closed_port()}/v1", "k", 1)
        + account("two", f"http://127.0.0.1:{closed_port()}/v1", "k", 2),
    )
    try:
        status, _, body = await ask(service, "openai/gpt-x")
        assert status == 502
        error = body["error"]
        assert error["code"] == "all_targets_failed"
        assert "via 'one'" in error["message"] and "via 'two'" in error["message"]
        assert "2 attempt(s)" in error["message"]
    finally:
        await service.stop()


async def test_while_every_target_cools_down_the_answer_is_fast_with_retry_after(
    data_dir: Path, fakes: tuple
) -> None:  # type: ignore[type-arg]
    first, _ = fakes
    service = await gateway_with(data_dir, account("a", first.base_url, "sk-a", 1))
    try:
        status, _, _ = await ask(service, "openai/fake-error-429")
        assert status == 429  # the upstream's own error, it said retry-after: 1
        status, headers, body = await ask(service, "openai/fake-error-429")
        assert status == 503 and body["error"]["code"] == "all_targets_failed"
        assert "cooling down" in body["error"]["message"]
        assert int(headers["Retry-After"]) >= 1
        assert len(first.state.requests) == 1  # the second request never reached it
    finally:
        await service.stop()


async def test_round_robin_combo_alternates_targets(data_dir: Path, fakes: tuple) -> None:  # type: ignore[type-arg]
    first, _ = fakes
    service = await gateway_with(
        data_dir,
        account("a", first.base_url, "sk-a", 1)
        + (
            '\n[[combos]]\nname = "rr"\nstrategy = "round-robin"\n'
            'targets = ["openai/m1", "openai/m2"]\n'
        ),
    )
    try:
        for _ in range(4):
            assert (await ask(service, "rr"))[0] == 200
        assert [r.body["model"] for r in first.state.requests] == ["m1", "m2", "m1", "m2"]
    finally:
        await service.stop()


async def test_round_robin_accounts_take_turns(data_dir: Path, fakes: tuple) -> None:  # type: ignore[type-arg]
    first, second = fakes
    service = await gateway_with(
        data_dir,
        '[settings]\naccount_strategy = "round-robin"\nsticky_uses = 2\n'
        + account("a", first.base_url, "sk-a", 1)
        + account("b", second.base_url, "sk-b", 2),
    )
    try:
        for _ in range(6):
            assert (await ask(service, "openai/gpt-x"))[0] == 200
        assert (len(first.state.requests), len(second.state.requests)) == (4, 2)
    finally:
        await service.stop()


async def test_weighted_combo_follows_its_weights(data_dir: Path, fakes: tuple) -> None:  # type: ignore[type-arg]
    first, _ = fakes
    service = await gateway_with(
        data_dir,
        account("a", first.base_url, "sk-a", 1)
        + (
            '\n[[combos]]\nname = "w"\nstrategy = "weighted"\n'
            'targets = ["openai/heavy", "openai/light"]\nweights = [3, 1]\n'
        ),
    )
    try:
        service.runtime.router.rng.seed(7)
        for _ in range(400):
            assert (await ask(service, "w"))[0] == 200
        heavy = sum(r.body["model"] == "heavy" for r in first.state.requests)
        assert 270 <= heavy <= 330  # 3 : 1, a fixed seed
    finally:
        await service.stop()


async def test_the_pin_header_chooses_the_target_and_the_account(
    data_dir: Path, fakes: tuple
) -> None:  # type: ignore[type-arg]
    first, second = fakes
    service = await gateway_with(
        data_dir, account("a", first.base_url, "sk-a", 1) + account("b", second.base_url, "sk-b", 2)
    )
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{service.endpoint}/v1/chat/completions"
            body = {"model": "openai/ignored", "messages": MESSAGES}
            headers = {"x-api-key": CLIENT_KEY, "X-Switchboard-Model": "openai/pinned@b"}
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 200
            headers["X-Switchboard-Model"] = "openai/pinned@nobody"
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 404
                assert "'nobody'" in (await response.json())["error"]["message"]
        assert first.state.requests == []
        assert [r.body["model"] for r in second.state.requests] == ["pinned"]
        await service.flush_logs()
        assert log_rows(data_dir)[-2]["requested_model"] == (
            "openai/ignored (pinned to openai/pinned@b)"
        )
    finally:
        await service.stop()
