"""GatewayControl: turning the gateway on and off from the GUI (Home switch, tray toggle).

Starting handles what the user can fix on the spot: a port taken by another program offers the
next free port in a dialog and, if accepted, starts there without restarting the app (stored
as the port setting unless --port was given). Other failures are reported through ``failed``.
One per bridge, as its Qt child (``GatewayControl.of(bridge)``), like LiveStatus.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QWidget

from app.bridge import RUNNING, GatewayBridge
from app.tasks import spawn
from app.window.dialogs import ask_other_port
from gateway.config import commands
from gateway.service import PortInUseError, ServiceError

PORT_SEARCH = 100  # how many ports after the taken one are tried
log = logging.getLogger("switchboard.desktop")


def find_free_port(host: str, first: int, count: int = PORT_SEARCH) -> int | None:
    """The first port from ``first`` on that ``host`` lets us bind (blocking: a thread)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in range(first, min(first + count, 65536)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    return None


class GatewayControl(QObject):
    busy_changed = Signal(bool)
    failed = Signal(str)  # why starting failed, for the user

    def __init__(self, bridge: GatewayBridge, *, explicit_port: bool = False) -> None:
        super().__init__(bridge)
        self._bridge = bridge
        self.explicit_port = explicit_port  # --port given: a new port is not stored
        self.dialog_parent: Callable[[], QWidget | None] = lambda: None
        self._busy = False

    @classmethod
    def of(cls, bridge: GatewayBridge) -> GatewayControl:
        found = bridge.findChild(cls)
        return found if isinstance(found, cls) else cls(bridge)

    @property
    def busy(self) -> bool:
        return self._busy

    async def wait_idle(self, limit_s: float) -> None:
        """Until no start or stop is under way (at most ``limit_s``)."""
        if not self._busy:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def changed(busy: bool) -> None:
            if not busy and not done.done():
                done.set_result(None)

        self.busy_changed.connect(changed)
        try:
            await asyncio.wait_for(done, limit_s)
        except TimeoutError:
            log.warning("the gateway was still starting or stopping after %s s", limit_s)
        finally:
            self.busy_changed.disconnect(changed)

    def set_running(self, on: bool) -> asyncio.Task[bool] | None:
        """Start or stop in the background (a switch's slot); None when already busy."""
        if self._busy:
            return None
        return spawn(self.start() if on else self._stopped())

    async def _stopped(self) -> bool:
        await self.stop()
        return False

    async def start(self) -> bool:
        if self._bridge.state == RUNNING:
            return True
        self._set_busy(True)
        try:
            return await self._start()
        finally:
            self._set_busy(False)

    async def stop(self) -> None:
        self._set_busy(True)
        try:
            await self._bridge.stop()
        finally:
            self._set_busy(False)

    async def _start(self) -> bool:
        service = self._bridge.service
        new_port: int | None = None
        while True:
            try:
                await self._bridge.start()
                break
            except PortInUseError:
                host, port = service.host, service.port
                alternative = await asyncio.to_thread(find_free_port, host, port + 1)
                if alternative is None:
                    self.failed.emit(self._bridge.last_error)
                    return False
                remember = not self.explicit_port
                if not await ask_other_port(
                    self.dialog_parent(), host, port, alternative, remember=remember
                ):
                    return False
                service.use_port(alternative)
                new_port = alternative
            except ServiceError as exc:
                self.failed.emit(str(exc))
                return False
            except Exception as exc:
                log.exception("the gateway failed to start")
                self.failed.emit(_tr("The gateway failed to start: {error}").format(error=exc))
                return False
        if new_port is not None and not self.explicit_port:
            await self._bridge.call(commands.set_settings, service.context, {"port": new_port})
        return True

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def _tr(text: str) -> str:
    return QCoreApplication.translate("GatewayControl", text)
