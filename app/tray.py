"""The tray icon: status at a glance (icon + tooltip) and a menu for everyday actions.

States: running, degraded (running, but a provider is down, a connection needs a login, a
quota window is 80 % used or a budget is spent), stopped, error (the gateway could not
start). The Quota submenu lists every quota window (app/quota_feed.py feeds it). Clicking
the icon opens the window on Linux and Windows; on macOS a click shows the menu, as menu-bar
items do there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.bridge import ERROR, RUNNING, GatewayBridge
from app.icons import TrayState, tray_icon
from app.lifecycle.control import GatewayControl
from app.live import LiveStatus
from app.pages.home import format_cost
from app.quota_feed import QuotaFeed, window_short
from app.window.widgets import copy_text
from gateway.service import Event
from gateway.usage.tracker import WindowState

USAGE_PAGE = "usage"  # the page a quota entry opens (Home until the Usage page exists)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Tray", text)


@dataclass(frozen=True, slots=True)
class QuotaRow:
    """One quota window of one connection, as issue 5 reports it."""

    connection: str
    window: str  # e.g. "5h", "weekly"
    percent_used: float
    resets_at: float | None = None  # Unix time

    @classmethod
    def of(cls, state: WindowState) -> QuotaRow:
        return cls(state.name, state.window, state.percent, state.resets_at)


def countdown(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _tr("{days} d {hours} h").format(days=days, hours=hours)
    if hours:
        return _tr("{hours} h {minutes:02d} min").format(hours=hours, minutes=minutes)
    return _tr("{minutes} min").format(minutes=minutes)


class Tray(QObject):
    def __init__(
        self,
        bridge: GatewayBridge,
        *,
        open_window: Callable[[], None],
        create_key: Callable[[], None],
        open_logs: Callable[[], None],
        quit_app: Callable[[], None],
        open_page: Callable[[str], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``open_page(page_id)``: what a click on a quota entry calls (else ``open_window``)."""
        super().__init__(parent)
        self._bridge = bridge
        self._live = LiveStatus.of(bridge)
        self._quota = QuotaFeed.of(bridge)
        self._control = GatewayControl.of(bridge)
        self._open_window = open_window
        self._open_page = open_page or (lambda _page_id: open_window())
        self._create_key = create_key
        self.icon = QSystemTrayIcon(tray_icon("stopped"), self)
        self.menu = QMenu()
        self.toggle_action = self._action(_tr("Gateway on"), self._toggle)
        self.toggle_action.setCheckable(True)
        self.open_action = self._action(_tr("Open Switchboard"), open_window)
        self.menu.addSeparator()
        self.copy_endpoint_action = self._action(_tr("Copy endpoint URL"), self._copy_endpoint)
        self.copy_key_action = self._action(_tr("Copy API key"), self._copy_key)
        self.quota_menu = self.menu.addMenu(_tr("Quota"))
        self.menu.addSeparator()
        self.logs_action = self._action(_tr("Open logs folder"), open_logs)
        self.menu.addSeparator()
        self.quit_action = self._action(_tr("Quit Switchboard"), quit_app)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self._quota_rows: tuple[QuotaRow, ...] = ()
        self.set_quota_rows(())
        self._shown_state = ""
        bridge.state_changed.connect(self.refresh)
        bridge.event_received.connect(self._on_event)
        self._live.changed.connect(self.refresh)
        self._quota.changed.connect(self._quota_changed)
        self._control.busy_changed.connect(self.refresh)
        self.refresh()

    def _action(self, text: str, slot: Callable[[], None]) -> QAction:
        action = self.menu.addAction(text)
        action.triggered.connect(lambda *_: slot())
        return action

    # state ----------------------------------------------------------------------------------

    def state(self) -> TrayState:
        bridge_state = self._bridge.state
        if bridge_state == RUNNING:
            degraded = self._live.degraded or self._quota.degraded
            return "degraded" if degraded else "running"
        return "error" if bridge_state == ERROR else "stopped"

    def refresh(self, *_: object) -> None:
        state = self.state()
        if state != self._shown_state:
            self.icon.setIcon(tray_icon(state))
            self._shown_state = state
        self.icon.setToolTip(self.tooltip())
        running = self._bridge.state == RUNNING
        self.toggle_action.setChecked(running)
        self.toggle_action.setEnabled(not self._control.busy)
        self.copy_endpoint_action.setEnabled(bool(self._bridge.service.port))
        if self._bridge.service.created_key is not None:
            self.copy_key_action.setText(_tr("Copy API key"))
            self.copy_key_action.setEnabled(True)
        else:
            self.copy_key_action.setText(_tr("Create an API key…"))
            self.copy_key_action.setEnabled(running)

    def tooltip(self) -> str:
        service = self._bridge.service
        labels = {
            "running": _tr("running"),
            "degraded": _tr("running, needs attention"),
            "stopped": _tr("stopped"),
            "error": _tr("not running"),
        }
        lines = [_tr("Switchboard: {status}").format(status=labels[self.state()])]
        if service.port:
            lines.append(service.endpoint)
        summary = self._live.summary
        lines.append(
            _tr("Today: {requests} requests, {cost}").format(
                requests=summary.requests, cost=format_cost(summary.cost_usd)
            )
        )
        if self.state() == "degraded":
            lines.extend((*self._live.attention, *self._quota.attention)[:3])
        elif self.state() == "error" and self._bridge.last_error:
            lines.append(self._bridge.last_error)
        return "\n".join(lines)

    def set_quota_rows(self, rows: Sequence[QuotaRow], *, now: float | None = None) -> None:
        """Fill the quota submenu (issue 5 feeds it); an empty list shows how to get some."""
        self._quota_rows = tuple(rows)
        self.quota_menu.clear()
        if not rows:
            empty = self.quota_menu.addAction(
                _tr("No quota windows yet — add a provider with “switchboard connection add”")
            )
            empty.setEnabled(False)
            return
        moment = time.time() if now is None else now
        for row in rows:
            left = max(0.0, 100.0 - row.percent_used)
            text = _tr("{connection} · {window}: {left:.0f} % left").format(
                connection=row.connection, window=window_short(row.window), left=left
            )
            if row.resets_at is not None:
                text += " · " + _tr("resets in {time}").format(
                    time=countdown(row.resets_at - moment)
                )
            # enabled, so the figures read as clearly as the other entries; a click opens the
            # page with the details
            self._quota_action(text)

    def _quota_action(self, text: str) -> None:
        action = self.quota_menu.addAction(text)
        action.triggered.connect(lambda *_: self._open_page(USAGE_PAGE))

    def _quota_changed(self) -> None:
        self.set_quota_rows([QuotaRow.of(state) for state in self._quota.windows])
        self.refresh()

    # actions --------------------------------------------------------------------------------

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def show_hint(self, title: str, text: str) -> None:
        """A one-off message from the tray (e.g. "still running in the tray")."""
        self.icon.showMessage(title, text, tray_icon(self.state()), 8000)

    def _on_event(self, event: Event) -> None:
        if event.kind in ("started", "stopped", "key_created", "reloaded"):
            self.refresh()

    def _toggle(self) -> None:
        if self._control.set_running(self.toggle_action.isChecked()) is None:
            self.refresh()

    def _copy_endpoint(self) -> None:
        copy_text(self._bridge.service.endpoint)

    def _copy_key(self) -> None:
        key = self._bridge.service.created_key
        if key is not None:
            copy_text(key)
        else:
            self._create_key()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        click = QSystemTrayIcon.ActivationReason.Trigger
        double = QSystemTrayIcon.ActivationReason.DoubleClick
        if reason == double or (reason == click and sys.platform != "darwin"):
            self._open_window()
