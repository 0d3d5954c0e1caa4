"""What every page is: a QWidget with an id, an icon name and a translated title, built as
``Page(bridge, parent=None)`` (registered in app/pages/__init__.py)."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QWidget

from app.bridge import GatewayBridge


class Page(QWidget):
    page_id: ClassVar[str]
    icon: ClassVar[str]  # an icon name (app/window/sidebar.py)

    @classmethod
    def title(cls) -> str:
        raise NotImplementedError

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
