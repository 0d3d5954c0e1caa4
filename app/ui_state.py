"""What the desktop remembers that is not a setting: window geometry, hints already shown.

Kept in ``<data dir>/desktop.ini`` through QSettings, which writes lazily from the event loop,
so remembering something in a slot never waits on the disk.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

FILE_NAME = "desktop.ini"


class UiState:
    def __init__(self, data_dir: Path) -> None:
        self._settings = QSettings(str(data_dir / FILE_NAME), QSettings.Format.IniFormat)

    def hint_shown(self, name: str) -> bool:
        return bool(self._settings.value(f"hints/{name}", False, type=bool))

    def mark_hint_shown(self, name: str) -> None:
        self._settings.setValue(f"hints/{name}", True)

    def geometry(self) -> QByteArray | None:
        value = self._settings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)

    def sync(self) -> None:
        self._settings.sync()
