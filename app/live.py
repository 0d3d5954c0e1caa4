"""LiveStatus: today's figures and what needs attention, polled once a second for every view
(Home page, tray tooltip) so the request log is read once, not once per view.

One per bridge, as its Qt child: ``LiveStatus.of(bridge)`` finds it (or makes it), so a page
built as ``Page(bridge)`` shares the same figures as the tray.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QTimer, Signal

from app.bridge import RUNNING, GatewayBridge
from gateway.observe.today import TodaySummary

POLL_MS = 1000
log = logging.getLogger("switchboard.desktop")


class LiveStatus(QObject):
    changed = Signal()

    def __init__(self, bridge: GatewayBridge) -> None:
        super().__init__(bridge)
        self._bridge = bridge
        self.summary = TodaySummary()
        self.attention: tuple[str, ...] = ()  # open provider breakers, connections needing login
        self._polling: asyncio.Task[None] | None = None
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.refresh)
        bridge.state_changed.connect(self._on_state)

    @classmethod
    def of(cls, bridge: GatewayBridge) -> LiveStatus:
        found = bridge.findChild(cls)
        return found if isinstance(found, cls) else cls(bridge)

    @property
    def degraded(self) -> bool:
        return bool(self.attention)

    def start(self) -> None:
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()
        if self._polling is not None:
            self._polling.cancel()

    def refresh(self) -> None:
        """Poll now unless a poll is still running (a slow disk never stacks queries)."""
        if self._polling is None or self._polling.done():
            self._polling = asyncio.ensure_future(self._poll())

    def _on_state(self, state: str) -> None:
        if state != RUNNING and self.attention:
            self.attention = ()
        self.changed.emit()
        if self._timer.isActive():
            self.refresh()

    async def _poll(self) -> None:
        service = self._bridge.service
        try:
            summary = await self._bridge.run(service.today_summary)
            running = self._bridge.state == RUNNING
            attention = await self._bridge.invoke(service.attention) if running else ()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not read today's figures")
            return
        if (summary, attention) != (self.summary, self.attention):
            self.summary, self.attention = summary, attention
            self.changed.emit()
