"""The Settings and About pages rendered light and dark: saved as PNGs (to $SWITCHBOARD_SHOTS
when set, to look at them) and checked for clipped text and controls."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget

from app.desktop import Desktop
from app.pages.about import AboutPage
from app.pages.settings import SettingsPage
from tests.gui.support import DesktopFactory

Run = Callable[..., Any]


def clipped(page: QWidget) -> list[str]:
    """Visible widgets narrower than their content needs."""
    problems = []
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page) or widget.width() == 0:
            continue
        # Wrapped labels grow downwards; a read-only path scrolls inside its field.
        single_line = isinstance(widget, QLabel) and not widget.wordWrap() and widget.text()
        if not (single_line or isinstance(widget, QAbstractButton | QComboBox)):
            continue
        if widget.width() < widget.minimumSizeHint().width():
            problems.append(f"{type(widget).__name__} {widget.objectName() or widget.text()!r}")
    return problems


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pages_render_unclipped(
    theme: str, desktops: DesktopFactory, tmp_path: Path, run: Run
) -> None:
    desktop: Desktop = desktops.make()
    folder = Path(os.environ.get("SWITCHBOARD_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    async def scenario() -> None:
        await desktop.open()
        assert await desktop.start()
        desktop.theme.apply(theme)
        window = desktop.window
        assert window is not None
        for page_id in (SettingsPage.page_id, AboutPage.page_id):
            page = window.show_page(page_id)
            assert page is not None
            if isinstance(page, SettingsPage):
                await page.reload()
            assert clipped(page) == [], page_id
            path = folder / f"{page_id}-{theme}.png"
            assert window.grab().save(str(path))
            assert path.stat().st_size > 10_000

    run(scenario())
