"""A contact sheet of the app's icons: every icon at a few sizes on a light and a dark panel
colour, to look at (``python -m tests.support.icon_sheet out.png``) and for tests/gui."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QColor, QImage, QPainter

from app.icons import APP, TRAY_STATES, render

NAMES = (APP, *(f"tray-{state}" for state in TRAY_STATES))
SHEET_SIZES = (16, 22, 24, 32, 64)
PANELS = (QColor("#f2f2f2"), QColor("#2b2b2b"))  # light and dark panels
GAP = 8


def icon_sheet(zoom: int = 1) -> QImage:
    """Rows: light panel then dark panel, one row per icon; columns: the sizes. ``zoom``
    enlarges every pixel (nearest neighbour) so small sizes can be inspected."""
    cell = max(SHEET_SIZES) + GAP
    width = GAP + cell * len(SHEET_SIZES)
    height = GAP + cell * len(NAMES) * len(PANELS)
    sheet = QImage(width, height, QImage.Format.Format_ARGB32)
    painter = QPainter(sheet)
    try:
        for p, panel in enumerate(PANELS):
            top = p * cell * len(NAMES)
            painter.fillRect(0, top, width, cell * len(NAMES) + GAP, panel)
            for row, name in enumerate(NAMES):
                for col, size in enumerate(SHEET_SIZES):
                    x, y = GAP + col * cell, GAP + top + row * cell
                    painter.drawImage(x, y, render(name, size))
    finally:
        painter.end()
    return sheet.scaled(width * zoom, height * zoom) if zoom > 1 else sheet


if __name__ == "__main__":
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "icons.png")
    icon_sheet(int(sys.argv[2]) if len(sys.argv) > 2 else 1).save(str(out))
    print(out)
