"""Helpers for the GUI tests: waiting on signals and conditions, finding dialogs, desktops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from app.bridge import GatewayBridge, LoopMode
from app.desktop import Desktop
from app.notify import ClickHandler, RecordingNotifier
from gateway.service import GatewayService

WAIT_S = 10.0


async def until(predicate: Callable[[], bool], what: str, limit_s: float = WAIT_S) -> None:
    """Let the loop run until ``predicate`` holds (a liveness limit, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def next_emit(signal: SignalInstance, limit_s: float = WAIT_S) -> tuple[Any, ...]:
    """The arguments of the next emission of ``signal``."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def got(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(got)
    try:
        return await asyncio.wait_for(future, limit_s)
    finally:
        signal.disconnect(got)


def open_box(name: str) -> QMessageBox | None:
    """The visible message box with this object name, if one is open."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.objectName() == name and widget.isVisible():
            return widget
    return None


async def wait_box(name: str) -> QMessageBox:
    await until(lambda: open_box(name) is not None, f"the {name!r} dialog")
    box = open_box(name)
    assert box is not None
    return box


def click(box: QMessageBox, text: str) -> None:
    """Click the button of ``box`` whose label is ``text``."""
    for button in box.buttons():
        if button.text() == text:
            button.click()
            return
    raise AssertionError(f"no button {text!r} in {[b.text() for b in box.buttons()]}")


async def get_status(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


async def refused(url: str) -> bool:
    try:
        await get_status(url)
    except aiohttp.ClientConnectionError:
        return True
    return False


class DesktopFactory:
    def __init__(self, app: QApplication, data_dir: Path) -> None:
        self.app = app
        self.data_dir = data_dir
        self.made: list[Desktop] = []
        self.notifiers: list[RecordingNotifier] = []  # what each desktop would have shown

    def _recording(self, on_click: ClickHandler, tray: QSystemTrayIcon | None) -> RecordingNotifier:
        notifier = RecordingNotifier(on_click)
        self.notifiers.append(notifier)
        return notifier

    def make(
        self,
        mode: LoopMode = "thread",
        *,
        data_dir: Path | None = None,
        port: int | None = 0,
        tray_available: bool | Callable[[], bool] = True,
        **kwargs: Any,
    ) -> Desktop:
        service = GatewayService(
            data_dir or self.data_dir, port=port, reload_interval=0.05, shutdown_timeout=10.0
        )
        bridge = GatewayBridge(service, loop_mode=mode)
        kwargs.setdefault("make_notifier", self._recording)  # never the developer's desktop
        desktop = Desktop(
            self.app,
            bridge,
            tray_available=tray_available,
            explicit_port=port not in (None, 0),
            **kwargs,
        )
        self.made.append(desktop)
        return desktop

    async def close_all(self) -> None:
        for desktop in self.made:
            if desktop.window is None:  # never opened: only the bridge to close
                await desktop.bridge.stop()
                desktop.bridge.close()
                continue
            desktop.quit()
            await desktop.closed()
            desktop.window.deleteLater()
        self.made.clear()
