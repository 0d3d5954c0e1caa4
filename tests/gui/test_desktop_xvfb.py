"""End to end on a real X server (Xvfb, no tray host): ``switchboard`` finds the display
itself, opens its window on xcb (there is no tray, so it says so and keeps the window),
serves requests, and quits cleanly on SIGTERM."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from gateway.cli.display import display_available
from tests.support.processes import ServeProcess, child_env
from tests.support.xdisplay import xvfb


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    with xvfb(tmp_path / "x") as display:
        yield display


async def test_the_desktop_app_on_a_real_x_server(
    x_display: str, data_dir: Path, isolated_home: Path, tmp_path: Path
) -> None:
    env = child_env(isolated_home, extra={"DISPLAY": x_display})
    env.pop("QT_QPA_PLATFORM", None)  # Qt must find the X server on its own
    env.pop("WAYLAND_DISPLAY", None)
    assert display_available(env)
    args = ["--port", "0", "--data-dir", str(data_dir)]
    with ServeProcess(args, env=env, log_dir=tmp_path / "out") as proc:
        endpoint = await proc.wait_for_endpoint()
        async with aiohttp.ClientSession() as http, http.get(f"{endpoint}/health") as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait_exit(20.0) == 0, proc.describe()
        assert proc.stdout().splitlines()[0] == f"Switchboard gateway listening on {endpoint}"
    log = (data_dir / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "window shown; system tray not available (Qt platform xcb)" in log
    assert "quitting: stopping the gateway" in log
