"""The desktop's life: closing to the tray, quitting with requests in flight, settings that
survive a restart, a taken port, and crashes in GUI code that leave the gateway running."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PySide6.QtCore import qWarning
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QPushButton

from app.desktop import CLOSE_HINT, Desktop
from app.tasks import spawn
from app.ui_state import UiState
from gateway.config import commands
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gui.support import (
    DesktopFactory,
    click,
    get_status,
    open_box,
    refused,
    until,
    wait_box,
)
from tests.support.gateway import CLIENT_KEY, basic_config, import_toml, with_context

Run = Callable[..., Any]


def stored_settings(data_dir: Path) -> dict[str, Any]:
    return with_context(data_dir, lambda ctx: ctx.store.state().settings)


async def opened(desktop: Desktop) -> Desktop:
    await desktop.open()
    assert await desktop.start()
    return desktop


def test_closing_hides_to_the_tray_with_a_hint_shown_once(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()
    hints: list[str] = []

    async def scenario() -> None:
        await opened(desktop)
        assert desktop.tray is not None and desktop.window is not None
        desktop.tray.show_hint = lambda title, text: hints.append(title)  # type: ignore[method-assign]
        assert desktop.window.isVisible()
        assert desktop.window.close() is False  # the close event is refused...
        assert not desktop.window.isVisible()  # ...and the window hidden instead
        assert await get_status(f"{desktop.service.endpoint}/health") == 200
        desktop.window.bring_forward()
        desktop.window.close()
        assert hints == ["Switchboard is still running"]  # once, not per close
        desktop.ui_state.sync()

    run(scenario())
    assert UiState(data_dir).hint_shown(CLOSE_HINT)


def test_closing_quits_when_close_to_tray_is_off(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    import_toml(data_dir, "[settings]\nclose_to_tray = false\n")
    desktop = desktops.make()

    async def scenario() -> None:
        await opened(desktop)
        assert desktop.window is not None
        endpoint = desktop.service.endpoint
        desktop.window.close()
        assert await desktop.closed() == 0
        assert await refused(f"{endpoint}/health")

    run(scenario())


def test_without_a_tray_the_window_says_why_and_closing_quits(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    import_toml(data_dir, "[settings]\nstart_minimized = true\n")
    desktop = desktops.make(tray_available=False)

    async def scenario() -> None:
        await opened(desktop)
        window = desktop.window
        assert window is not None and desktop.tray is None
        assert window.isVisible()  # start_minimized cannot apply without a tray
        assert window.notice.isVisibleTo(window)
        assert window.notice.text().startswith("Your desktop has no system tray")
        window.close()
        assert await desktop.closed() == 0

    run(scenario())


def test_start_minimized_keeps_the_window_closed(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    import_toml(data_dir, "[settings]\nstart_minimized = true\n")
    desktop = desktops.make()

    async def scenario() -> None:
        await opened(desktop)
        assert desktop.window is not None and desktop.tray is not None
        assert not desktop.window.isVisible()
        assert not desktop.window.notice.isVisibleTo(desktop.window)
        desktop.tray.open_action.trigger()
        assert desktop.window.isVisible()

    run(scenario())


def test_settings_persist_across_a_restart(
    desktops: DesktopFactory, data_dir: Path, run: Run, qapp: QApplication
) -> None:
    first = desktops.make()

    async def change_and_quit() -> None:
        await opened(first)
        assert (first.settings.theme, first.theme.dark) == ("system", False)  # offscreen: light
        await first.bridge.call(
            commands.set_settings,
            first.service.context,
            {"theme": "dark", "close_to_tray": False, "start_minimized": True},
        )
        # Applied live, without a restart: the reload re-applies the theme.
        await until(lambda: first.theme.dark, "the dark theme")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 60
        first.quit()
        assert await first.closed() == 0

    run(change_and_quit())
    qapp.setPalette(QPalette())
    second = desktops.make()

    async def restarted() -> None:
        await opened(second)
        assert (second.settings.theme, second.settings.close_to_tray) == ("dark", False)
        assert second.theme.dark
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 60
        assert second.window is not None and not second.window.isVisible()  # minimized
        second.close_window()  # close_to_tray is off: quits
        assert await second.closed() == 0

    run(restarted())
    second.theme.apply("light")


def test_quit_lets_requests_in_flight_finish(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        async with FakeOpenAI() as fake:
            import_toml(data_dir, basic_config(fake.base_url))
            await opened(desktop)
            endpoint = desktop.service.endpoint

            async def slow_request() -> tuple[int, str]:
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        f"{endpoint}/v1/chat/completions",
                        headers={"Authorization": f"Bearer {CLIENT_KEY}"},
                        json={
                            "model": "openai/fake-slow-1",
                            "messages": [{"role": "user", "content": "finish me"}],
                        },
                    ) as response,
                ):
                    body = await response.json()
                    return response.status, body["choices"][0]["message"]["content"]

            request = asyncio.ensure_future(slow_request())
            await until(lambda: len(fake.state.requests) == 1, "the request upstream")
            desktop.quit()
            assert await request == (200, "Echo: finish me")
            assert await desktop.closed() == 0
            assert await refused(f"{endpoint}/health")

    run(scenario())


def test_a_taken_port_offers_the_next_free_one_and_remembers_it(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        import_toml(data_dir, f"[settings]\nport = {port}\n")
        desktop = desktops.make(port=None)  # the port comes from the settings

        async def scenario() -> None:
            await desktop.open()
            starting = asyncio.ensure_future(desktop.start())
            box = await wait_box("port-in-use")
            assert box.text() == f"Another program is already using port {port} on 127.0.0.1."
            assert "keep using it from now on" in box.informativeText()
            # The dialog is open and the GUI's loop runs (the window still repaints).
            assert not starting.done()
            button = next(b for b in box.buttons() if b.text().startswith("Use port "))
            alternative = int(re.sub(r"\D", "", button.text()))
            assert alternative > port
            click(box, button.text())
            assert await starting is True
            assert desktop.service.port == alternative
            assert await get_status(f"http://127.0.0.1:{alternative}/health") == 200
            assert stored_settings(data_dir)["port"] == alternative

        run(scenario())


def test_a_taken_port_given_with_the_port_option_is_not_stored(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        desktop = desktops.make(port=port)

        async def scenario() -> None:
            await desktop.open()
            starting = asyncio.ensure_future(desktop.start())
            box = await wait_box("port-in-use")
            assert "applies until Switchboard quits" in box.informativeText()
            click(box, next(b.text() for b in box.buttons() if b.text().startswith("Use port")))
            assert await starting is True
            assert desktop.service.port != port
            assert "port" not in stored_settings(data_dir)

        run(scenario())


def test_a_crash_in_a_slot_is_logged_and_shown_and_the_gateway_runs_on(
    desktops: DesktopFactory, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    desktop = desktops.make()

    def broken_slot() -> None:
        raise RuntimeError("boom in a slot")

    async def broken_task() -> None:
        raise ValueError("boom in a task")

    async def scenario() -> None:
        await opened(desktop)
        button = QPushButton("crash")
        button.clicked.connect(broken_slot)
        button.click()  # Qt calls the slot; PySide hands the exception to sys.excepthook
        box = await wait_box("crash-report")
        assert not box.isModal()
        assert box.informativeText().startswith("RuntimeError: boom in a slot")
        assert "boom in a slot" in box.detailedText()
        assert await get_status(f"{desktop.service.endpoint}/health") == 200
        spawn(broken_task())
        await until(lambda: desktop.crash.count == 2, "the second report")
        assert open_box("crash-report") is box  # one dialog, counting
        assert "ValueError: boom in a task" in box.informativeText()
        assert "(2 errors so far)" in box.informativeText()
        click(box, "OK")
        await until(lambda: open_box("crash-report") is None, "the dialog to close")
        assert desktop.bridge.state == "running"
        assert await get_status(f"{desktop.service.endpoint}/health") == 200

    with caplog.at_level(logging.ERROR, logger="switchboard.desktop"):
        run(scenario())
    reports = [r for r in caplog.records if "unexpected error in the desktop app" in r.message]
    assert len(reports) == 2
    assert "RuntimeError: boom in a slot" in reports[0].message


def test_qt_warnings_go_to_the_log(
    desktops: DesktopFactory, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        await desktop.open()
        with caplog.at_level(logging.WARNING, logger="switchboard.qt"):
            qWarning("a warning from Qt code")
        desktop.quit()
        await desktop.closed()

    run(scenario())
    assert [r.getMessage() for r in caplog.records if r.name == "switchboard.qt"][-1] == (
        "a warning from Qt code"
    )


def test_a_tray_that_appears_later_takes_over(desktops: DesktopFactory, run: Run) -> None:
    tray_host = {"running": False}  # a panel that starts after the app (flipped below)
    desktop = desktops.make(tray_available=lambda: tray_host["running"])
    desktop.tray_watch.setInterval(10)

    async def scenario() -> None:
        await opened(desktop)
        window = desktop.window
        assert window is not None and desktop.tray is None
        assert window.notice.isVisibleTo(window)
        tray_host["running"] = True
        await until(lambda: desktop.tray is not None, "the tray icon")
        assert not window.notice.isVisibleTo(window)
        assert not desktop.tray_watch.isActive()
        window.close()  # now closing hides to the tray
        assert not window.isVisible() and desktop.bridge.state == "running"

    run(scenario())


def test_quitting_while_the_port_question_is_open(desktops: DesktopFactory, run: Run) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        desktop = desktops.make(port=busy.getsockname()[1])

        async def scenario() -> None:
            await desktop.open()
            starting = asyncio.ensure_future(desktop.start())
            await wait_box("port-in-use")
            desktop.quit()
            assert await desktop.closed() == 0
            assert await starting is False  # the question was withdrawn, nothing started
            assert open_box("port-in-use") is None
            assert desktop.bridge.state == "stopped"

        run(scenario())
