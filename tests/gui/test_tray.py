"""The tray: every menu action through its QAction (offscreen has no tray to click, the actions
are the same objects), the tooltip, the states and their icons, click behaviour."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QIcon, QImage
from PySide6.QtWidgets import QSystemTrayIcon

from app.desktop import Desktop
from app.icons import TRAY_STATES, app_icon, tray_icon
from app.pages.home import HomePage
from app.tray import QuotaRow, Tray, countdown
from gateway.config import commands
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gui.support import DesktopFactory, click, get_status, refused, until, wait_box
from tests.support.gateway import CLIENT_KEY, basic_config, import_toml, with_context

Run = Callable[..., Any]


def tray_of(desktop: Desktop) -> Tray:
    assert desktop.tray is not None
    return desktop.tray


async def opened(desktop: Desktop) -> Tray:
    await desktop.open()
    assert await desktop.start()
    tray = tray_of(desktop)
    await until(lambda: tray.state() == "running", "the running state")
    return tray


def test_the_toggle_really_stops_and_starts_the_gateway(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        assert tray.toggle_action.isCheckable() and tray.toggle_action.isChecked()
        health = f"{desktop.service.endpoint}/health"
        tray.toggle_action.trigger()  # unchecks, as a click does
        await until(lambda: desktop.bridge.state == "stopped", "the gateway to stop")
        assert await refused(health)
        await until(lambda: tray.state() == "stopped", "the stopped state")
        assert not tray.toggle_action.isChecked()
        tray.toggle_action.trigger()
        await until(lambda: desktop.bridge.state == "running", "the gateway to start")
        assert await get_status(f"{desktop.service.endpoint}/health") == 200
        assert tray.toggle_action.isChecked() and tray.state() == "running"

    run(scenario())


def test_copy_endpoint_and_key(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        tray.copy_endpoint_action.trigger()
        assert QGuiApplication.clipboard().text() == desktop.service.endpoint
        assert tray.copy_key_action.text() == "Copy API key"
        tray.copy_key_action.trigger()
        assert QGuiApplication.clipboard().text() == desktop.service.created_key

    run(scenario())


def test_an_unknown_key_becomes_create_one(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    with_context(data_dir, lambda ctx: commands.create_key(ctx, "existing"))
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        assert desktop.window is not None
        desktop.window.hide()
        assert tray.copy_key_action.text() == "Create an API key…"
        tray.copy_key_action.trigger()
        # The window comes forward on Home with the confirmation open.
        assert desktop.window.isVisible()
        assert desktop.window.current_page_id() == HomePage.page_id
        click(await wait_box("create-key"), "Create key")
        await until(lambda: desktop.service.created_key is not None, "the new key")
        await until(lambda: tray.copy_key_action.text() == "Copy API key", "the menu text")
        tray.copy_key_action.trigger()
        assert QGuiApplication.clipboard().text() == desktop.service.created_key

    run(scenario())


def test_quota_submenu(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        texts = [a.text() for a in tray.quota_menu.actions()]
        assert texts == ["No quota windows yet — add a provider with “switchboard connection add”"]
        now = 1_800_000_000.0
        tray.set_quota_rows(
            [
                QuotaRow("claude-pro", "5h", 58.0, now + 2 * 3600 + 10 * 60),
                QuotaRow("codex", "weekly", 100.0, now + 3 * 86400 + 5 * 3600),
                QuotaRow("gemini", "daily", 12.4, None),
            ],
            now=now,
        )
        texts = [a.text() for a in tray.quota_menu.actions()]
        assert texts == [
            "claude-pro · 5 h: 42 % left · resets in 2 h 10 min",
            "codex · week: 0 % left · resets in 3 d 5 h",
            "gemini · day: 88 % left",
        ]
        assert all(a.isEnabled() for a in tray.quota_menu.actions())  # legible, clickable
        assert desktop.window is not None
        desktop.window.hide()
        tray.quota_menu.actions()[1].trigger()  # the details: Home until a Usage page exists
        assert desktop.window.isVisible()
        assert desktop.window.current_page_id() == HomePage.page_id
        tray.set_quota_rows([])
        (empty,) = tray.quota_menu.actions()
        assert not empty.isEnabled()

    run(scenario())


def test_open_window_logs_folder_and_quit(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    opened_paths: list[Path] = []
    desktop = desktops.make(open_path=opened_paths.append)

    async def scenario() -> None:
        tray = await opened(desktop)
        window = desktop.window
        assert window is not None
        window.hide()
        tray.open_action.trigger()
        assert window.isVisible() and window.current_page_id() == "home"
        tray.logs_action.trigger()
        assert opened_paths == [data_dir / "logs"]
        endpoint = desktop.service.endpoint
        tray.quit_action.trigger()
        assert await desktop.closed() == 0
        assert await refused(f"{endpoint}/health")
        assert not window.isVisible() and not tray.icon.isVisible()
        assert desktop.bridge.gateway_thread is None

    run(scenario())


def test_tooltip_says_endpoint_status_and_today(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        endpoint = desktop.service.endpoint
        assert tray.tooltip() == (f"Switchboard: running\n{endpoint}\nToday: 0 requests, $0.00")
        assert tray.icon.toolTip() == tray.tooltip()
        tray.toggle_action.trigger()
        await until(lambda: tray.state() == "stopped", "stopped")
        assert tray.icon.toolTip().startswith("Switchboard: stopped\n")

    run(scenario())


def test_a_provider_down_makes_the_tray_degraded(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    import_toml(data_dir, basic_config(f"http://127.0.0.1:{dead}/v1"))
    import_toml(data_dir, "[settings]\nprovider_breaker_failures = 1\n")
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        running_icon = tray.icon.icon().pixmap(QSize(22, 22)).toImage()
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{desktop.service.endpoint}/v1/chat/completions",
                headers={"Authorization": f"Bearer {CLIENT_KEY}"},
                json={
                    "model": "openai/gpt-6.2-sol",
                    "messages": [{"role": "user", "content": "hi"}],
                },
            ) as response,
        ):
            assert response.status >= 500
        await until(lambda: tray.state() == "degraded", "the degraded state")
        assert desktop.live.attention == ("OpenAI: down (circuit breaker open)",)
        assert tray.icon.toolTip().splitlines()[0] == "Switchboard: running, needs attention"
        assert tray.icon.toolTip().splitlines()[-1] == "OpenAI: down (circuit breaker open)"
        assert tray.icon.icon().pixmap(QSize(22, 22)).toImage() != running_icon

    run(scenario())


def test_a_failed_start_is_the_error_state(desktops: DesktopFactory, run: Run) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        desktop = desktops.make(port=port)

        async def scenario() -> None:
            await desktop.open()
            task = asyncio.ensure_future(desktop.start())
            click(await wait_box("port-in-use"), "Not now")
            assert await task is False
            tray = tray_of(desktop)
            assert tray.state() == "error"
            assert f"Port {port} on 127.0.0.1 is already in use" in tray.tooltip()
            assert not tray.toggle_action.isChecked()

        run(scenario())


@pytest.mark.parametrize("state", TRAY_STATES)
def test_each_state_has_its_own_icon_at_every_size(qapp: object, state: str) -> None:
    others = [s for s in TRAY_STATES if s != state]
    for size in (16, 22, 32, 64):
        image = tray_icon(state).pixmap(QSize(size, size)).toImage()
        assert (image.width(), image.height()) == (size, size)
        for other in others:
            assert image != tray_icon(other).pixmap(QSize(size, size)).toImage()


def test_click_opens_the_window_except_on_macos(
    desktops: DesktopFactory, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        tray = await opened(desktop)
        window = desktop.window
        assert window is not None
        window.hide()
        monkeypatch.setattr("app.tray.sys.platform", "darwin")
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
        assert not window.isVisible()  # macOS: a click shows the menu instead
        monkeypatch.setattr("app.tray.sys.platform", "linux")
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)
        assert not window.isVisible()
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
        assert window.isVisible()

    run(scenario())


def test_countdown() -> None:
    assert [countdown(s) for s in (-5, 59, 61, 3600, 3 * 86400 + 7200 + 59)] == [
        "0 min",
        "0 min",
        "1 min",
        "1 h 00 min",
        "3 d 2 h",
    ]


QUOTA = '[[quotas]]\nconnection = "primary"\nwindow = "5h"\nlimit = 10\nunit = "requests"\n'


async def chat(endpoint: str, model: str = "openai/gpt-6.2-sol") -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{endpoint}/v1/chat/completions",
            headers={"Authorization": f"Bearer {CLIENT_KEY}"},
            json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        ) as response,
    ):
        return response.status


def test_the_quota_submenu_and_the_degraded_state_follow_the_gateways_windows(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        async with FakeOpenAI() as fake:
            import_toml(data_dir, basic_config(fake.base_url) + QUOTA)
            tray = await opened(desktop)
            for _ in range(7):  # 70 %: listed, not yet degraded
                assert await chat(desktop.service.endpoint) == 200
            line = "primary · 5 h: 30 % left · resets in 4 h 59 min"
            await until(
                lambda: [a.text() for a in tray.quota_menu.actions()] == [line], "the 70 % line"
            )
            assert tray.state() == "running"
            assert await chat(desktop.service.endpoint) == 200  # 80 %: the quota event refreshes
            await until(lambda: tray.state() == "degraded", "the degraded state")
            assert [a.text() for a in tray.quota_menu.actions()] == [
                "primary · 5 h: 20 % left · resets in 4 h 59 min"
            ]
            assert tray.icon.toolTip().splitlines() == [
                "Switchboard: running, needs attention",
                desktop.service.endpoint,
                tray.tooltip().splitlines()[2],
                "primary: 5 h window 80 % used",
            ]
            assert tray.icon.toolTip().splitlines()[2].startswith("Today: ")
            tray.toggle_action.trigger()  # stopped: no figures to show
            await until(lambda: tray.state() == "stopped", "stopped")
            assert [a.text() for a in tray.quota_menu.actions()] == [
                "No quota windows yet — add a provider with “switchboard connection add”"
            ]

    run(scenario())


def test_a_spent_budget_makes_the_tray_degraded(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()
    budget = (
        '[[budgets]]\nscope = "provider"\nname = "openai"\nperiod = "day"\nlimit_usd = 0.0000001\n'
    )

    async def scenario() -> None:
        async with FakeOpenAI() as fake:
            import_toml(data_dir, basic_config(fake.base_url) + budget)
            tray = await opened(desktop)
            assert await chat(desktop.service.endpoint) == 200  # priced: more than the budget
            await until(lambda: tray.state() == "degraded", "the degraded state")
            assert tray.tooltip().splitlines()[-1] == "provider openai: daily budget spent"
            assert [a.text() for a in tray.quota_menu.actions()] == [  # budgets are no windows
                "No quota windows yet — add a provider with “switchboard connection add”"
            ]
            (note,) = desktops.notifiers[0].notes
            assert note.kind == "budget_crossed"
            assert note.body.startswith("Provider openai: daily budget of $0.00 spent — resets in")

    run(scenario())


def test_the_tray_window_and_app_draw_the_svg_icons(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    def image(icon: QIcon) -> QImage:
        return icon.pixmap(QSize(22, 22)).toImage()

    async def scenario() -> None:
        tray = await opened(desktop)
        assert image(tray.icon.icon()) == image(tray_icon("running"))
        assert desktop.window is not None
        assert image(desktop.window.windowIcon()) == image(app_icon())
        assert image(QGuiApplication.windowIcon()) == image(app_icon())
        tray.toggle_action.trigger()
        await until(lambda: tray.state() == "stopped", "stopped")
        assert image(tray.icon.icon()) == image(tray_icon("stopped"))

    run(scenario())
