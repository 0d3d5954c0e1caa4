"""Small reusable widgets: a read-only value with a Copy button, an on/off switch, a card."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

COPIED_FEEDBACK_MS = 1500


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


class CopyButton(QPushButton):
    """Copies what ``source()`` returns; says "Copied" for a moment."""

    copied = Signal(str)

    def __init__(self, source: object, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Copy"), parent)
        self._source = source
        self._reset = QTimer(self, singleShot=True, interval=COPIED_FEEDBACK_MS)
        self._reset.timeout.connect(lambda: self.setText(self.tr("Copy")))
        # Wide enough for either label, so the layout does not jump.
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(self.tr("Copied")) + 32)
        self.clicked.connect(self._copy)

    def _copy(self) -> None:
        text = self._source() if callable(self._source) else str(self._source)
        copy_text(text)
        self.setText(self.tr("Copied"))
        self._reset.start()
        self.copied.emit(text)


class CopyField(QWidget):
    """A read-only, selectable value (monospace) and its Copy button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setReadOnly(True)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.button = CopyButton(self.edit.text, self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)

    def set_value(self, text: str) -> None:
        if self.edit.text() != text:
            self.edit.setText(text)
            self.edit.setCursorPosition(0)

    def value(self) -> str:
        return self.edit.text()


class Switch(QAbstractButton):
    """An on/off switch (checkable; Space toggles it, like a check box)."""

    TRACK_W, TRACK_H = 44, 24

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(self.TRACK_W + 4, self.TRACK_H + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        track = QRectF(2, 2, self.TRACK_W, self.TRACK_H)
        if self.isChecked():
            color = palette.color(QPalette.ColorRole.Highlight)
        else:
            color = palette.color(QPalette.ColorRole.Mid)
        if not self.isEnabled():
            color.setAlphaF(0.45)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(track, self.TRACK_H / 2, self.TRACK_H / 2)
        knob = self.TRACK_H - 6
        x = track.right() - knob - 3 if self.isChecked() else track.left() + 3
        painter.setBrush(QColor("#ffffff"))
        painter.drawEllipse(QRectF(x, track.top() + 3, knob, knob))
        if self.hasFocus():
            focus = palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(focus)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(track.adjusted(-1.5, -1.5, 1.5, 1.5), 13.5, 13.5)
        painter.end()


class Card(QFrame):
    """A titled group on a page."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setStyleSheet(
            "QFrame#card { background: palette(alternate-base);"
            " border: 1px solid palette(midlight); border-radius: 8px; }"
        )
        self.title = QLabel(title, self)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 16, 14)
        self.body.setSpacing(8)
        self.body.addWidget(self.title)


def hint_label(text: str, parent: QWidget | None = None) -> QLabel:
    """Secondary text: wrapped, in the palette's placeholder colour."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label
