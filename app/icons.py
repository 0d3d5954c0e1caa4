"""The app's icons, drawn from the SVG sources in ``resources/icons/``.

Each icon is rendered by QSvgRenderer into a pixmap at every size a panel, taskbar or window
asks for, so Qt never scales a bitmap (a 22 px tray icon is drawn at 22 px, not shrunk from
64). Rendered once per process (a handful of icons: the cache is bounded by construction).
Needs a QGuiApplication (pixmaps do).
"""

from __future__ import annotations

import functools
from typing import Final, Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from gateway.resources import resource_path

TrayState = Literal["running", "stopped", "degraded", "error"]
TRAY_STATES: Final[tuple[TrayState, ...]] = ("running", "stopped", "degraded", "error")
# Tray sizes (16 Windows/KDE, 22 GNOME/KDE, 24 XFCE, 32 and 48 at 2x/3x), then taskbar, dock
# and window sizes.
SIZES: Final = (16, 22, 24, 32, 44, 48, 64, 128, 256)
APP: Final = "switchboard"


class IconError(RuntimeError):
    """An icon's SVG source is missing or invalid: the install is broken."""


def app_icon() -> QIcon:
    return _icon(APP)


def tray_icon(state: TrayState) -> QIcon:
    """running: the plain icon; stopped: grey with a stop badge; degraded: a "!" triangle
    (a provider down or a quota nearly used up); error: a red cross badge."""
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r} (known: {', '.join(TRAY_STATES)})")
    return _icon(f"tray-{state}")


def render(name: str, size: int) -> QImage:
    """``resources/icons/<name>.svg`` drawn ``size`` pixels square on transparency."""
    path = resource_path(f"icons/{name}.svg")
    renderer = QSvgRenderer(str(path))
    if not renderer.isValid():
        raise IconError(f"{path}: missing or not a valid SVG; reinstall Switchboard")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        renderer.render(painter)
    finally:
        painter.end()
    return image


@functools.cache
def _icon(name: str) -> QIcon:
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(QPixmap.fromImage(render(name, size)))
    return icon
