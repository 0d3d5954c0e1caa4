"""SIGINT/SIGTERM quit the desktop app gracefully, as they stop the headless gateway.

Python runs signal handlers only between bytecodes, and Qt's C++ event loop may not run any
Python for a while; so the C-level handler writes to a socket (``signal.set_wakeup_fd``) that
a QSocketNotifier watches, and the quit runs as an ordinary Qt callback.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def install_quit_signals(on_signal: Callable[[], None], parent: QObject) -> Callable[[], None]:
    """Call ``on_signal`` on the GUI thread for SIGINT/SIGTERM; returns the uninstaller."""
    if sys.platform == "win32":
        return lambda: None  # no wakeup sockets for console signals there; Ctrl+C only
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno())
    previous = {signum: signal.signal(signum, lambda *_: None) for signum in QUIT_SIGNALS}
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, parent)

    def readable() -> None:
        got = b""
        with contextlib.suppress(OSError):
            got = reader.recv(64)
        if any(byte in (int(s) for s in QUIT_SIGNALS) for byte in got):
            on_signal()

    notifier.activated.connect(readable)

    def uninstall() -> None:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        reader.close()
        writer.close()

    return uninstall
