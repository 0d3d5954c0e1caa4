"""Light, dark or the system's colours: the Fusion style with a palette of our own.

"system" follows the colour scheme Qt reads from the desktop (Qt ≥ 6.5), and follows it
live when the user switches; where Qt cannot tell, light.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a",
    QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.ToolTipBase: "#2b2d31",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2b2d31",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#3c4043",
    QPalette.ColorRole.Midlight: "#34373b",
    QPalette.ColorRole.Mid: "#5f6368",
    QPalette.ColorRole.Dark: "#121314",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#4c8dff",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.LinkVisited: "#c58af9",
}
_LIGHT_ACCENT = {
    QPalette.ColorRole.Highlight: "#2f6fdf",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#1a5fd0",
    QPalette.ColorRole.PlaceholderText: "#5f6368",
    QPalette.ColorRole.Mid: "#b8bcc2",
}
_DISABLED_DARK = {
    QPalette.ColorRole.WindowText: "#7c8086",
    QPalette.ColorRole.Text: "#7c8086",
    QPalette.ColorRole.ButtonText: "#7c8086",
    QPalette.ColorRole.Highlight: "#3c4043",
}


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def is_dark(theme: str) -> bool:
    return theme == "dark" or (theme == "system" and system_is_dark())


def palette_for(dark: bool) -> QPalette:
    style = QStyleFactory.create("Fusion")
    palette = QPalette(style.standardPalette())
    colors = _DARK if dark else _LIGHT_ACCENT
    for role, color in colors.items():
        palette.setColor(QPalette.ColorGroup.All, role, QColor(color))
    if dark:
        for role, color in _DISABLED_DARK.items():
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(color))
    return palette


class ThemeManager(QObject):
    """Applies a theme to the application and re-applies "system" when the desktop changes."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self.theme = "system"
        self.dark = False
        app.setStyle("Fusion")
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._system_changed)

    def apply(self, theme: str) -> None:
        self.theme = theme if theme in THEMES else "system"
        self.dark = is_dark(self.theme)
        self._app.setPalette(palette_for(self.dark))
        # Style sheets resolve palette(...) when they are set: set them again.
        for widget in self._app.allWidgets():
            if sheet := widget.styleSheet():
                widget.setStyleSheet(sheet)

    def _system_changed(self, *_: object) -> None:
        if self.theme == "system":
            self.apply("system")
