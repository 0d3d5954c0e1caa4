"""GatewayService.write_settings: the desktop's one way to store settings, running or not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.config.commands import ConfigError
from gateway.service import GatewayService


def test_write_settings_while_stopped(data_dir: Path) -> None:
    service = GatewayService(data_dir)
    service.write_settings({"theme": "dark", "port": 20200, "close_to_tray": "false"})
    stored = service.read_settings()
    assert (stored.theme, stored.port, stored.close_to_tray) == ("dark", 20200, False)
    assert not service.running


def test_write_settings_validates_and_writes_nothing_on_error(data_dir: Path) -> None:
    service = GatewayService(data_dir)
    with pytest.raises(ConfigError) as raised:
        service.write_settings(
            {"theme": "dark", "port": 70000, "host": "0.0.0.0", "require_api_key": False}
        )
    assert str(raised.value).splitlines() == [
        "settings.port: must be at most 65535, got 70000",
        "settings: binding to 0.0.0.0 (reachable from the network) requires client API keys: "
        "set require_api_key = true, or bind to 127.0.0.1",
    ]
    assert service.read_settings().theme == "system"


@pytest.mark.timeout(30)
def test_write_settings_while_running_reloads_through_call(data_dir: Path) -> None:
    async def scenario() -> None:
        service = GatewayService(data_dir, port=0)
        await service.start()
        try:
            await service.call(service.write_settings, {"log_retention_days": 7})
            assert service.snapshot.settings.log_retention_days == 7
        finally:
            await service.stop()
        assert GatewayService(data_dir).read_settings().log_retention_days == 7

    asyncio.run(scenario())
