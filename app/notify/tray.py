"""Windows and macOS: notifications through the tray icon (``QSystemTrayIcon.showMessage``),
which Qt turns into the platform's own toast / Notification Center banner."""

from __future__ import annotations

from typing import Final

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from app.notify.note import ClickHandler, Note

SHOW_MS: Final = 10_000


class TrayNotifier:
    def __init__(
        self, tray: QSystemTrayIcon, on_click: ClickHandler | None = None, *, icon: QIcon
    ) -> None:
        self._tray = tray
        self._on_click = on_click
        self._icon = icon
        self._page_id: str | None = None  # Qt reports a click on the last message only
        tray.messageClicked.connect(self._clicked)

    def notify(self, note: Note) -> None:
        self._page_id = note.page_id
        self._tray.showMessage(note.title, note.body, self._icon, SHOW_MS)

    def close(self) -> None:
        self._tray.messageClicked.disconnect(self._clicked)
        self._page_id = None

    def _clicked(self) -> None:
        if self._page_id is not None and self._on_click is not None:
            self._on_click(self._page_id)
