"""Model names through the real gateway: user aliases, wildcard combos, family heuristics,
and the context-window rule, against fake upstreams on real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.service import GatewayService
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, import_toml, start_service

pytestmark = pytest.mark.timeout(60)

MESSAGES = [{"role": "user", "content": "name me"}]
# Groq's real answer to a prompt longer than the model's window (an OpenAI-style 400).
CONTEXT_ERROR = {
    "error": {
        "message": "Please reduce the length of the messages or completion.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}


class SmallWindows(FakeOpenAI):
    """The OpenAI fake, except that the models in ``too_small`` answer the context error."""

    def __init__(self, too_small: frozenset[str]) -> None:
        super().__init__()
        self.too_small = too_small
        self.refused: list[str] = []

    def make_app(self) -> web.Application:
        app = super().make_app()

        @web.middleware
        async def too_long(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.method == "POST":
                model = (await request.json()).get("model")
                if model in self.too_small:
                    self.refused.append(model)
                    return web.json_response(CONTEXT_ERROR, status=400)
            response: web.StreamResponse = await handler(request)
            return response

        app.middlewares.append(too_long)
        return app


async def ask(
    service: GatewayService, model: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{service.endpoint}/v1/chat/completions",
            headers={"x-api-key": CLIENT_KEY, **(headers or {})},
            json={"model": model, "messages": MESSAGES},
        ) as response,
    ):
        return response.status, await response.json()


def connection(name: str, provider: str, fake: Any, extra: str = "") -> str:
    return (
        f'\n[[connections]]\nname = "{name}"\nprovider = "{provider}"\n{extra}'
        f'api_key = "{fake.state.api_key}"\nbase_url = "{fake.base_url}"\n'
    )


async def gateway_with(data_dir: Path, head: str, tables: str) -> GatewayService:
    import_toml(data_dir, f'{head}\n[[api_keys]]\nname = "t"\nkey = "{CLIENT_KEY}"\n{tables}')
    return await start_service(data_dir)


@pytest.fixture
async def lab() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


LAB = 'dialect = "openai"\nalias = "lab"\nmodels = ["fake-error-500", "fake-empty", "gpt-x"]\n'


async def test_an_alias_reaches_its_target_and_is_listed(data_dir: Path, lab: FakeOpenAI) -> None:
    service = await gateway_with(
        data_dir,
        'model_aliases = { fast = "lab/gpt-x", team = "all-lab" }',
        connection("lab", "custom", lab, LAB)
        + '\n[[combos]]\nname = "all-lab"\ntargets = ["lab/*"]\n',
    )
    try:
        status, body = await ask(service, "fast")
        assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: name me"
        status, _ = await ask(service, "openai/ignored", {"X-Switchboard-Model": "fast@lab"})
        assert status == 200
        assert [r.body["model"] for r in lab.state.requests] == ["gpt-x", "gpt-x"]
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{service.endpoint}/v1/models", headers={"x-api-key": CLIENT_KEY}) as got,
        ):
            listed = [(m["id"], m["owned_by"]) for m in (await got.json())["data"]]
        assert listed[-3:] == [("all-lab", "combo"), ("fast", "alias"), ("team", "alias")]
    finally:
        await service.stop()


async def test_a_wildcard_combo_falls_back_across_its_models(
    data_dir: Path, lab: FakeOpenAI
) -> None:
    service = await gateway_with(
        data_dir,
        'model_aliases = { team = "all-lab" }',
        connection("lab", "custom", lab, LAB)
        + '\n[[combos]]\nname = "all-lab"\ntargets = ["lab/*"]\n',
    )
    try:
        status, body = await ask(service, "team")  # an alias of the wildcard combo
        assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: name me"
        assert [r.body["model"] for r in lab.state.requests] == [
            "fake-error-500",
            "fake-empty",
            "gpt-x",
        ]
    finally:
        await service.stop()


async def test_a_claude_name_no_provider_lists_goes_to_anthropic(data_dir: Path) -> None:
    async with FakeAnthropic() as claude:
        service = await gateway_with(data_dir, "", connection("claude", "anthropic", claude))
        try:
            status, body = await ask(service, "claude-not-in-the-catalog")
            assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: name me"
            assert [r.body["model"] for r in claude.state.requests] == ["claude-not-in-the-catalog"]
            status, body = await ask(service, "gpt-nowhere")
            assert status == 404 and body["error"]["code"] == "model_not_found"
            assert (
                "the openai provider (gpt-*, chatgpt-* models go there)"
                in (body["error"]["message"])
            )
        finally:
            await service.stop()


@pytest.fixture
async def windows() -> AsyncIterator[SmallWindows]:
    async with SmallWindows(frozenset({"llama-3.3-70b-versatile"})) as fake:
        yield fake


async def test_context_too_long_skips_smaller_windows_and_serves_on_a_larger_one(
    data_dir: Path, windows: SmallWindows
) -> None:
    # groq's two models have 131072 tokens, mistral's codestral-latest 256000 (the catalog).
    service = await gateway_with(
        data_dir,
        "",
        connection("groq", "groq", windows)
        + connection("mistral", "mistral", windows)
        + '\n[[combos]]\nname = "long"\ntargets = ["groq/llama-3.3-70b-versatile", '
        '"groq/openai/gpt-oss-20b", "mistral/codestral-latest"]\n'
        + '\n[[combos]]\nname = "short"\ntargets = ["groq/llama-3.3-70b-versatile", '
        '"groq/openai/gpt-oss-20b"]\n',
    )
    try:
        status, body = await ask(service, "long")
        assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: name me"
        assert windows.refused == ["llama-3.3-70b-versatile"]
        assert [r.body["model"] for r in windows.state.requests] == ["codestral-latest"]

        status, body = await ask(service, "short")
        assert status == 400 and body["error"]["code"] == "all_targets_failed"
        assert (
            "groq/openai/gpt-oss-20b via 'groq': skipped (context window 131072 ≤ 131072 "
            "tokens that already failed)"
        ) in body["error"]["message"]
        assert windows.refused == ["llama-3.3-70b-versatile"] * 2  # gpt-oss-20b never asked
        assert len(windows.state.requests) == 1
    finally:
        await service.stop()
