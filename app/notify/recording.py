"""A notifier that only remembers: what unit tests (and the app without any other) use."""

from __future__ import annotations

import logging

from app.notify.note import ClickHandler, Note

log = logging.getLogger("switchboard.notify")


class RecordingNotifier:
    def __init__(self, on_click: ClickHandler | None = None) -> None:
        self.notes: list[Note] = []
        self.on_click = on_click
        self.closed = False

    def notify(self, note: Note) -> None:
        if not self.closed:
            self.notes.append(note)

    def click(self, note: Note) -> None:
        """What a user's click on ``note`` does."""
        if self.on_click is not None:
            self.on_click(note.page_id)

    def close(self) -> None:
        self.closed = True


class NullNotifier:
    """Where notifications cannot be shown: drops them and says why, once, in the log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self._said = False

    def notify(self, note: Note) -> None:
        if not self._said:
            self._said = True
            log.warning("desktop notifications are off: %s", self.reason)

    def close(self) -> None:
        pass
