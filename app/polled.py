"""PolledFeed: figures the desktop reads from the gateway on a timer, shared by every view.

One feed of each kind per bridge, as its Qt child: ``Feed.of(bridge)`` finds it (or makes it),
so a page built as ``Page(bridge)`` and the tray read the same figures. A poll never starts
while the previous one is still running, so a slow disk or loop never stacks queries.
"""

from __future__ import annotations

import asyncio
from typing import Self

from PySide6.QtCore import QObject, QTimer, Signal

from app.bridge import GatewayBridge


class PolledFeed(QObject):
    changed = Signal()  # the figures differ from the last poll's

    def __init__(self, bridge: GatewayBridge, interval_ms: int) -> None:
        super().__init__(bridge)
        self._bridge = bridge
        self._polling: asyncio.Task[None] | None = None
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.refresh)

    @classmethod
    def of(cls, bridge: GatewayBridge) -> Self:
        found = bridge.findChild(cls)
        return found if isinstance(found, cls) else cls(bridge)  # type: ignore[call-arg]

    def start(self) -> None:
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()
        if self._polling is not None:
            self._polling.cancel()

    def refresh(self) -> None:
        """Poll now unless a poll is still running."""
        if self._polling is None or self._polling.done():
            self._polling = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        raise NotImplementedError
