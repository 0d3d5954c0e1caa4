"""A chaos world: the four fake upstreams, a dead connection per dialect (nothing listens on
its port), two accounts of one provider (DeepSeek, prefix ``ds``, both on the OpenAI fake)
and a real gateway whose router runs on a clock the test moves by hand."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config.snapshot import Upstream
from gateway.routing.router import Router
from gateway.service import GatewayService
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import import_toml, start_service


def closed_port() -> int:
    """A port nothing listens on (bound once, then released): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeClock:
    """A monotonic clock that stands still until ``advance``: cooldown and breaker times
    become exact numbers."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def dead_connections() -> str:
    """TOML: ``dead-<dialect>`` (alias the same) for each dialect, on a closed port."""
    text = ""
    for dialect in PREFIX:
        text += (
            f'\n[[connections]]\nname = "dead-{dialect}"\nprovider = "custom"\n'
            f'dialect = "{dialect}"\nalias = "dead-{dialect}"\napi_key = "k"\n'
            f'base_url = "http://127.0.0.1:{closed_port()}"\n'
        )
    return text


def provider_pair(fake: Any) -> str:
    """TOML: connections ``pair-a`` and ``pair-b`` of provider deepseek, both on ``fake``."""
    return "".join(
        f'\n[[connections]]\nname = "pair-{name}"\nprovider = "deepseek"\n'
        f'api_key = "{fake.state.api_key}"\nbase_url = "{fake.base_url}"\npriority = {priority}\n'
        for priority, name in ((1, "a"), (2, "b"))
    )


@dataclass
class ChaosWorld:
    service: GatewayService
    fakes: dict[str, Any]  # upstream dialect -> fake
    data_dir: Path
    clock: FakeClock

    @property
    def router(self) -> Router:
        return self.service.runtime.router

    def upstream(self, connection: str) -> Upstream:
        return next(u for u in self.service.snapshot.upstreams if u.connection == connection)

    def seen(self, dialect: str) -> list[str]:
        """The model each request to that dialect's fake named, in order."""
        return [model_of(dialect, r) for r in self.fakes[dialect].state.requests]


def model_of(dialect: str, recorded: Any) -> str:
    if dialect == "gemini":  # the model is in the path: /v1beta/models/<model>:<method>
        return str(recorded.path.rsplit("/", 1)[-1].split(":", 1)[0])
    return str(recorded.body["model"])


@contextlib.asynccontextmanager
async def chaos_world(
    data_dir: Path, *, extra: str = "", read_timeout_s: float = 0.5
) -> AsyncIterator[ChaosWorld]:
    """``extra``: more TOML (combos, connections) after the fakes and the dead connections."""
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    service: GatewayService | None = None
    try:
        import_toml(data_dir, f"[settings]\nupstream_read_timeout_s = {read_timeout_s}\n")
        config = four_dialect_config(
            fakes,
            key_name="chaos",
            extra=dead_connections() + provider_pair(fakes["openai"]) + extra,
        )
        import_toml(data_dir, config)
        clock = FakeClock()
        service = await start_service(data_dir, router=Router(clock=clock))
        yield ChaosWorld(service, fakes, data_dir, clock)
    finally:
        if service is not None:
            await service.stop()
        for fake in fakes.values():
            await fake.stop()
