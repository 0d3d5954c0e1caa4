"""The sidebar: one entry per registered page (so there are no dead buttons), keyboard
navigable (arrows, Home/End; Tab reaches it like any list)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem, QStyle, QWidget

# Page icon names → (freedesktop theme icon, Qt's built-in fallback). A themed icon set
# (resources/icons via app/icons.py) can take over here.
_ICONS = {
    "home": ("go-home", QStyle.StandardPixmap.SP_DirHomeIcon),
    "settings": ("preferences-system", QStyle.StandardPixmap.SP_FileDialogDetailedView),
    "about": ("help-about", QStyle.StandardPixmap.SP_MessageBoxInformation),
}
PAGE_ID_ROLE = Qt.ItemDataRole.UserRole


def page_icon(name: str) -> QIcon:
    theme_name, fallback = _ICONS.get(name, (name, QStyle.StandardPixmap.SP_FileIcon))
    style = QApplication.style()
    return QIcon.fromTheme(theme_name, style.standardIcon(fallback))


class Sidebar(QListWidget):
    WIDTH = 184

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setFixedWidth(self.WIDTH)
        self.setIconSize(QSize(20, 20))
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
