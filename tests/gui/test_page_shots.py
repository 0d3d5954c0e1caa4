"""The Home, Settings and About pages and the tray menu rendered light and dark: saved as PNGs
(to $SWITCHBOARD_SHOTS when set, to look at them) and checked for clipped text and controls."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QLineEdit, QWidget

from app.desktop import Desktop
from app.pages.about import AboutPage
from app.pages.home import HomePage
from app.pages.settings import SettingsPage
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gui.support import DesktopFactory, until
from tests.gui.test_tray import QUOTA, chat
from tests.support.gateway import basic_config, import_toml

Run = Callable[..., Any]


def clipped(page: QWidget) -> list[str]:
    """Visible widgets narrower than their content needs."""
    problems = []
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page) or widget.width() == 0:
            continue
        if isinstance(widget, QLabel) and widget.wordWrap() and widget.text():
            # A wrapped label needs the height of its lines at the width it got.
            if widget.height() < widget.heightForWidth(widget.width()):
                problems.append(f"QLabel {widget.text()[:30]!r} cut at the bottom")
            continue
        single_line = isinstance(widget, QLabel) and widget.text()
        if not (single_line or isinstance(widget, QAbstractButton | QComboBox)):
            continue
        if widget.width() < widget.minimumSizeHint().width():
            problems.append(f"{type(widget).__name__} {widget.objectName() or widget.text()!r}")
    return problems


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pages_render_unclipped(
    theme: str, desktops: DesktopFactory, data_dir: Path, tmp_path: Path, run: Run
) -> None:
    desktop: Desktop = desktops.make()
    folder = Path(os.environ.get("SWITCHBOARD_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    async def scenario() -> None:
        async with FakeOpenAI() as fake:
            import_toml(data_dir, basic_config(fake.base_url) + QUOTA)
            await desktop.open()
            assert await desktop.start()
            for _ in range(3):  # figures on Home, a quota window in the tray
                assert await chat(desktop.service.endpoint) == 200
        desktop.theme.apply(theme)
        window = desktop.window
        assert window is not None
        tray = desktop.tray
        assert tray is not None
        await until(lambda: desktop.live.summary.requests == 3, "today's figures")
        await until(lambda: len(desktop.quota.windows) == 1, "the quota window")
        for menu, name in ((tray.menu, "tray-menu"), (tray.quota_menu, "tray-quota")):
            menu.adjustSize()
            path = folder / f"{name}-{theme}.png"
            assert menu.grab().save(str(path))
            texts = [a.text() for a in menu.actions() if a.text()]
            width = max(menu.fontMetrics().horizontalAdvance(t) for t in texts)
            assert menu.width() > width, name  # no entry cut off
        for page_id in (HomePage.page_id, SettingsPage.page_id, AboutPage.page_id):
            page = window.show_page(page_id)
            assert page is not None
            if isinstance(page, SettingsPage):
                await page.reload()
            assert clipped(page) == [], page_id
            if isinstance(page, SettingsPage):  # with inline errors shown, too
                port = page.fields["port"].editor
                assert isinstance(port, QLineEdit)
                port.setText("70000")
                await page.apply()
                await until(lambda p=page: not clipped(p), "the layout with errors")  # type: ignore[misc]
                assert window.grab().save(str(folder / f"settings-errors-{theme}.png"))
            path = folder / f"{page_id}-{theme}.png"
            assert window.grab().save(str(path))
            assert path.stat().st_size > 10_000

    run(scenario())
