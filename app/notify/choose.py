"""Pick the notifier for this platform: D-Bus on Linux and other freedesktop systems, the
tray icon's messages on Windows and macOS, and a logged no-op where neither can work."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from app.notify.note import ClickHandler, Notifier
from app.notify.recording import NullNotifier
from gateway.resources import resource_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QSystemTrayIcon

APP_ICON = "icons/switchboard.svg"


def session_bus_address(environ: Mapping[str, str] = os.environ) -> str | None:
    """The D-Bus session bus: ``DBUS_SESSION_BUS_ADDRESS``, else systemd's per-user socket."""
    address = environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "").strip()
    if runtime_dir and (Path(runtime_dir) / "bus").is_socket():
        return f"unix:path={Path(runtime_dir) / 'bus'}"
    return None


def default_notifier(
    on_click: ClickHandler | None = None,
    tray: QSystemTrayIcon | None = None,
    *,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
) -> Notifier:
    """``on_click(page_id)`` runs on the GUI thread; ``tray``: the app's tray icon (needed on
    Windows and macOS)."""
    if platform in ("win32", "darwin"):
        if tray is None:
            return NullNotifier("there is no tray icon to show them from")
        from app.icons import app_icon
        from app.notify.tray import TrayNotifier

        return TrayNotifier(tray, on_click, icon=app_icon())
    address = session_bus_address(environ)
    if address is None:
        return NullNotifier(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and "
            "$XDG_RUNTIME_DIR/bus does not exist)"
        )
    from app.notify.linux import LinuxNotifier

    return LinuxNotifier(on_click, address=address, icon=resource_path(APP_ICON).as_uri())
