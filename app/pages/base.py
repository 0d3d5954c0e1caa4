"""What every page is: a QWidget with an id, an icon name and a translated title, built as
``Page(bridge, parent=None)`` (registered in app/pages/__init__.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

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

    def build(
        self, heading: str, cards: Sequence[QWidget], *, footer: QWidget | None = None
    ) -> None:
        """Every page's layout: a large heading and its cards in a scrolling column, and an
        optional footer that stays in view below it."""
        column = QVBoxLayout()
        column.setContentsMargins(24, 20, 24, 24)
        column.setSpacing(14)
        title = QLabel(heading)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        column.addWidget(title)
        for card in cards:
            column.addWidget(card)
        column.addStretch(1)
        content = QWidget()
        content.setLayout(column)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        if footer is not None:
            outer.addWidget(footer)
