"""The main window: one sidebar entry per registered page, keyboard navigation, show_page,
and the theme (light, dark, system) applied to every widget, style sheets included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from app.bridge import GatewayBridge
from app.pages import PAGES
from app.pages.base import Page
from app.pages.home import HomePage
from app.theme import ThemeManager, is_dark, palette_for
from app.translations import install_translator
from app.window.main_window import MainWindow
from app.window.widgets import Card
from gateway.service import GatewayService

Run = Callable[..., Any]


class ExtraPage(Page):
    page_id = "extra"
    icon = "about"

    @classmethod
    def title(cls) -> str:
        return QCoreApplication.translate("ExtraPage", "Extra")

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        QVBoxLayout(self).addWidget(QLabel("extra"))


def test_the_registry_has_home_first() -> None:
    assert [page_id for page_id, _ in PAGES] == ["home", "settings", "about"]
    assert PAGES[0][1] is HomePage and HomePage.title() == "Home"


def test_one_entry_per_page_and_keyboard_navigation(data_dir: Path, qloop: object) -> None:
    bridge = GatewayBridge(GatewayService(data_dir, port=0))
    window = MainWindow(bridge, pages=[PAGES[0], (ExtraPage.page_id, ExtraPage)])
    try:
        window.show()
        assert window.page_ids() == ["home", "extra"]
        assert window.sidebar.page_ids() == ["home", "extra"]
        assert [window.sidebar.item(i).text() for i in range(2)] == ["Home", "Extra"]
        assert window.current_page_id() == "home"
        assert window.stack.currentWidget() is window.page("home")
        window.sidebar.setFocus()
        QTest.keyClick(window.sidebar, Qt.Key.Key_Down)
        assert window.current_page_id() == "extra"
        assert window.stack.currentWidget() is window.page("extra")
        QTest.keyClick(window.sidebar, Qt.Key.Key_Home)
        assert window.stack.currentWidget() is window.page("home")
        window.hide()
        assert window.show_page("extra") is window.page("extra")
        assert window.isVisible() and window.current_page_id() == "extra"
        assert window.show_page("no-such-page") is None
        assert window.current_page_id() == "extra"
    finally:
        window.deleteLater()
        bridge.close()


def test_themes_reach_style_sheets(qapp: QApplication) -> None:
    manager = ThemeManager(qapp)
    card = Card("Card")
    try:
        manager.apply("dark")
        assert manager.dark and qapp.style().name().lower() == "fusion"
        assert qapp.palette().color(QPalette.ColorRole.Window) == palette_for(True).color(
            QPalette.ColorRole.Window
        )
        card.show()
        dark_background = card.grab().toImage().pixelColor(card.width() // 2, 4)
        manager.apply("light")
        assert not manager.dark
        light_background = card.grab().toImage().pixelColor(card.width() // 2, 4)
        assert dark_background.lightness() < 80 < light_background.lightness()
        manager.apply("no-such-theme")
        assert manager.theme == "system"
        assert manager.dark is is_dark("system") is False  # offscreen reports no dark scheme
    finally:
        card.deleteLater()
        manager.apply("light")


def test_english_needs_no_translation(qapp: QApplication) -> None:
    holder = QWidget()
    assert install_translator(qapp, "en", holder) is None
    assert install_translator(qapp, "en_GB", holder) is None
    assert install_translator(qapp, "xx", holder) is None  # none shipped: English stays
    holder.deleteLater()
