"""Quota windows and budgets end to end: a real gateway, fake upstreams, real logs.db, and a
wall clock (quota windows) and a router clock the test moves by hand."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.routing.router import Router
from gateway.service import Event, GatewayService
from gateway.usage.windows import ROLLING_S, Window
from tests.support.chaos import FakeClock, provider_pair
from tests.support.dialect_http import Answer, send
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import import_toml, log_rows, start_service

pytestmark = pytest.mark.timeout(60)
KEY = "quota-tests"
PRICES = "".join(
    f'\n[prices."{prefix}/*"]\ninput = 3.0\noutput = 15.0\n' for prefix in ("ds", *PREFIX.values())
)


@dataclass
class World:
    data_dir: Path
    fakes: dict[str, Any]
    wall: FakeClock
    mono: FakeClock
    service: GatewayService | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def gateway(self) -> GatewayService:
        assert self.service is not None
        return self.service

    async def start(self) -> None:
        self.service = await start_service(
            self.data_dir, router=Router(clock=self.mono), usage_clock=self.wall
        )
        self.service.subscribe(self.events.append)

    async def restart(self) -> None:
        await self.gateway.stop()
        await self.start()

    async def ask(self, model: str = "ds/echo", dialect: str = "openai") -> Answer:
        async with aiohttp.ClientSession() as http:
            return await send(http, self.gateway.endpoint, dialect, model, "hello there", False)

    async def served_by(self) -> list[str | None]:
        await self.gateway.flush_logs()
        return [row["connection"] for row in log_rows(self.data_dir)]

    def quota_events(self) -> list[str]:
        return [e.kind for e in self.events if e.kind.startswith(("quota_", "budget_"))]


@pytest.fixture
async def world(data_dir: Path) -> AsyncIterator[World]:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    config = four_dialect_config(fakes, key_name=KEY, extra=provider_pair(fakes["openai"]) + PRICES)
    import_toml(data_dir, config)
    import_toml(data_dir, '[settings]\nbudget_timezone = "UTC"\n')
    # Whole seconds, so every countdown and Retry-After is an exact number.
    world = World(data_dir, fakes, FakeClock(float(int(time.time()))), FakeClock())
    try:
        yield world
    finally:
        if world.service is not None:
            await world.service.stop()
        for fake in fakes.values():
            await fake.stop()


def limits(text: str, data_dir: Path) -> None:
    import_toml(data_dir, text)


async def test_a_connection_over_its_window_is_skipped_until_it_resets(world: World) -> None:
    limits(
        '[[quotas]]\nconnection = "pair-a"\nwindow = "5h"\nlimit = 2\nunit = "requests"\n'
        '[[quotas]]\nconnection = "pair-b"\nwindow = "daily"\nlimit = 1\nunit = "requests"\n'
        'timezone = "UTC"\n',
        world.data_dir,
    )
    await world.start()
    first = world.wall.now
    for _ in range(2):
        assert (await world.ask()).status == 200
    world.wall.advance(3600 + 12 * 60)
    assert (await world.ask()).status == 200  # pair-a is at 100 %: pair-b serves
    assert await world.served_by() == ["pair-a", "pair-a", "pair-b"]
    answer = await world.ask()  # both used up
    assert answer.status == 503
    resets_in = first + ROLLING_S - world.wall.now  # 3 h 48 min, earlier than pair-b's day
    daily_end = Window("daily").current(world.wall.now)[1]
    assert resets_in < daily_end - world.wall.now
    assert answer.headers["Retry-After"] == str(math.ceil(resets_in))
    message = answer.json()["error"]["message"]
    assert (
        "ds/echo via 'pair-a': skipped (quota: 5-hour window at 100 % (resets in 3 h 48 min))"
        in (message)
    )
    assert "via 'pair-b': skipped (quota: daily window at 100 %" in message
    states = {(s.name, s.window): (s.used, s.percent, s.resets_at) for s in world.gateway.quota()}
    assert states == {
        ("pair-a", "5h"): (2.0, 100.0, first + ROLLING_S),
        ("pair-b", "daily"): (1.0, 100.0, daily_end),
    }
    world.wall.now = first + ROLLING_S  # the 5-hour window resets: pair-a serves again
    assert (await world.ask()).status == 200
    assert (await world.served_by())[-1] == "pair-a"


@pytest.mark.parametrize("dialect", ["openai", "anthropic", "gemini", "responses"])
async def test_a_key_over_its_budget_gets_429_in_its_dialect(world: World, dialect: str) -> None:
    limits(
        f'[[budgets]]\nscope = "key"\nname = "{KEY}"\nperiod = "month"\nlimit_usd = 0.00001\n',
        world.data_dir,
    )
    await world.start()
    model = f"{PREFIX[dialect]}/echo"
    assert (await world.ask(model, dialect)).status == 200  # costs more than the budget
    answer = await world.ask(model, dialect)
    assert answer.status == 429
    resets = Window("monthly", timezone="UTC").current(world.wall.now)[1]
    assert answer.headers["Retry-After"] == str(math.ceil(resets - world.wall.now))
    body = answer.json()
    error = body["error"]
    assert f"API key '{KEY}' has spent its monthly budget of $0.00" in error["message"]
    assert "it resets in " in error["message"]
    if dialect == "anthropic":
        assert (body["type"], error["type"]) == ("error", "rate_limit_error")
    elif dialect == "gemini":
        assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    else:
        assert error["code"] == "budget_exceeded"
    assert len(world.fakes[dialect].state.requests) == 1  # the refused one never left
    assert world.quota_events() == ["budget_crossed"]


async def test_a_connection_over_budget_hands_over_to_the_next(world: World) -> None:
    limits(
        '[[budgets]]\nscope = "connection"\nname = "pair-a"\nperiod = "day"\nlimit_usd = 0.00001\n',
        world.data_dir,
    )
    await world.start()
    for _ in range(3):
        assert (await world.ask()).status == 200
    assert await world.served_by() == ["pair-a", "pair-b", "pair-b"]
    (state,) = world.gateway.budgets()
    assert (state.scope, state.name, state.window, state.limit) == (
        "connection",
        "pair-a",
        "day",
        1e-5,
    )
    assert state.used > 1e-5 and state.percent > 100


async def test_events_fire_once_per_window_even_across_restarts(world: World) -> None:
    limits(
        '[[quotas]]\nconnection = "pair-a"\nwindow = "daily"\nlimit = 5\nunit = "requests"\n'
        'timezone = "UTC"\n',
        world.data_dir,
    )
    await world.start()
    for _ in range(5):
        assert (await world.ask()).status == 200
    # a burst: it would run out in minutes (2nd request), 80 % (4th), 100 % (5th)
    assert world.quota_events() == ["quota_forecast", "quota_warning", "quota_exhausted"]
    warning = next(e for e in world.events if e.kind == "quota_warning")
    end = Window("daily").current(world.wall.now)[1]
    assert warning.data == {
        "scope": "connection",
        "name": "pair-a",
        "connection": "pair-a",
        "window": "daily",
        "limit": 5.0,
        "unit": "requests",
        "percent": 80.0,
        "used": 4.0,
        "resets_at": end,
    }
    await world.restart()  # the counts come back from logs.db; the events do not repeat
    world.events.clear()
    assert (await world.ask()).status == 200
    assert (await world.served_by())[-1] == "pair-b"
    assert world.quota_events() == []
    world.wall.now = end + 1
    world.gateway.runtime.usage.tick()
    world.gateway.runtime.usage.tick()
    assert world.quota_events() == ["quota_reset"]
    await world.restart()
    world.events.clear()
    world.gateway.runtime.usage.tick()
    assert (await world.ask()).status == 200
    assert world.quota_events() == []
    assert (await world.served_by())[-1] == "pair-a"
