"""Editors generated from the settings declarations (gateway/config/settings.py).

One SettingField per SettingSpec: the declaration's type picks the editor (a switch for bool,
a spin box within minimum..maximum for numbers, a combo for choices, a line edit otherwise),
its help becomes the hint under the title, and coerce_setting validates what was typed, so a
new setting needs a name in a section of the Settings page and no widget code.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.window.widgets import Switch, hint_label
from gateway.config.settings import SettingError, SettingSpec, coerce_setting

Value = bool | int | float | str
ERROR_COLOR = "#d0383c"
EDITOR_WIDTH = 220
CONTEXT = "SettingField"


def _tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def default_title(name: str) -> str:
    """ "log_retention_days" → "Log retention days" (settings without a title of their own)."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def help_text(spec: SettingSpec) -> str:
    """The declaration's help, translated, without the "Desktop app:" the config file needs."""
    text = QCoreApplication.translate("settings", spec.help)
    prefix = "Desktop app: "
    if text.startswith(prefix):
        text = text.removeprefix(prefix)
        text = text[:1].upper() + text[1:]
    return text


class SettingField(QObject):
    """The title, hint, editor and inline error of one setting, placed on one grid row pair."""

    edited = Signal()

    def __init__(
        self,
        spec: SettingSpec,
        title: str,
        *,
        choices: Sequence[tuple[str, str]] | None = None,
        as_text: bool = False,
        parent: QObject | None = None,
    ) -> None:
        """``choices``: (value, label) pairs for a combo, overriding ``spec.choices``;
        ``as_text``: a line edit even for a number (a port is typed, not scrolled to)."""
        super().__init__(parent)
        self.spec = spec
        self.name = spec.name
        self._loaded: Value = spec.default
        self.label = QLabel(title)
        self.label.setObjectName(f"label-{spec.name}")
        self.hint = hint_label(help_text(spec))
        self.error = QLabel()
        self.error.setObjectName(f"error-{spec.name}")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error.hide()
        self.editor = self._make_editor(choices, as_text)
        self.editor.setObjectName(f"setting-{spec.name}")
        self.editor.setAccessibleName(title.replace("&", ""))
        self.editor.setAccessibleDescription(self.hint.text())
        self.label.setBuddy(self.editor)  # the title's mnemonic (Alt+letter) focuses the editor

    # building ------------------------------------------------------------------------------

    def _make_editor(self, choices: Sequence[tuple[str, str]] | None, as_text: bool) -> QWidget:
        spec = self.spec
        if spec.type is bool:
            switch = Switch()
            switch.toggled.connect(self._changed)
            return switch
        if choices is None and spec.choices is not None:
            choices = [(choice, _tr(default_title(choice))) for choice in spec.choices]
        if choices is not None:
            combo = QComboBox()
            for value, label in choices:
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(self._changed)
            combo.setMinimumWidth(EDITOR_WIDTH)
            return combo
        if spec.type in (int, float) and not as_text:
            spin: QSpinBox | QDoubleSpinBox = QSpinBox() if spec.type is int else QDoubleSpinBox()
            low = spec.minimum if spec.minimum is not None else -(2**31)
            high = spec.maximum if spec.maximum is not None else 2**31 - 1
            if isinstance(spin, QSpinBox):
                spin.setRange(int(low), int(high))
            else:
                spin.setRange(low, high)
                spin.setDecimals(1)
            spin.valueChanged.connect(self._changed)
            spin.setMinimumWidth(EDITOR_WIDTH)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            return spin
        edit = QLineEdit()
        edit.textEdited.connect(self._changed)
        edit.setMinimumWidth(EDITOR_WIDTH)
        if spec.type is int:
            edit.setMaxLength(12)
        return edit

    def place(self, grid: QGridLayout, row: int) -> int:
        """Put the field on ``grid`` from ``row``; returns the next free row."""
        text = QWidget()
        column = QVBoxLayout(text)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.label)
        column.addWidget(self.hint)
        grid.addWidget(text, row, 0)
        grid.addWidget(self.editor, row, 1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.error, row + 1, 0, 1, 2)
        return row + 2

    # values --------------------------------------------------------------------------------

    def raw_value(self) -> object:
        """What the editor holds, before validation (text for a line edit)."""
        editor = self.editor
        if isinstance(editor, Switch):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        return editor.text().strip()

    def value(self) -> Value:
        """The editor's value in the declared type; raises SettingError (names the setting)."""
        return coerce_setting(self.name, self.raw_value())

    def set_value(self, value: Value) -> None:
        editor = self.editor
        editor.blockSignals(True)
        try:
            if isinstance(editor, Switch):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                index = editor.findData(value)
                if index < 0:  # a stored value this build has no label for: show it as is
                    editor.addItem(str(value), value)
                    index = editor.count() - 1
                editor.setCurrentIndex(index)
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QDoubleSpinBox):
                editor.setValue(float(value))
            else:
                assert isinstance(editor, QLineEdit)
                editor.setText(str(value))
                editor.setCursorPosition(0)
        finally:
            editor.blockSignals(False)
        editor.update()

    def load(self, value: Value) -> None:
        """Show the stored ``value`` as the field's clean state."""
        self._loaded = value
        self.set_value(value)
        self.show_error("")

    @property
    def loaded(self) -> Value:
        return self._loaded

    def changed_value(self) -> Value | None:
        """The new value when it differs from the stored one; None when unchanged.
        Raises SettingError when the editor holds an invalid value."""
        value = self.value()
        return None if value == self._loaded else value

    def is_dirty(self) -> bool:
        try:
            return self.changed_value() is not None
        except SettingError:
            return True

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _changed(self, *_: object) -> None:
        self.show_error("")
        self.edited.emit()
