"""Settings: the desktop's view of the declared settings, grouped in sections.

Fields are generated from gateway/config/settings.py (app/pages/setting_fields.py); this module
only says which settings appear in which section, their titles, and a few editor choices.
Nothing is written until Apply; Revert shows the stored values again. Applying (validation,
storing, moving the gateway to a new address, start at login) is app/pages/settings_apply.py;
it runs as a task, so the GUI loop never waits on the gateway or the disk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Callable
from pathlib import Path

import apsw
from PySide6.QtCore import QCoreApplication, QLocale, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.bridge import RUNNING, GatewayBridge
from app.pages.base import Page
from app.pages.setting_fields import SettingField, Value, default_title, help_text
from app.pages.settings_apply import Outcome, SettingsApplier, split_problems
from app.tasks import spawn
from app.theme import ThemeManager
from app.translations import I18N_DIR
from app.window.widgets import Card, hint_label
from gateway.config.settings import SETTINGS, SETTINGS_BY_NAME, SettingError
from gateway.service import Event

CONTEXT = "SettingsPage"
NOTIFY_PREFIX = "notify_"
log = logging.getLogger("switchboard.desktop")


def _tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def notification_settings() -> tuple[str, ...]:
    """Every notify_<kind> setting, in declaration order (whatever kinds this build has)."""
    return tuple(spec.name for spec in SETTINGS if spec.name.startswith(NOTIFY_PREFIX))


def sections() -> list[tuple[str, tuple[str, ...]]]:
    """(section title, setting names); names this build does not declare are left out."""
    layout = [
        (_tr("Gateway"), ("port", "host", "require_api_key")),
        (_tr("Startup"), ("start_at_login", "start_minimized", "close_to_tray")),
        (_tr("Notifications"), notification_settings()),
        (_tr("Appearance"), ("theme", "language")),
        (_tr("Data"), ("log_retention_days", "usage_retention_days")),
    ]
    return [
        (title, tuple(name for name in names if name in SETTINGS_BY_NAME))
        for title, names in layout
    ]


def titles() -> dict[str, str]:
    """Field titles, with unique mnemonics (&) on the page."""
    return {
        "port": _tr("&Port"),
        "host": _tr("&Bind address"),
        "require_api_key": _tr("Require an API &key"),
        "start_at_login": _tr("Start at &login"),
        "start_minimized": _tr("Start &minimized to the tray"),
        "close_to_tray": _tr("&Close to the tray"),
        "theme": _tr("&Theme"),
        "language": _tr("Lan&guage"),
        "log_retention_days": _tr("Keep request logs (&days)"),
        "usage_retention_days": _tr("Keep &usage totals (days)"),
    }


def title_for(name: str) -> str:
    if name in (known := titles()):
        return known[name]
    if name.startswith(NOTIFY_PREFIX):
        return _tr(default_title(name.removeprefix(NOTIFY_PREFIX)))
    return _tr(default_title(name))


def language_choices() -> list[tuple[str, str]]:
    """System, English (the source language), and every compiled translation shipped."""
    codes = sorted({path.stem.removeprefix("switchboard_") for path in I18N_DIR.glob("*.qm")})
    choices = [("system", _tr("System")), ("en", "English")]
    for code in codes:
        if code != "en":
            choices.append((code, QLocale(code).nativeLanguageName() or code))
    return choices


def help_overrides() -> dict[str, str]:
    """Where the declaration's help speaks the config file's language, the page's own."""
    return {
        "host": _tr(
            "127.0.0.1 keeps the gateway on this computer. Another address makes it reachable "
            "from the network, and then clients must send an API key."
        ),
        "require_api_key": _tr(
            "Clients must send a Switchboard API key. When off, requests without a key are "
            "accepted from this computer only."
        ),
        "language": _tr("Takes effect the next time Switchboard starts."),
        "theme": _tr("System follows your desktop's light or dark setting."),
    }


