"""GatewayService lifecycle: start, stop, refusals, events."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.config import commands
from gateway.service import Event, GatewayService, PortInUseError, ServiceError
from tests.support.gateway import import_toml, with_context


async def test_port_in_use_creates_no_key(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        service = GatewayService(data_dir, port=port)
        with pytest.raises(PortInUseError, match=rf"Port {port} on 127.0.0.1 is already in use"):
            await service.start()
    assert not service.running
    assert with_context(data_dir, lambda ctx: ctx.store.state().api_keys) == ()


async def test_first_start_creates_one_key_and_later_starts_none(data_dir: Path) -> None:
    service = GatewayService(data_dir, port=0)
    await service.start()
    await service.stop()
    first = service.created_key
    assert first is not None and first.startswith("sk-sb-")
    again = GatewayService(data_dir, port=0)
    await again.start()
    await again.stop()
    assert again.created_key is None
    keys = with_context(data_dir, lambda ctx: ctx.store.state().api_keys)
    assert [k.name for k in keys] == ["default"]


async def test_network_exposure_without_keys_is_refused(data_dir: Path) -> None:
    import_toml(data_dir, "[settings]\nrequire_api_key = false\n")
    service = GatewayService(data_dir, host="0.0.0.0", port=0)
    with pytest.raises(ServiceError, match="requires client API keys"):
        await service.start()
    assert not service.running


async def test_events_and_idempotent_stop(data_dir: Path) -> None:
    events: list[Event] = []
    service = GatewayService(data_dir, port=0)
    service.subscribe(events.append)
    await service.start()
    await service.call(commands.create_key, service.context, "second")
    await service.stop()
    await service.stop()
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and events[0].detail == service.endpoint
    assert kinds[-1] == "stopped" and kinds.count("stopped") == 1
    assert "reloaded" in kinds
