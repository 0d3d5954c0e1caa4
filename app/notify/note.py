"""What a notification says, and the one interface every platform's notifier implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Called on the GUI thread with the page to open when the user clicks a notification.
ClickHandler = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Note:
    kind: str  # the event kind it tells of (quota_warning, provider_down, ...)
    title: str  # one short line, already translated
    body: str  # one or two sentences, already translated
    page_id: str  # the main window's page a click opens


class Notifier(Protocol):
    def notify(self, note: Note) -> None:
        """Show ``note``; returns at once (never blocks the GUI thread on IO)."""
        ...

    def close(self) -> None:
        """Stop; later notes are dropped."""
        ...
