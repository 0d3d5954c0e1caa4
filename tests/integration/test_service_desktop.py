"""What GatewayService offers the desktop: attention lines, today's figures while running and
stopped, a key created and remembered, another port for the next start."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp

from gateway.observe.today import TodaySummary
from gateway.service import Event, GatewayService
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, basic_config, import_toml, start_service


async def test_attention_names_connections_that_need_a_login(data_dir: Path) -> None:
    import_toml(data_dir, basic_config("http://127.0.0.1:9/v1"))
    service = await start_service(data_dir)
    try:
        assert service.attention() == ()
        primary = next(u for u in service.snapshot.upstreams if u.connection == "primary")
        service.runtime.router.logins.mark(primary.connection_id)
        assert service.attention() == ("primary: needs a new login",)
    finally:
        await service.stop()
    assert service.attention() == ()  # stopped: nothing to report


async def test_today_summary_running_and_stopped(data_dir: Path) -> None:
    service = GatewayService(data_dir, port=0)
    assert await service.today_summary() == TodaySummary()  # before any start: no logs.db
    async with FakeOpenAI() as fake:
        import_toml(data_dir, basic_config(fake.base_url))
        await service.start()
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(2):
                    async with http.post(
                        f"{service.endpoint}/v1/chat/completions",
                        headers={"Authorization": f"Bearer {CLIENT_KEY}"},
                        json={
                            "model": "openai/gpt-6.2-sol",
                            "messages": [{"role": "user", "content": "a b"}],
                        },
                    ) as response:
                        assert response.status == 200
            await service.flush_logs()
            running = await service.today_summary()
        finally:
            await service.stop()
    # 2 words in, 3 out ("Echo: a b") per request, at $2 / $10 per million.
    assert running == TodaySummary(2, 4, 6, round((4 * 2.0 + 6 * 10.0) / 1e6, 6), 0)
    assert await service.today_summary() == running  # read from logs.db while stopped


async def test_create_client_key_is_remembered_and_announced(data_dir: Path) -> None:
    service = await start_service(data_dir)
    events: list[Event] = []
    service.subscribe(events.append)
    try:
        first = service.created_key
        key = await service.create_client_key("laptop")
        assert key.startswith("sk-sb-") and key != first
        assert service.created_key == key
        assert Event("key_created", "laptop") in events
        assert sorted(service.snapshot.key_names_by_hash.values()) == ["default", "laptop"]
    finally:
        await service.stop()


async def test_use_port_applies_from_the_next_start(data_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = await start_service(data_dir)
    try:
        service.use_port(port)
        assert service.port != port  # the running gateway keeps its port
    finally:
        await service.stop()
    await service.start()
    try:
        assert service.port == port
    finally:
        await service.stop()
