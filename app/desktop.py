"""Desktop: puts the app together and runs its life, from the first window to a clean quit.

    open()   settings → theme, language → window, tray, notifications, crash reporter → shown
             (or minimized)
    start()  the gateway through GatewayControl (a taken port offers another)
    quit()   hide everything, drain the gateway (requests in flight: up to 10 s), end its thread

Closing the window hides it to the tray (close_to_tray, a one-time hint) or quits. Settings
changed while running (the Settings page, the CLI) re-apply theme and behaviour on reload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from app.bridge import GatewayBridge
from app.icons import app_icon
from app.lifecycle.control import GatewayControl
from app.lifecycle.crash import CrashReporter
from app.lifecycle.logs import log_dir
from app.live import LiveStatus
from app.notify import ClickHandler, NotificationPolicy, Notifier, default_notifier, enabled_by
from app.pages.home import HomePage
from app.quota_feed import QuotaFeed
from app.single_instance import SingleInstance
from app.tasks import spawn
from app.theme import ThemeManager
from app.translations import install_translator
from app.tray import Tray
from app.ui_state import UiState
from app.window.dialogs import show_problem
from app.window.main_window import MainWindow
from gateway.config.snapshot import Settings
from gateway.service import Event

log = logging.getLogger("switchboard.desktop")
# Makes the notifier: (open a page on click, the tray icon or None) -> Notifier.
NotifierFactory = Callable[[ClickHandler, QSystemTrayIcon | None], Notifier]
CLOSE_HINT = "close-to-tray"
TRAY_WATCH_MS, TRAY_WATCH_TRIES = 2000, 30  # look for a late system tray for a minute
QUIT_WAIT_S = 15.0  # for a start or stop under way before quitting stops the gateway


def open_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class Desktop(QObject):
    def __init__(
        self,
        app: QApplication,
        bridge: GatewayBridge,
        *,
        instance: SingleInstance | None = None,
        explicit_port: bool = False,
        tray_available: bool | Callable[[], bool] | None = None,
        open_path: Callable[[Path], None] = open_folder,
        log_file: Path | None = None,
        announce: Callable[[str], None] | None = None,
        make_notifier: NotifierFactory = default_notifier,
    ) -> None:
        super().__init__()
        self.app = app
        self.bridge = bridge
        self.service = bridge.service
        self.instance = instance
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable
        fixed = bool(tray_available)
        self._tray_probe = tray_available if callable(tray_available) else lambda: fixed
        self.tray_watch = QTimer(self, interval=TRAY_WATCH_MS)
        self.tray_watch.timeout.connect(self._look_for_tray)
        self._tray_watch_left = TRAY_WATCH_TRIES
        self._open_path = open_path
        self._announce = announce  # prints "listening on" lines when run from a terminal
        self.log_file = log_file
        self.live = LiveStatus.of(bridge)
        self.quota = QuotaFeed.of(bridge)
        self.control = GatewayControl.of(bridge)
        self.control.explicit_port = explicit_port
        self.ui_state = UiState(self.service.data_dir)
        self.theme = ThemeManager(app)
        self.settings = Settings()
        self.window: MainWindow | None = None
        self.tray: Tray | None = None
        self._make_notifier = make_notifier
        self.notifier: Notifier | None = None
        self.notifications: NotificationPolicy | None = None
        self.crash = CrashReporter(lambda: self.window, str(log_file) if log_file else "")
        self._done: asyncio.Future[int] | None = None
        self._quitting = False

    # life -----------------------------------------------------------------------------------

    async def run(self) -> int:
        """Open, start the gateway, then wait until quit; the exit code."""
        await self.open()
        await self.start()
        return await self.closed()

    @property
    def opened(self) -> bool:
        return self._done is not None

    async def closed(self) -> int:
        """Wait until the app has quit (gateway stopped, thread ended); the exit code."""
        assert self._done is not None, "open() first"
        return await asyncio.shield(self._done)

    async def open(self) -> None:
        self._done = asyncio.get_running_loop().create_future()
        self.crash.install(asyncio.get_running_loop())
        self.settings = await asyncio.to_thread(self.service.read_settings)
        self.theme.apply(self.settings.theme)
        install_translator(self.app, self.settings.language, self)
        self.app.setWindowIcon(app_icon())
        window = MainWindow(self.bridge)
        window.setWindowIcon(app_icon())
        self.window = window
        window.close_requested.connect(self.close_window)
        self.control.dialog_parent = lambda: self.window
        self.control.failed.connect(self._start_failed)
        self.bridge.event_received.connect(self._on_event)
        self.bridge.state_changed.connect(self._on_state)
        if self.instance is not None:
            self.instance.activated.connect(window.bring_forward)
        if geometry := self.ui_state.geometry():
            window.restoreGeometry(geometry)
        if not self._make_tray():
            window.show_notice(
                self.tr(
                    "Your desktop has no system tray, so Switchboard lives in this window: "
                    "closing it quits Switchboard and stops the gateway."
                )
            )
            self.tray_watch.start()  # a panel started after us (login) may bring one
        self._start_notifications()
        minimized = self.settings.start_minimized and self.tray is not None
        if not minimized:
            window.bring_forward()
        log.info(
            "window %s; system tray %s (Qt platform %s)",
            "hidden (start minimized)" if minimized else "shown",
            "available" if self.tray is not None else "not available",
            QGuiApplication.platformName(),
        )
        self.live.start()
        self.quota.start()

    def _make_tray(self) -> bool:
        if self.tray is not None or not self._tray_probe():
            return self.tray is not None
        self.tray = Tray(
            self.bridge,
            open_window=lambda: self.show_page(HomePage.page_id),
            create_key=self.create_key,
            open_logs=self.open_logs,
            quit_app=self.quit,
            open_page=self.open_page,
            parent=self,
        )
        self.tray.show()
        return True

    def _start_notifications(self) -> None:
        tray_icon = self.tray.icon if self.tray is not None else None
        self.notifier = self._make_notifier(self.open_page, tray_icon)
        self.notifications = NotificationPolicy(self.notifier, enabled_by(self.service))
        self.bridge.event_received.connect(self.notifications.handle)

    def _look_for_tray(self) -> None:
        self._tray_watch_left -= 1
        if self._make_tray():
            log.info("a system tray appeared: the tray icon is shown")
            if self.window is not None:
                self.window.show_notice("")
        if self.tray is not None or self._tray_watch_left <= 0:
            self.tray_watch.stop()

    async def start(self) -> bool:
        started = await self.control.start()
        if started and self._announce is not None:
            self._announce(f"Switchboard gateway listening on {self.service.endpoint}")
            self._announce(f"Data folder: {self.service.data_dir}")
        return started

    def quit(self, code: int = 0) -> None:
        """Quit gracefully (the tray's Quit, a signal, closing without a tray)."""
        if not self._quitting:
            self._quitting = True
            spawn(self._quit(code))

    async def _quit(self, code: int) -> None:
        log.info("quitting: stopping the gateway")
        self.tray_watch.stop()
        if self.window is not None:
            self.ui_state.set_geometry(self.window.saveGeometry())
            for box in self.window.findChildren(QMessageBox):  # e.g. a port question
                box.reject()
            self.window.hide()
        if self.tray is not None:
            self.tray.hide()
        self.live.stop()
        self.quota.stop()
        if self.notifications is not None:
            self.bridge.event_received.disconnect(self.notifications.handle)
        if self.notifier is not None:
            self.notifier.close()
        await self.control.wait_idle(QUIT_WAIT_S)  # a start or stop under way ends first
        try:
            await self.bridge.stop()  # requests in flight get up to the shutdown timeout
        except Exception:
            log.exception("the gateway did not stop cleanly")
            code = code or 1
        finally:
            self.bridge.close()
            self.ui_state.sync()
            self.crash.uninstall()
            if self.instance is not None:
                self.instance.close()
            if self._done is not None and not self._done.done():
                self._done.set_result(code)

    # window ---------------------------------------------------------------------------------

    def close_window(self) -> None:
        """The window's close button: hide to the tray, or quit."""
        if self.window is None:
            return
        if self.tray is None or not self.settings.close_to_tray:
            self.quit()
            return
        self.window.hide()
        if not self.ui_state.hint_shown(CLOSE_HINT):
            self.ui_state.mark_hint_shown(CLOSE_HINT)
            self.tray.show_hint(
                self.tr("Switchboard is still running"),
                self.tr(
                    "The gateway keeps serving your tools from the tray. Quit Switchboard from "
                    "the tray menu."
                ),
            )

    def show_page(self, page_id: str) -> None:
        if self.window is not None:
            self.window.show_page(page_id)

    def open_page(self, page_id: str) -> None:
        """A notification's click: its page, or Home for a page this build does not have
        (Usage, Health and Providers come with later issues)."""
        if self.window is not None and self.window.show_page(page_id) is None:
            self.window.show_page(HomePage.page_id)

    def create_key(self) -> None:
        if self.window is None:
            return
        page = self.window.show_page(HomePage.page_id)
        if isinstance(page, HomePage):
            page.request_new_key()

    def open_logs(self) -> None:
        self._open_path(log_dir(self.service.data_dir))

    # events ---------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.kind in ("started", "reloaded"):
            self._apply_settings(self.service.snapshot.settings)

    def _on_state(self, state: str) -> None:
        if self.tray is not None:
            self.tray.refresh()

    def _apply_settings(self, settings: Settings) -> None:
        previous, self.settings = self.settings, settings
        if settings.theme != previous.theme:
            self.theme.apply(settings.theme)

    def _start_failed(self, message: str) -> None:
        if self.notifications is not None:
            self.notifications.handle(Event("gateway_failed", detail=message))
        if self.window is not None and not self.window.isVisible():
            self.window.bring_forward()
        show_problem(self.window, self.tr("The gateway did not start"), message)
