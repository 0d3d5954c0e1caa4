"""The sidebar: one entry per registered page (so there are no dead buttons), keyboard
navigable (arrows, Home/End; Tab reaches it like any list)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem, QStyle, QWidget

# Page icon names → (freedesktop theme icon, Qt's built-in fallback). A themed icon set
# (resources/icons via app/icons.py) can take over here.
_ICONS = {
    "home": ("go-home", QStyle.StandardPixmap.SP_DirHomeIcon),
    "settings": ("preferences-system", QStyle.StandardPixmap.SP_FileDialogDetailedView),
    "about": ("help-about", QStyle.StandardPixmap.SP_MessageBoxInformation),
}
PAGE_ID_ROLE = Qt.ItemDataRole.UserRole


ICON_PX = 20


def page_icon(name: str) -> QIcon:
    theme_name, fallback = _ICONS.get(name, (name, QStyle.StandardPixmap.SP_FileIcon))
    style = QApplication.style()
    icon = QIcon.fromTheme(theme_name, style.standardIcon(fallback))
    for size in (ICON_PX, 2 * ICON_PX):
        icon.addPixmap(_on_plate(icon.pixmap(size, size)), QIcon.Mode.Selected)
    return icon


def _on_plate(pixmap: QPixmap) -> QPixmap:
    """``pixmap`` on a light rounded plate: a blue glyph (the info icon) would vanish into the
    blue highlight of the selected entry."""
    size = pixmap.width()
    plate = QPixmap(size, size)
    plate.fill(Qt.GlobalColor.transparent)
    painter = QPainter(plate)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 235))
    painter.drawRoundedRect(QRectF(0, 0, size, size), size / 5, size / 5)
    inset = size // 10
    painter.drawPixmap(inset, inset, pixmap.scaled(size - 2 * inset, size - 2 * inset))
    painter.end()
    return plate


class Sidebar(QListWidget):
    WIDTH = 184

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setFixedWidth(self.WIDTH)
        self.setIconSize(QSize(ICON_PX, ICON_PX))
        self.setSpacing(2)
        self.setFrameShape(QListWidget.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName(self.tr("Pages"))
        self.setStyleSheet(
            "QListWidget#sidebar { background: palette(base); padding: 10px 8px; outline: 0;"
            " show-decoration-selected: 1; }"
            "QListWidget#sidebar::item { padding: 4px 8px; border-radius: 6px; }"
            "QListWidget#sidebar::item:selected {"
            " background: palette(highlight); color: palette(highlighted-text); }"
        )

    def add_page(self, page_id: str, title: str, icon: str) -> None:
        item = QListWidgetItem(page_icon(icon), title)
        item.setData(PAGE_ID_ROLE, page_id)
        item.setSizeHint(QSize(self.WIDTH - 20, 34))
        self.addItem(item)

    def page_ids(self) -> list[str]:
        return [str(self.item(row).data(PAGE_ID_ROLE)) for row in range(self.count())]

    def select(self, page_id: str) -> bool:
        for row, known in enumerate(self.page_ids()):
            if known == page_id:
                self.setCurrentRow(row)
                return True
        return False
