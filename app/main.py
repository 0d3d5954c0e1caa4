"""``switchboard`` (no command, with a display): the desktop app.

A QApplication on a qasync loop (GUI-side asyncio); the gateway in the same process on its own
loop thread, or on the GUI's loop with ``--gateway-loop shared`` (app/bridge.py). A second
launch for the same data folder brings the first one's window forward and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import qasync  # type: ignore[import-untyped]
from PySide6.QtWidgets import QApplication

from app.bridge import GatewayBridge
from app.desktop import Desktop
from app.lifecycle.gc_guard import GuiThreadCollector
from app.lifecycle.logs import setup_logging
from app.lifecycle.signals import install_quit_signals
from app.single_instance import SingleInstance
from gateway.paths import resolve_data_dir
from gateway.service import GatewayService

SHUTDOWN_GRACE_S = 10.0
log = logging.getLogger("switchboard.desktop")


def _print(line: str) -> None:
    print(line, flush=True)


def run_desktop(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Switchboard")
    app.setApplicationDisplayName("Switchboard")
    app.setDesktopFileName("switchboard")
    app.setQuitOnLastWindowClosed(False)  # the tray keeps it alive; Desktop decides on quit

    instance = SingleInstance(data_dir)
    if instance.notify_running():
        _print(f"Switchboard is already running for {data_dir}; brought its window forward.")
        return 0
    instance.listen()

    log_file, stop_logging = setup_logging(data_dir)
    port = getattr(args, "port", None)
    service = GatewayService(data_dir, port=port, shutdown_timeout=SHUTDOWN_GRACE_S)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    bridge = GatewayBridge(service, loop_mode=getattr(args, "gateway_loop", "thread"))
    desktop = Desktop(
        app,
        bridge,
        instance=instance,
        explicit_port=port is not None,
        log_file=log_file,
        announce=_print,
    )
    uninstall_signals = install_quit_signals(desktop.quit, desktop)
    collector = GuiThreadCollector(desktop)
    collector.start()
    try:
        with loop:
            try:
                code: int = loop.run_until_complete(desktop.run())
            except RuntimeError:
                if not desktop.opened:
                    raise
                # Qt's loop was ended from outside (app.quit(), the session ending): still
                # stop the gateway gracefully.
                log.warning("the event loop ended before Switchboard quit", exc_info=True)
                desktop.quit()
                code = loop.run_until_complete(desktop.closed())
    finally:
        collector.stop()
        uninstall_signals()
        stop_logging()
    return code
