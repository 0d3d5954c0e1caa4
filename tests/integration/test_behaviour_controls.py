"""Behaviour controls through a real gateway and the four fake upstreams: the system prompt
and thinking mode as the upstream receives them, per-key model patterns and limits, hidden
and disabled providers (docs/routing.md "Behaviour controls")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import commands
from gateway.service import GatewayService
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import CLIENT_KEY, import_toml, start_service

pytestmark = pytest.mark.timeout(60)

DIALECTS = ("openai", "anthropic", "gemini", "responses")
LIMITED_KEY = "sk-sb-limited-0123456789abcdef0123456789"
METERED_KEY = "sk-sb-metered-0123456789abcdef0123456789"
KEYS = f"""
[[api_keys]]
name = "limited"
key = "{LIMITED_KEY}"
allowed_models = ["openai/*"]

[[api_keys]]
name = "metered"
key = "{METERED_KEY}"
rpm = 2
"""


class World:
    def __init__(self, service: GatewayService, fakes: dict[str, Any]) -> None:
        self.service = service
        self.fakes = fakes

    async def settings(self, **values: object) -> None:
        await self.service.call(commands.set_settings, self.service.context, values)

    def upstream_body(self, dialect: str) -> Any:
        return self.fakes[dialect].state.requests[-1].body

    async def send(
        self,
        dialect: str,
        model: str,
        *,
        system: str | None = None,
        extra: dict[str, Any] | None = None,
        key: str = CLIENT_KEY,
        headers: dict[str, str] | None = None,
        text: str = "hello",
    ) -> tuple[int, dict[str, str], Any]:
        path, body = request_for(dialect, model, system, text)
        body.update(extra or {})
        sent_headers = {"x-api-key": key, "anthropic-version": "2023-06-01", **(headers or {})}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.service.endpoint + path, json=body, headers=sent_headers) as response,
        ):
            return response.status, dict(response.headers), await response.json()

    async def get(self, path: str) -> Any:
        async with (
            aiohttp.ClientSession() as http,
            http.get(self.service.endpoint + path, headers={"x-api-key": CLIENT_KEY}) as response,
        ):
            assert response.status == 200
            return await response.json()


def request_for(
    dialect: str, model: str, system: str | None, text: str
) -> tuple[str, dict[str, Any]]:
    if dialect == "openai":
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": text})
        return "/v1/chat/completions", {"model": model, "messages": messages}
    if dialect == "anthropic":
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": 256,
            "messages": [{"role": "user", "content": text}],
        }
        if system:
            body["system"] = system
        return "/v1/messages", body
    if dialect == "gemini":
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        return f"/v1beta/models/{model}:generateContent", body
    body = {"model": model, "input": text}
    if system:
        body["instructions"] = system
    return "/v1/responses", body


def system_text(dialect: str, body: dict[str, Any]) -> str:
    """The system prompt an upstream received, as one string."""
    if dialect == "openai":
        first = body["messages"][0]
        assert first["role"] == "system"
        return str(first["content"])
    if dialect == "anthropic":
        system = body["system"]
        return system if isinstance(system, str) else "\n\n".join(b["text"] for b in system)
    if dialect == "gemini":
        return "\n\n".join(part["text"] for part in body["systemInstruction"]["parts"])
    return str(body["instructions"])


WorldFactory = Callable[[str], Awaitable[World]]


@pytest.fixture
async def make_world(data_dir: Path) -> AsyncIterator[WorldFactory]:
    started: list[tuple[GatewayService, dict[str, Any]]] = []

    async def make(extra: str) -> World:
        fakes = four_fakes()
        for fake in fakes.values():
            await fake.start()
        import_toml(data_dir, four_dialect_config(fakes, key_name="tests", extra=extra))
        service = await start_service(data_dir)
        started.append((service, fakes))
        return World(service, fakes)

    yield make
    for service, fakes in started:
        await service.stop()
        for fake in fakes.values():
            await fake.stop()


COMBOS = "".join(
    f'\n[[combos]]\nname = "team-{dialect}"\nsystem_prompt = "Combo rule."\n'
    f'targets = ["{PREFIX[dialect]}/echo-1"]\n'
    for dialect in DIALECTS
)
# Each client dialect once through its own dialect and once translated.
PATHS = [(client, client) for client in DIALECTS] + [
    ("openai", "anthropic"),
    ("anthropic", "gemini"),
    ("gemini", "responses"),
    ("responses", "openai"),
]


@pytest.mark.parametrize(("client", "upstream"), PATHS, ids=[f"{c}-to-{u}" for c, u in PATHS])
async def test_global_and_combo_prompts_arrive_before_the_clients(
    make_world: WorldFactory, client: str, upstream: str
) -> None:
    world = await make_world(COMBOS)
    await world.settings(system_prompt="Global rule.")
    status, _, _ = await world.send(client, f"team-{upstream}", system="Mine.")
    assert status == 200
    body = world.upstream_body(upstream)
    assert system_text(upstream, body) == "Global rule.\n\nCombo rule.\n\nMine."
    # Without a combo and without a system prompt of the client's: the global text alone.
    status, _, _ = await world.send(client, f"{PREFIX[upstream]}/echo-1")
    assert status == 200
    assert system_text(upstream, world.upstream_body(upstream)) == "Global rule."


async def test_anthropic_cache_control_blocks_pass_through_intact(
    make_world: WorldFactory,
) -> None:
    world = await make_world("")
    await world.settings(system_prompt="Global rule.")
    blocks = [
        {"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Env: linux."},
    ]
    status, _, _ = await world.send("anthropic", "anthropic/echo-1", extra={"system": blocks})
    assert status == 200
    assert world.upstream_body("anthropic")["system"] == [
        {"type": "text", "text": "Global rule."},
        *blocks,
    ]


async def test_thinking_modes_reach_the_upstream(make_world: WorldFactory) -> None:
    world = await make_world("")
    await world.settings(thinking_mode="fixed", thinking_budget=3000)
    enabled = {"thinking": {"type": "enabled", "budget_tokens": 10000}, "max_tokens": 2000}

    # Same dialect, each client.
    assert (await world.send("anthropic", "anthropic/echo-1", extra=enabled))[0] == 200
    sent = world.upstream_body("anthropic")
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 3000}
    assert sent["max_tokens"] == 3000 + 4096  # 2000 was not above the budget
    level = {
        "generationConfig": {"thinkingConfig": {"thinkingLevel": "high", "includeThoughts": True}}
    }
    assert (await world.send("gemini", "gemini/echo-1", extra=level))[0] == 200
    assert world.upstream_body("gemini")["generationConfig"] == {
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 3000}
    }
    effort = {"reasoning_effort": "high"}
    assert (await world.send("openai", "openai/echo-1", extra=effort))[0] == 200
    assert world.upstream_body("openai")["reasoning_effort"] == "medium"
    reasoning = {"reasoning": {"effort": "high", "summary": "auto"}}
    assert (await world.send("responses", "resp/echo-1", extra=reasoning))[0] == 200
    assert world.upstream_body("responses")["reasoning"] == {"effort": "medium", "summary": "auto"}

    # Translated: the budget set on the client's body is what the translation carries.
    assert (await world.send("anthropic", "gemini/echo-1", extra=enabled))[0] == 200
    thinking_config = world.upstream_body("gemini")["generationConfig"]["thinkingConfig"]
    assert thinking_config["thinkingBudget"] == 3000

    # A request that asked for no reasoning gets none.
    assert (await world.send("openai", "openai/echo-1"))[0] == 200
    assert "reasoning_effort" not in world.upstream_body("openai")

    await world.settings(thinking_mode="off")
    assert (await world.send("anthropic", "anthropic/echo-1", extra=enabled))[0] == 200
    assert "thinking" not in world.upstream_body("anthropic")
    assert (await world.send("gemini", "gemini/echo-1", extra=level))[0] == 200
    assert world.upstream_body("gemini")["generationConfig"] == {
        "thinkingConfig": {"thinkingBudget": 0}
    }

    await world.settings(thinking_mode="adaptive", thinking_budget=8192)
    long_prompt = "x" * (4 * 16896)  # 16,896 tokens by the offline estimate: halfway
    enabled = {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 64000}
    status, _, _ = await world.send(
        "anthropic", "anthropic/echo-1", extra=enabled, text=long_prompt
    )
    assert status == 200
    assert world.upstream_body("anthropic")["thinking"]["budget_tokens"] == 4608
    assert (await world.send("anthropic", "anthropic/echo-1", extra=enabled))[0] == 200
    assert world.upstream_body("anthropic")["thinking"]["budget_tokens"] == 1024


NOT_ALLOWED = "API key 'limited' may not use model 'anthropic/echo-1'; it may use: openai/*."
DENIED = {
    "openai": {
        "error": {
            "message": NOT_ALLOWED,
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_allowed",
        }
    },
    "anthropic": {"type": "error", "error": {"type": "permission_error", "message": NOT_ALLOWED}},
    "gemini": {"error": {"code": 403, "message": NOT_ALLOWED, "status": "PERMISSION_DENIED"}},
    "responses": {
        "error": {
            "message": NOT_ALLOWED,
            "type": "request_forbidden",
            "param": None,
            "code": "model_not_allowed",
        }
    },
}


async def test_a_key_limited_to_openai_models_gets_403_in_each_dialect(
    make_world: WorldFactory,
) -> None:
    world = await make_world(KEYS)
    for dialect in DIALECTS:
        status, _, body = await world.send(dialect, "anthropic/echo-1", key=LIMITED_KEY)
        assert (status, body) == (403, DENIED[dialect])
        status, _, _ = await world.send(dialect, "openai/echo-1", key=LIMITED_KEY)
        assert status == 200
    assert world.fakes["anthropic"].state.requests == []
    # A pin is a model too.
    status, _, body = await world.send(
        "openai",
        "openai/echo-1",
        key=LIMITED_KEY,
        headers={"X-Switchboard-Model": "anthropic/echo-1"},
    )
    assert (status, body) == (403, DENIED["openai"])
    # Other keys are not restricted.
    assert (await world.send("openai", "anthropic/echo-1"))[0] == 200


async def test_rpm_2_refuses_the_third_request_with_retry_after(
    make_world: WorldFactory,
) -> None:
    world = await make_world(KEYS)
    async with aiohttp.ClientSession() as http:
        for _ in range(3):  # token counting is free
            async with http.post(
                world.service.endpoint + "/v1/messages/count_tokens",
                json={"model": "anthropic/echo-1", "messages": [{"role": "user", "content": "a"}]},
                headers={"x-api-key": METERED_KEY, "anthropic-version": "2023-06-01"},
            ) as response:
                assert response.status == 200
    assert world.fakes["anthropic"].state.requests[-1].path == "/v1/messages/count_tokens"
    assert (await world.send("openai", "openai/echo-1", key=METERED_KEY))[0] == 200
    assert (await world.send("anthropic", "anthropic/echo-1", key=METERED_KEY))[0] == 200
    status, headers, body = await world.send("gemini", "gemini/echo-1", key=METERED_KEY)
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 61
    assert body["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert body["error"]["message"] == (
        "API key 'metered' is over its limit of 2 requests per minute (rpm); "
        f"retry in {headers['Retry-After']} s."
    )
    assert world.fakes["gemini"].state.requests == []
    # The other key is not counted with it.
    assert (await world.send("gemini", "gemini/echo-1"))[0] == 200


PROVIDERS = """
[providers.openai]
hidden = true

