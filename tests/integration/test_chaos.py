"""Chaos: the first target of a combo misbehaves in every way an upstream can; the second
serves, in every upstream dialect, streamed or not, and nothing hangs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.routing.router import connection_key, model_key
from gateway.service import GatewayService
from tests.support.chaos import closed_port
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import CLIENT_KEY, import_toml, log_rows, start_service

FAILURES = {  # failure -> (model on the first target, counted by the breakers)
    "429": ("fake-error-429", False),
    "500": ("fake-error-500", True),
    "503": ("fake-error-503", True),
    "empty-200": ("fake-empty", True),
    "slow-first-byte": ("fake-slow-2", True),
    "refused": ("gpt-x", True),  # on the "dead" connection: nothing listens there
}
pytestmark = pytest.mark.timeout(60)


@dataclass
class Chaos:
    service: GatewayService
    fakes: dict[str, Any]
    data_dir: Path


@pytest.fixture
async def chaos(data_dir: Path) -> AsyncIterator[Chaos]:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    combos = ""
    for dialect, prefix in PREFIX.items():
        for failure, (model, _) in FAILURES.items():
            first = f"dead/{model}" if failure == "refused" else f"{prefix}/{model}"
            combos += (
                f'\n[[combos]]\nname = "chaos-{dialect}-{failure}"\n'
                f'targets = ["{first}", "openai/gpt-x"]\n'
            )
    dead = (
        f'\n[[connections]]\nname = "dead"\nprovider = "custom"\ndialect = "openai"\n'
        f'alias = "dead"\napi_key = "k"\nbase_url = "http://127.0.0.1:{closed_port()}/v1"\n'
    )
    settings = "[settings]\nupstream_read_timeout_s = 0.5\n"
    import_toml(data_dir, settings)
    import_toml(data_dir, four_dialect_config(fakes, key_name="chaos", extra=dead + combos))
    service = await start_service(data_dir)
    try:
        yield Chaos(service, fakes, data_dir)
    finally:
        await service.stop()
        for fake in fakes.values():
            await fake.stop()


async def ask(chaos: Chaos, model: str, stream: bool) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{chaos.service.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY},
            json={
                "model": model,
                "stream": stream,
                "messages": [{"role": "user", "content": "survive this"}],
            },
        ) as response,
    ):
        raw = await response.read()
    if response.status != 200:
        return response.status, raw.decode()
    if not stream:
        return 200, orjson.loads(raw)["choices"][0]["message"]["content"]
    text = ""
    for line in raw.split(b"\n"):
        if line.startswith(b"data: {"):
            choices = orjson.loads(line[6:]).get("choices") or [{}]
            text += (choices[0].get("delta") or {}).get("content") or ""
    return 200, text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("dialect", list(PREFIX))
async def test_the_second_target_serves(
    chaos: Chaos, dialect: str, failure: str, stream: bool
) -> None:
    status, text = await ask(chaos, f"chaos-{dialect}-{failure}", stream)
    assert (status, text) == (200, "Echo: survive this")
    await chaos.service.flush_logs()
    row = log_rows(chaos.data_dir)[-1]
    assert (row["connection"], row["upstream_model"], row["status"]) == ("up-openai", "gpt-x", 200)
    # The failed target is remembered: cooled down (that model on that account) and, for
    # failures that say the upstream is unwell, counted by its connection's breaker.
    model, counted = FAILURES[failure]
    snapshot = chaos.service.snapshot
    connection = "dead" if failure == "refused" else f"up-{dialect}"
    upstream = next(u for u in snapshot.upstreams if u.connection == connection)
    router = chaos.service.runtime.router
    assert router.cooldowns.until(model_key(upstream.connection_id, model)) is not None
    breaker = router.breakers.get(connection_key(upstream.connection_id))
    # (On the serving connection itself, the success that followed reset the count.)
    expected = 1 if counted and connection != "up-openai" else 0
    assert breaker is not None and breaker.failures == expected
