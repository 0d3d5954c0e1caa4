"""End to end under a real tray host: Xvfb, `trayer` (XEmbed) and a private D-Bus session with
the fake notification server, all started by the test itself. The real `switchboard` desktop
app runs as a child: its tray icon is embedded in trayer's panel, the endpoint answers, a real
quota event (a tiny window on a connection to a fake upstream, driven to 80 %) is exactly one
D-Bus Notify call, a screenshot of the screen is saved, and SIGTERM quits it cleanly.

The screenshot goes to ``$SWITCHBOARD_SHOTS`` when set, else to the test's temporary folder;
the test prints where."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.dbus_session import fake_notification_server, private_session_bus
from tests.support.gateway import CLIENT_KEY, basic_config
from tests.support.processes import ServeProcess, child_env, run_cli_async, wait_until
from tests.support.xdisplay import (
    embedded_in_tray,
    qt_sees_a_tray,
    screenshot,
    tray_host,
    windows,
    xvfb,
)

pytestmark = pytest.mark.timeout(120)
QUOTA = '[[quotas]]\nconnection = "primary"\nwindow = "5h"\nlimit = 5\nunit = "requests"\n'
QUIT_LIMIT_S = 10.0


def notify_calls(record: Path) -> list[dict[str, object]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]


async def chat(http: aiohttp.ClientSession, endpoint: str) -> int:
    async with http.post(
        f"{endpoint}/v1/chat/completions",
        headers={"Authorization": f"Bearer {CLIENT_KEY}"},
        json={"model": "openai/gpt-6.2-sol", "messages": [{"role": "user", "content": "hi"}]},
    ) as response:
        return response.status


async def test_the_desktop_app_under_a_real_tray_host(
    data_dir: Path, isolated_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shots = Path(os.environ.get("SWITCHBOARD_SHOTS") or tmp_path / "shots")
    record = tmp_path / "notify.jsonl"
    async with FakeOpenAI() as fake:
        with (
            xvfb(out) as display,
            tray_host(display, out),
            private_session_bus() as bus,
            fake_notification_server(bus, record),
        ):
            assert qt_sees_a_tray(display), "QSystemTrayIcon.isSystemTrayAvailable() is False"
            env = child_env(
                isolated_home, extra={"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": bus}
            )
            env.pop("QT_QPA_PLATFORM", None)  # Qt finds the X server on its own
            env.pop("WAYLAND_DISPLAY", None)
            config = tmp_path / "config.toml"
            config.write_text(basic_config(fake.base_url) + QUOTA, encoding="utf-8")
            imported = await run_cli_async(
                ["--data-dir", str(data_dir), "config", "import", str(config)],
                env=env,
                log_dir=out,
            )
            assert imported.returncode == 0, imported.describe()

            args = ["--port", "0", "--data-dir", str(data_dir)]
            with ServeProcess(args, env=env, log_dir=out) as proc:
                endpoint = await proc.wait_for_endpoint()
                await wait_until(
                    lambda: len(embedded_in_tray(display, "Switchboard")) == 1,
                    "trayer to embed the tray icon",
                )
                log = (data_dir / "logs" / "desktop.log").read_text(encoding="utf-8")
                assert "window shown; system tray available (Qt platform xcb)" in log
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"{endpoint}/health") as response:
                        assert response.status == 200
                    for _ in range(4):  # 4 of 5: 80 %
                        assert await chat(http, endpoint) == 200
                    await wait_until(lambda: notify_calls(record) != [], "the Notify call")
                    assert len(notify_calls(record)) == 1
                    assert await chat(http, endpoint) == 200  # 100 %: the next kind, once
                    await wait_until(lambda: len(notify_calls(record)) == 2, "quota used up")
                    assert await chat(http, endpoint) == 503  # over quota: no new event
                calls = notify_calls(record)
                assert [(c["app_name"], c["summary"]) for c in calls] == [
                    ("Switchboard", "Quota almost used up"),
                    ("Switchboard", "Quota used up"),
                ]
                body = str(calls[0]["body"])
                assert body.startswith("primary: 5-hour window at 80 % — resets in "), body
                # The shot is for people: give the window's 250 ms repaint cycle time to show
                # the running state and today's figures (asserted elsewhere, not here).
                await asyncio.sleep(2)
                shot = screenshot(display, shots / "desktop-tray-xvfb.png")
                print(f"screenshot of the whole screen: {shot}")
                assert shot.stat().st_size > 0
                started = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                assert await proc.wait_exit(QUIT_LIMIT_S) == 0, proc.describe()
                assert time.monotonic() - started < QUIT_LIMIT_S
            assert embedded_in_tray(display, "Switchboard") == []  # the icon went with it
            assert len(notify_calls(record)) == 2
            assert all(name != "Switchboard" for _, _, name, _ in windows(display))
    log = (data_dir / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "quitting: stopping the gateway" in log