class SettingsPage(Page):
    page_id = "settings"
    icon = "settings"

    @classmethod
    def title(cls) -> str:
        return QCoreApplication.translate(CONTEXT, "Settings")

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.setObjectName("page-settings")
        self.applier = SettingsApplier(bridge)
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.fields: dict[str, SettingField] = {}
        self._stored: dict[str, object] = {}
        self._busy = False
        self._loaded_once = False
        self._loading: asyncio.Task[None] | None = None
        self.last_outcome: Outcome | None = None

        self.cards: dict[str, Card] = {
            title: self._section(title, names) for title, names in sections() if names
        }
        self.build(self.tr("Settings"), list(self.cards.values()), footer=self._button_bar())
        self._set_tab_order()

        bridge.event_received.connect(self._on_event)
        bridge.state_changed.connect(self._show_port_note)
        self._update_buttons()
        self.reload()

    # layout ---------------------------------------------------------------------------------

    def _section(self, title: str, names: tuple[str, ...]) -> Card:
        card = Card(title)
        card.setObjectName("card")
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(10)
        grid.setColumnStretch(0, 1)
        row = 0
        overrides = help_overrides()
        for name in names:
            spec = SETTINGS_BY_NAME[name]
            field = SettingField(
                spec,
                title_for(name),
                choices=language_choices() if name == "language" else None,
                as_text=name == "port",
                parent=self,
            )
            if name in overrides:
                field.hint.setText(overrides[name])
            field.edited.connect(self._edited)
            editor = field.editor
            if isinstance(editor, QLineEdit):
                editor.returnPressed.connect(self.request_apply)
            field.load(spec.default)  # until the stored values are read
            self.fields[name] = field
            row = field.place(grid, row)
        if title == _tr("Data"):
            row = self._data_folder_row(grid, row)
        card.body.addLayout(grid)
        return card

    def _data_folder_row(self, grid: QGridLayout, row: int) -> int:
        text = QWidget()
        column = QVBoxLayout(text)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        label = QLabel(self.tr("Data folder"))
        column.addWidget(label)
        column.addWidget(hint_label(self.tr("Settings, keys, usage and logs are stored here.")))
        self.data_path = QLineEdit(str(self.bridge.service.data_dir))
        self.data_path.setObjectName("data-path")
        self.data_path.setReadOnly(True)
        self.data_path.setCursorPosition(0)
        self.data_path.setToolTip(str(self.bridge.service.data_dir))
        self.data_path.setMinimumWidth(260)
        self.data_path.setAccessibleName(self.tr("Data folder"))
        self.open_data_button = QPushButton(self.tr("&Open"))
        self.open_data_button.setObjectName("open-data")
        self.open_data_button.setToolTip(self.tr("Open the data folder in your file manager"))
        self.open_data_button.clicked.connect(self.open_data_folder)
        label.setBuddy(self.data_path)
        right = QHBoxLayout()
        right.setSpacing(6)
        right.addWidget(self.data_path, 1)
        right.addWidget(self.open_data_button)
        grid.addWidget(text, row, 0)
        grid.addLayout(right, row, 1, Qt.AlignmentFlag.AlignTop)
        return row + 1

    def _button_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("settings-buttons")
        row = QHBoxLayout(bar)
        row.setContentsMargins(24, 10, 24, 14)
        row.setSpacing(8)
        self.status = QLabel()
        self.status.setObjectName("settings-status")
        self.status.setWordWrap(True)
        self.revert_button = QPushButton(self.tr("&Revert"))
        self.revert_button.setToolTip(self.tr("Show the stored settings again"))
        self.revert_button.clicked.connect(self.revert)
        self.apply_button = QPushButton(self.tr("&Apply"))
        self.apply_button.setToolTip(
            self.tr("Save the changes (a new address restarts the gateway)")
        )
        self.apply_button.clicked.connect(self.request_apply)
        row.addWidget(self.status, 1)
        row.addWidget(self.revert_button)
        row.addWidget(self.apply_button)
        return bar

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = []
        for field in self.fields.values():
            chain.append(field.editor)
        if hasattr(self, "data_path"):
            chain += [self.data_path, self.open_data_button]
        chain += [self.revert_button, self.apply_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # state ----------------------------------------------------------------------------------

    def reload(self) -> asyncio.Task[None]:
        """Read the stored settings (off the GUI thread) and show them."""
        if self._loading is None or self._loading.done():
            self._loading = spawn(self._load())
        return self._loading

    async def _load(self) -> None:
        try:
            settings = await asyncio.to_thread(self.bridge.service.read_settings)
        except apsw.Error as exc:  # the first start is creating the database right now
            log.info("settings not readable yet (%s); shown when the gateway has started", exc)
            return
        self._loaded_once = True
        stored: dict[str, Value] = dataclasses.asdict(settings)
        self._stored = dict(stored)
        for name, field in self.fields.items():
            field.load(stored.get(name, field.spec.default))
        self._show_port_note()
        self._update_buttons()

    def _on_event(self, event: Event) -> None:
        # A change from elsewhere (the CLI, the port dialog): show it unless the user is editing.
        if event.kind not in ("started", "reloaded") or self._busy:
            return
        if not self._loaded_once or not self.is_dirty():
            self.reload()

    def is_dirty(self) -> bool:
        return any(field.is_dirty() for field in self.fields.values())

    def _edited(self) -> None:
        self._update_buttons()
        if self.is_dirty() and not self._busy:
            self.status.setText(self.tr("Unsaved changes."))

    def _update_buttons(self) -> None:
        dirty = self.is_dirty()
        self.apply_button.setEnabled(dirty and not self._busy)
        self.revert_button.setEnabled(dirty and not self._busy)
        if not dirty and self.status.text() == self.tr("Unsaved changes."):
            self.status.setText("")

    def _show_port_note(self, *_: object) -> None:
        field = self.fields.get("port")
        if field is None:
            return
        service = self.bridge.service
        text = help_text(field.spec)
        if self.bridge.state == RUNNING and service.port != field.loaded:
            text += " " + self.tr("Listening on {endpoint} for now.").format(
                endpoint=service.endpoint
            )
        field.hint.setText(text)

    # actions --------------------------------------------------------------------------------

    def revert(self) -> None:
        for field in self.fields.values():
            field.load(field.loaded)
        self.status.setText("")
        self._update_buttons()

    def request_apply(self) -> None:
        if not self._busy and self.is_dirty():
            spawn(self.apply())

    async def apply(self) -> Outcome:
        """Validate and apply what changed; shows problems next to their fields."""
        changes: dict[str, object] = {}
        invalid: dict[str, str] = {}
        for name, field in self.fields.items():
            field.show_error("")
            try:
                value = field.changed_value()
            except SettingError as exc:
                invalid.update(split_problems(str(exc))[0])
                continue
            if value is not None:
                changes[name] = value
        if invalid:
            return self._show_outcome(Outcome(errors=invalid))
        moving = self.bridge.state == RUNNING and ("host" in changes or "port" in changes)
        self._set_busy(
            True,
            self.tr("Restarting the gateway on the new address…") if moving else self.tr("Saving…"),
        )
        try:
            outcome = await self.applier.apply(changes, self._stored)
        finally:
            self._set_busy(False, "")
        for name, value in outcome.written.items():
            self._stored[name] = value
            if name in self.fields:
                self.fields[name].load(value)
        if "theme" in outcome.written:
            self.apply_theme(str(outcome.written["theme"]))
        return self._show_outcome(outcome)

    def _show_outcome(self, outcome: Outcome) -> Outcome:
        self.last_outcome = outcome
        for name, message in outcome.errors.items():
            if name in self.fields:
                self.fields[name].show_error(message)
        if outcome.general:
            self.status.setText(outcome.general)
        elif outcome.errors:
            self.status.setText(self.tr("Some settings were not applied: see the messages above."))
        elif "language" in outcome.written:
            self.status.setText(self.tr("Saved. The language changes when Switchboard restarts."))
        elif outcome.restarted:
            self.status.setText(
                self.tr("Saved. The gateway now listens on {endpoint}.").format(
                    endpoint=self.bridge.service.endpoint
                )
            )
        else:
            self.status.setText(self.tr("Saved."))
        self._show_port_note()
        self._update_buttons()
        if outcome.errors:
            first = next((n for n in self.fields if n in outcome.errors), None)
            if first is not None:
                self.fields[first].editor.setFocus()
        return outcome

    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        if text:
            self.status.setText(text)
        for field in self.fields.values():
            field.editor.setEnabled(not busy)
        self._update_buttons()

    @staticmethod
    def apply_theme(theme: str) -> None:
        """Live, through the application's ThemeManager (the desktop made one)."""
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        manager = app.findChild(ThemeManager)
        if not isinstance(manager, ThemeManager):
            manager = ThemeManager(app)
        manager.apply(theme)

    def open_data_folder(self) -> None:
        path = Path(self.bridge.service.data_dir)
        self.open_url(QUrl.fromLocalFile(str(path)))

    def stored_value(self, name: str) -> Value | None:
        value = self._stored.get(name)
        return value if isinstance(value, bool | int | float | str) else None
