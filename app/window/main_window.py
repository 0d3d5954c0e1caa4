"""The main window: the sidebar and a stack with one widget per registered page.

Closing the window does not decide anything itself: it emits ``close_requested`` and the
desktop (app/desktop.py) hides it to the tray or quits, per the close_to_tray setting.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.bridge import GatewayBridge
from app.pages import PAGES
from app.pages.base import Page
from app.window.sidebar import Sidebar

DEFAULT_SIZE = (980, 720)


class MainWindow(QMainWindow):
    close_requested = Signal()

    def __init__(
        self,
        bridge: GatewayBridge,
        *,
        pages: Sequence[tuple[str, type[Page]]] = PAGES,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main-window")
        self.setWindowTitle(self.tr("Switchboard"))
        self.resize(*DEFAULT_SIZE)
        self.sidebar = Sidebar()
        self.stack = QStackedWidget()
        self._pages: dict[str, QWidget] = {}
        for page_id, factory in pages:
            page = factory(bridge)
            self._pages[page_id] = page
            self.stack.addWidget(page)
            self.sidebar.add_page(page_id, factory.title(), factory.icon)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setMargin(10)
        self.notice.setAutoFillBackground(True)
        self.notice.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.notice.hide()

        divider = QFrame()
        divider.setFrameShape(QFrame.Shape.VLine)
        divider.setFrameShadow(QFrame.Shadow.Sunken)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.sidebar)
        body.addWidget(divider)
        body.addWidget(self.stack, 1)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.notice)
        column.addLayout(body, 1)
        central = QWidget()
        central.setLayout(column)
        self.setCentralWidget(central)
        self.sidebar.setCurrentRow(0)

    def page_ids(self) -> list[str]:
        return list(self._pages)

    def page(self, page_id: str) -> QWidget:
        return self._pages[page_id]

    def current_page_id(self) -> str:
        return self.sidebar.page_ids()[self.sidebar.currentRow()]

    def show_page(self, page_id: str) -> QWidget | None:
        """Bring the window forward on ``page_id`` (notification clicks, tray actions)."""
        if not self.sidebar.select(page_id):
            return None
        self.bring_forward()
        return self._pages[page_id]

    def bring_forward(self) -> None:
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        self.close_requested.emit()
