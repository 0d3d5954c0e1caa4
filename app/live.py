"""LiveStatus: today's figures and what needs attention, polled once a second for every view
(Home page, tray tooltip) so the request log is read once, not once per view."""

from __future__ import annotations

import asyncio
import logging

from app.bridge import RUNNING, GatewayBridge
from app.polled import PolledFeed
from gateway.observe.today import TodaySummary

POLL_MS = 1000
log = logging.getLogger("switchboard.desktop")


class LiveStatus(PolledFeed):
    def __init__(self, bridge: GatewayBridge) -> None:
        super().__init__(bridge, POLL_MS)
        self.summary = TodaySummary()
        self.attention: tuple[str, ...] = ()  # open provider breakers, connections needing login
        bridge.state_changed.connect(self._on_state)

    @property
    def degraded(self) -> bool:
        return bool(self.attention)

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
