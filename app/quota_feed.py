"""QuotaFeed: the quota windows and budgets the tray shows (its Quota submenu, the degraded
state), read with ``GatewayService.quota()`` and ``budgets()`` on the gateway's loop — never
on the GUI thread — every few seconds, and at once when a quota event arrives.

Holds one entry per configured window, so it is bounded by the configuration.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from PySide6.QtCore import QCoreApplication

from app.bridge import RUNNING, GatewayBridge
from app.polled import PolledFeed
from gateway.service import Event
from gateway.usage.tracker import WindowState

POLL_MS: Final = 5000
WARN_PERCENT: Final = 80.0  # a window this used makes the tray degraded (quota_warning's mark)
# Events after which the figures are read again at once.
REFRESH_ON: Final = frozenset(
    {
        "started",
        "reloaded",
        "quota_warning",
        "quota_exhausted",
        "quota_reset",
        "quota_forecast",
        "budget_crossed",
    }
)
log = logging.getLogger("switchboard.desktop")


def _tr(text: str) -> str:
    return QCoreApplication.translate("Tray", text)


def window_short(window: str) -> str:
    """A window's name in a menu line: "5h" → "5 h", "weekly" → "week"."""
    named = {
        "daily": _tr("day"),
        "weekly": _tr("week"),
        "monthly": _tr("month"),
    }
    if window in named:
        return named[window]
    if window[:-1].isdigit() and window[-1:] in ("h", "d"):
        return f"{window[:-1]} {window[-1]}"
    return window


class QuotaFeed(PolledFeed):
    def __init__(self, bridge: GatewayBridge) -> None:
        super().__init__(bridge, POLL_MS)
        self.windows: tuple[WindowState, ...] = ()
        self.budgets: tuple[WindowState, ...] = ()
        bridge.event_received.connect(self._on_event)
        bridge.state_changed.connect(self._on_state)

    @property
    def attention(self) -> tuple[str, ...]:
        """What makes the tray degraded: windows at 80 % or more, budgets spent."""
        lines = [
            _tr("{connection}: {window} window {percent:.0f} % used").format(
                connection=w.name, window=window_short(w.window), percent=w.percent
            )
            for w in self.windows
            if w.percent >= WARN_PERCENT
        ]
        periods = {"day": _tr("daily"), "week": _tr("weekly"), "month": _tr("monthly")}
        lines.extend(
            _tr("{scope} {name}: {period} budget spent").format(
                scope=b.scope, name=b.name, period=periods.get(b.window, b.window)
            )
            for b in self.budgets
            if b.percent >= 100.0
        )
        return tuple(lines)

    @property
    def degraded(self) -> bool:
        return bool(self.attention)

    def _on_event(self, event: Event) -> None:
        if event.kind in REFRESH_ON and self._timer.isActive():
            self.refresh()

    def _on_state(self, state: str) -> None:
        if state != RUNNING and (self.windows or self.budgets):
            self.windows, self.budgets = (), ()
            self.changed.emit()

    async def _poll(self) -> None:
        if self._bridge.state != RUNNING:
            return
        service = self._bridge.service
        try:
            windows = tuple(await self._bridge.invoke(service.quota))
            budgets = tuple(await self._bridge.invoke(service.budgets))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not read the quota windows")
            return
        if (windows, budgets) != (self.windows, self.budgets):
            self.windows, self.budgets = windows, budgets
            self.changed.emit()
