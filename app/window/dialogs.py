"""Dialogs that never block the event loop: opened with ``open()``, answered through a future.

A coroutine awaits the answer while both loops keep running (``exec()`` inside a coroutine
would stall the GUI's loop, and with it a shared-mode gateway).
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget


def _tr(text: str) -> str:
    return QCoreApplication.translate("dialogs", text)


async def ask(box: QMessageBox, accept: object) -> bool:
    """Open ``box`` and wait until it closes; True when ``accept`` (a button) was clicked."""
    future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(_: int) -> None:
        if not future.done():
            future.set_result(box.clickedButton() is accept)

    box.finished.connect(finished)
    box.open()
    try:
        return await future
    finally:
        box.deleteLater()


async def ask_other_port(
    parent: QWidget | None, host: str, port: int, alternative: int, *, remember: bool
) -> bool:
    """The gateway's port is taken: offer ``alternative``. True when the user accepts."""
    box = QMessageBox(parent)
    box.setObjectName("port-in-use")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(_tr("Port in use"))
    box.setText(
        _tr("Another program is already using port {port} on {host}.").format(port=port, host=host)
    )
    later = (
        _tr("Switchboard will keep using it from now on.")
        if remember
        else _tr("This applies until Switchboard quits.")
    )
    box.setInformativeText(
        _tr(
            "Switchboard can listen on port {alternative} instead; point your tools at "
            "http://{host}:{alternative}. {later}"
        ).format(alternative=alternative, host=host, later=later)
    )
    use = box.addButton(
        _tr("Use port {port}").format(port=alternative), QMessageBox.ButtonRole.AcceptRole
    )
    box.addButton(_tr("Not now"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(use)
    return await ask(box, use)


def show_problem(parent: QWidget | None, title: str, text: str, details: str = "") -> QMessageBox:
    """A non-blocking warning with an OK button (returned so tests can find and close it)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setModal(False)
    box.finished.connect(box.deleteLater)
    box.show()
    return box
