"""Windows and macOS: notes go to the tray icon's showMessage and a click on the message
opens the last note's page; picking the notifier per platform."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from app.icons import SIZES
from app.notify import NullNotifier, default_notifier
from app.notify.linux import LinuxNotifier
from app.notify.note import Note
from app.notify.tray import SHOW_MS, TrayNotifier


class RecordingTray(QSystemTrayIcon):
    """A real tray icon that remembers what it was asked to show (offscreen shows nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[Any, ...]] = []

    def showMessage(self, *args: Any) -> None:
        self.shown.append(args)


DOWN = Note("provider_down", "OpenAI is down", "Switchboard stopped sending requests.", "health")
QUOTA = Note("quota_warning", "Quota almost used up", "work: 5-hour window at 80 %", "usage")


def test_notes_are_tray_messages_and_a_click_opens_the_last_ones_page(qapp: object) -> None:
    tray = RecordingTray()
    opened: list[str] = []
    icon = QIcon()
    notifier = TrayNotifier(tray, opened.append, icon=icon)
    tray.messageClicked.emit()  # nothing shown yet: nothing to open
    notifier.notify(DOWN)
    notifier.notify(QUOTA)
    assert [(a[0], a[1], a[3]) for a in tray.shown] == [
        (DOWN.title, DOWN.body, SHOW_MS),
        (QUOTA.title, QUOTA.body, SHOW_MS),
    ]
    assert tray.shown[0][2] is icon
    tray.messageClicked.emit()
    assert opened == ["usage"]
    notifier.close()
    tray.messageClicked.emit()
    assert opened == ["usage"]


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_use_the_tray(qapp: object, platform: str) -> None:
    tray = RecordingTray()
    notifier = default_notifier(print, tray, platform=platform, environ={})
    assert isinstance(notifier, TrayNotifier)
    notifier.notify(QUOTA)
    icon = tray.shown[0][2]
    assert sorted(s.width() for s in icon.availableSizes()) == list(SIZES)  # the app icon
    notifier.close()
    alone = default_notifier(print, None, platform=platform, environ={})
    assert isinstance(alone, NullNotifier)
    assert alone.reason == "there is no tray icon to show them from"


def test_linux_finds_the_session_bus_or_says_why_not(
    qapp: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    none = default_notifier(platform="linux", environ={"XDG_RUNTIME_DIR": str(tmp_path)})
    assert isinstance(none, NullNotifier)
    with caplog.at_level(logging.WARNING, "switchboard.notify"):
        none.notify(QUOTA)
        none.notify(DOWN)
    assert [r.getMessage() for r in caplog.records] == [
        "desktop notifications are off: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not "
        "set and $XDG_RUNTIME_DIR/bus does not exist)"
    ]
    explicit = default_notifier(
        platform="linux", environ={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}
    )
    assert isinstance(explicit, LinuxNotifier)
    explicit.close()
