"""The conformance matrix's world: four fake upstreams, one per dialect, behind one gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.service import GatewayService
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.responses_upstream import FakeResponses
from tests.support.clients import Conversation, Spec, conversation
from tests.support.gateway import CLIENT_KEY, import_toml, start_service

DIALECTS = ("openai", "anthropic", "gemini", "responses")
# The model prefix each upstream dialect is reachable under.
PREFIX = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "responses": "resp"}
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
    fakes = {
        "openai": FakeOpenAI(),
        "anthropic": FakeAnthropic(),
        "gemini": FakeGemini(),
        "responses": FakeResponses(),
    }
    for fake in fakes.values():
        await fake.start()
    import_toml(
        data_dir,
        f"""
[settings]
require_api_key = true

[[api_keys]]
name = "matrix"
key = "{CLIENT_KEY}"

[[connections]]
name = "up-openai"
provider = "openai"
api_key = "{fakes["openai"].state.api_key}"
base_url = "{fakes["openai"].base_url}"

[[connections]]
name = "up-anthropic"
provider = "anthropic"
api_key = "{fakes["anthropic"].state.api_key}"
base_url = "{fakes["anthropic"].base_url}"

[[connections]]
name = "up-gemini"
provider = "gemini"
api_key = "{fakes["gemini"].state.api_key}"
base_url = "{fakes["gemini"].base_url}"

[[connections]]
name = "up-responses"
provider = "custom"
dialect = "responses"
alias = "resp"
api_key = "{fakes["responses"].state.api_key}"
base_url = "{fakes["responses"].base_url}"
""",
    )
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
