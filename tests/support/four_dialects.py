"""Four fake upstreams, one per dialect, behind one gateway configuration (the conformance
matrix and the agent end-to-end suite share it)."""

from __future__ import annotations

from typing import Any

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.responses_upstream import FakeResponses
from tests.support.gateway import CLIENT_KEY

# The model prefix each upstream dialect is reachable under.
PREFIX = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "responses": "resp"}


def four_fakes() -> dict[str, Any]:
    return {
        "openai": FakeOpenAI(),
        "anthropic": FakeAnthropic(),
        "gemini": FakeGemini(),
        "responses": FakeResponses(),
    }


def four_dialect_config(fakes: dict[str, Any], *, key_name: str, extra: str = "") -> str:
    """TOML: a client key (tests.support.gateway.CLIENT_KEY) and one connection per fake."""

    def connection(name: str, provider: str, fake: Any, custom: str = "") -> str:
        return (
            f'\n[[connections]]\nname = "{name}"\nprovider = "{provider}"\n{custom}'
            f'api_key = "{fake.state.api_key}"\nbase_url = "{fake.base_url}"\n'
        )

    return (
        f'[settings]\nrequire_api_key = true\n\n[[api_keys]]\nname = "{key_name}"\n'
        f'key = "{CLIENT_KEY}"\n'
        + connection("up-openai", "openai", fakes["openai"])
        + connection("up-anthropic", "anthropic", fakes["anthropic"])
        + connection("up-gemini", "gemini", fakes["gemini"])
        + connection(
            "up-responses", "custom", fakes["responses"], 'dialect = "responses"\nalias = "resp"\n'
        )
        + extra
    )