[providers.anthropic]
enabled = false

[[combos]]
name = "team"
targets = ["openai/echo-1"]
"""


async def test_hidden_providers_are_unlisted_but_routable(make_world: WorldFactory) -> None:
    world = await make_world(PROVIDERS)
    openai_models = [m.id for m in world.service.catalog.get("openai").models]  # type: ignore[union-attr]
    assert openai_models  # it would be listed if it were not hidden
    ids = [m["id"] for m in (await world.get("/v1/models"))["data"]]
    gemini_ids = [m["baseModelId"] for m in (await world.get("/v1beta/models"))["models"]]
    for listed in (ids, gemini_ids):
        assert not [i for i in listed if i.startswith(("openai/", "anthropic/"))]
        assert [i for i in listed if i.startswith("gemini/")]
        assert listed[-1] == "team"  # combos are still listed
    # Still routable, and still fetchable one by one.
    status, _, body = await world.send("openai", "openai/echo-1")
    assert status == 200 and body["choices"][0]["message"]["content"] == "Echo: hello"
    single = await world.get(f"/v1beta/models/openai/{openai_models[0]}")
    assert single["baseModelId"] == f"openai/{openai_models[0]}"


async def test_a_disabled_providers_models_are_not_found(make_world: WorldFactory) -> None:
    world = await make_world(PROVIDERS)
    status, _, body = await world.send("openai", "anthropic/echo-1")
    assert status == 404 and body["error"]["code"] == "model_not_found"
    status, _, body = await world.send("anthropic", "anthropic/echo-1")
    assert status == 404 and body["error"]["type"] == "not_found_error"
    assert world.fakes["anthropic"].state.requests == []
