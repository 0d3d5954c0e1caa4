"""A bug in a GUI slot is logged and shown, and never takes the gateway down.

PySide6 hands an exception raised in a slot to ``sys.excepthook`` and carries on; so do tasks
started with app.tasks.spawn and the qasync loop's exception handler. The reporter logs the
traceback and shows one non-blocking dialog (further crashes while it is open only count up).
Qt's own warnings go to the log through a message handler.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("switchboard.desktop")
qt_log = logging.getLogger("switchboard.qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

ExcHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


class CrashReporter(QObject):
    def __init__(
        self, dialog_parent: Callable[[], QWidget | None] = lambda: None, log_hint: str = ""
    ) -> None:
        super().__init__()
        self._dialog_parent = dialog_parent
        self._log_hint = log_hint  # where the details were written, for the dialog
        self.count = 0  # crashes reported
        self.dialog: QMessageBox | None = None
        self._previous_hook: ExcHook | None = None
        self._previous_qt: object = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._previous_hook = sys.excepthook
        sys.excepthook = self.report
        self._previous_qt = qInstallMessageHandler(self._qt_message)
        if loop is not None:
            self._loop = loop
            loop.set_exception_handler(self._loop_exception)

    def uninstall(self) -> None:
        if self._previous_hook is not None:
            sys.excepthook = self._previous_hook
            self._previous_hook = None
        qInstallMessageHandler(self._previous_qt)  # type: ignore[arg-type]
        if self._loop is not None:
            self._loop.set_exception_handler(None)
            self._loop = None
        if self.dialog is not None:
            self.dialog.close()

    def report(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return
        self.count += 1
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error in the desktop app (the gateway keeps running)\n%s", details)
        try:
            self._show(f"{kind.__name__}: {exc}", details)
        except Exception:  # showing must never raise back into Qt
            log.exception("could not show the error dialog")

    def _show(self, summary: str, details: str) -> None:
        if self.dialog is not None:
            self.dialog.setInformativeText(self._informative(summary))
            self.dialog.setDetailedText(details)
            return
        box = QMessageBox(self._dialog_parent())
        box.setObjectName("crash-report")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(self.tr("Switchboard: unexpected error"))
        box.setText(
            self.tr(
                "Something went wrong in Switchboard's window. The gateway keeps running and "
                "your tools are not affected."
            )
        )
        box.setInformativeText(self._informative(summary))
        box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setModal(False)
        box.finished.connect(self._closed)
        self.dialog = box
        box.show()

    def _informative(self, summary: str) -> str:
        text = summary
        if self.count > 1:
            text += "\n" + self.tr("({count} errors so far)").format(count=self.count)
        if self._log_hint:
            text += "\n" + self.tr("Details are in {path}.").format(path=self._log_hint)
        return text

    def _closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.report(type(exc), exc, exc.__traceback__)
        else:
            log.error("event loop: %s", context.get("message", context))

    def _qt_message(self, kind: QtMsgType, _: QMessageLogContext, message: str) -> None:
        qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)
