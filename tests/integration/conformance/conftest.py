"""The conformance matrix's world: four fake upstreams, one per dialect, behind one gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.service import GatewayService
from tests.support.clients import Conversation, Spec, conversation
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import import_toml, start_service

DIALECTS = ("openai", "anthropic", "gemini", "responses")
# The model prefix each upstream dialect is reachable under.
CELLS = [
    pytest.param(client, upstream, id=f"{client}-to-{upstream}")
    for client in DIALECTS
    for upstream in DIALECTS
]


@dataclass
class World:
    gateway: GatewayService
    fakes: dict[str, Any]
    conversations: list[Conversation] = field(default_factory=list)

    def model(self, upstream: str, name: str) -> str:
        return f"{PREFIX[upstream]}/{name}"

    def talk(self, client: str, upstream: str, name: str, **spec: Any) -> Conversation:
        talk = conversation(
            client, self.gateway.endpoint, Spec(model=self.model(upstream, name), **spec)
        )
        self.conversations.append(talk)
        return talk

    def last_body(self, upstream: str) -> Any:
        return self.fakes[upstream].state.requests[-1].body


@pytest.fixture
async def world(data_dir: Path) -> AsyncIterator[World]:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    import_toml(data_dir, four_dialect_config(fakes, key_name="matrix"))
    service = await start_service(data_dir)
    world = World(service, fakes)
    try:
        yield world
    finally:
        for talk in world.conversations:
            await talk.aclose()
        await service.stop()
        for fake in fakes.values():
            await fake.stop()
