"""Health events end to end: a real gateway and a real fake upstream fail in known ways, and
the service's event stream says so once per transition — a provider whose only connection's
breaker opens is down, its probe's success brings it back, and an upstream refusing a
connection's key marks it as needing a login (and its provider down)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gateway.observe.events import Event
from gateway.routing.credentials import NEEDS_LOGIN
from gateway.routing.router import Router
from gateway.service import GatewayService
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.chaos import FakeClock
from tests.support.gateway import CLIENT_KEY, basic_config, import_toml, wait_for

pytestmark = pytest.mark.timeout(30)
HEALTH_KINDS = ("provider_down", "provider_recovered", "login_needed", "login_restored")
# Five different models, so no model cooldown skips the next request: five counted failures
# open the connection's breaker (threshold 5) while the provider's (8) stays closed.
COUNTED = ("fake-error-500", "fake-error-502", "fake-error-503", "fake-error-504", "fake-empty")
EMPTY_200 = "empty_response: HTTP 200 with an empty body"


class World:
    def __init__(self, service: GatewayService, clock: FakeClock, http: aiohttp.ClientSession):
        self.service, self.clock, self.http = service, clock, http
        self.events: list[Event] = []
        service.subscribe(self._keep)

    def _keep(self, event: Event) -> None:
        if event.kind in HEALTH_KINDS:
            self.events.append(event)

    async def ask(self, model: str) -> int:
        url = f"{self.service.endpoint}/v1/chat/completions"
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        async with self.http.post(url, json=body, headers={"x-api-key": CLIENT_KEY}) as response:
            await response.read()
            return response.status

    async def wait_for_events(self, count: int) -> None:
        await wait_for(lambda: len(self.events) >= count)
        # Ten more polls: a transition reported twice would show up by then.
        await asyncio.sleep(10 * INTERVAL)


INTERVAL = 0.02


@pytest.fixture
async def world(data_dir: Path) -> AsyncIterator[World]:
    async with FakeOpenAI() as fake:
        stale = (
            '\n[[connections]]\nname = "stale"\nprovider = "deepseek"\n'
            f'api_key = "sk-revoked"\nbase_url = "{fake.base_url}"\n'
        )
        import_toml(data_dir, basic_config(fake.base_url, upstream_key=fake.state.api_key))
        import_toml(data_dir, stale)
        clock = FakeClock()
        service = GatewayService(
            data_dir,
            port=0,
            reload_interval=0.05,
            router=Router(clock=clock),
            health_interval=INTERVAL,
        )
        await service.start()
        try:
            async with aiohttp.ClientSession() as http:
                yield World(service, clock, http)
        finally:
            await service.stop()


async def test_a_provider_goes_down_and_recovers_once_each(world: World) -> None:
    for model in COUNTED:
        assert await world.ask(f"openai/{model}") in (500, 502, 503, 504)
    await world.wait_for_events(1)
    reason = f"every connection's circuit breaker is open (last error: {EMPTY_200})"
    assert world.events == [
        Event(
            "provider_down",
            f"OpenAI is down: {reason}",
            {"provider": "openai", "name": "OpenAI", "reason": reason},
        )
    ]
    assert await world.ask("openai/gpt-x") == 503  # skipped while open: nothing changes
    world.clock.advance(30.0)  # the breaker's open phase ends; the next request is the probe
    assert await world.ask("openai/gpt-x") == 200
    await world.wait_for_events(2)
    assert world.events[1:] == [
        Event(
            "provider_recovered",
            "OpenAI is available again",
            {"provider": "openai", "name": "OpenAI", "reason": ""},
        )
    ]


async def test_a_refused_key_needs_a_login_once(world: World) -> None:
    assert await world.ask("deepseek/gpt-x") == 401
    assert await world.ask("deepseek/gpt-x") != 200  # marked: skipped, still one transition
    await world.wait_for_events(2)
    stale = next(u for u in world.service.snapshot.upstreams if u.connection == "stale")
    assert world.events == [
        Event(
            "login_needed",
            f"stale (DeepSeek) {NEEDS_LOGIN}",
            {
                "connection": "stale",
                "connection_id": stale.connection_id,
                "provider": "deepseek",
                "name": "DeepSeek",
                "reason": NEEDS_LOGIN,
            },
        ),
        Event(
            "provider_down",
            "DeepSeek is down: every connection needs a login",
            {
                "provider": "deepseek",
                "name": "DeepSeek",
                "reason": "every connection needs a login",
            },
        ),
    ]


async def test_stopping_the_service_ends_the_watcher(data_dir: Path) -> None:
    service = GatewayService(data_dir, port=0, health_interval=INTERVAL)
    await service.start()
    names = {task.get_name() for task in asyncio.all_tasks()}
    assert "health-events" in names
    await service.stop()
    assert "health-events" not in {task.get_name() for task in asyncio.all_tasks()}
