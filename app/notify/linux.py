"""Linux (and other freedesktop systems): notifications over D-Bus, sent with jeepney.

Qt's ``QSystemTrayIcon.showMessage`` is dropped without a tray and draws its own balloon on
XEmbed trays, so the notification server is called directly:
``org.freedesktop.Notifications.Notify`` (signature ``susssasa{sv}i``). Every D-Bus call runs
on one worker thread; ``notify`` only puts the note in a bounded queue, so the GUI thread never
waits on the bus (measured in docs/notifications.md). A click arrives as the server's
``ActionInvoked`` signal for the "default" action; the worker maps the notification id back
to its page and hands it to the GUI thread through a queued Qt signal.
"""

from __future__ import annotations

import contextlib
import html
import logging
import queue
import threading
from collections import OrderedDict
from typing import Final

from jeepney import DBusAddress, HeaderFields, MatchRule, Message, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusConnection, DBusRouter, open_dbus_connection
from jeepney.wrappers import unwrap_msg
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from app.notify.note import ClickHandler, Note

log = logging.getLogger("switchboard.notify")

SERVICE: Final = "org.freedesktop.Notifications"
NOTIFICATIONS = DBusAddress("/org/freedesktop/Notifications", bus_name=SERVICE, interface=SERVICE)
SIGNALS = MatchRule(type="signal", interface=SERVICE, path="/org/freedesktop/Notifications")
APP_NAME: Final = "Switchboard"
DESKTOP_ENTRY: Final = "switchboard"  # the .desktop file's name, without the suffix
CALL_TIMEOUT_S: Final = 5.0
MAX_PENDING: Final = 64  # notes (and server signals) waiting for the worker
MAX_SHOWN: Final = 64  # notification ids remembered for clicks


class _ClickRelay(QObject):
    """Lives on the GUI thread; the worker's emit is queued to it."""

    clicked = Signal(str)

    def __init__(self, on_click: ClickHandler | None) -> None:
        super().__init__()
        self._on_click = on_click
        self.clicked.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(str)
    def _deliver(self, page_id: str) -> None:
        if self._on_click is not None:
            self._on_click(page_id)


class LinuxNotifier:
    def __init__(
        self,
        on_click: ClickHandler | None = None,
        *,
        address: str,
        icon: str = "",
        timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        """``address``: the session bus (``unix:path=…``); ``icon``: a file:// URI or an icon
        theme name shown with each notification."""
        self._address = address
        self._icon = icon
        self._timeout_s = timeout_s
        self._open_label = QCoreApplication.translate("Notifications", "Open")
        self._relay = _ClickRelay(on_click)
        self._inbox: queue.Queue[Note | Message | None] = queue.Queue(MAX_PENDING)
        self._closing = threading.Event()
        self._said: set[str] = set()  # problems already logged: each once
        self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
        self._thread.start()

    # GUI thread ------------------------------------------------------------------------------

    def notify(self, note: Note) -> None:
        if self._closing.is_set():
            return
        try:
            self._inbox.put_nowait(note)
        except queue.Full:
            self._once("too many notifications at once; dropping some")

    @property
    def idle(self) -> bool:
        """Nothing queued or being sent (tests wait for it)."""
        return self._inbox.unfinished_tasks == 0

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(queue.Full):  # if full, the worker sees _closing next
            self._inbox.put_nowait(None)
        self._thread.join(timeout=2 * self._timeout_s)

    # worker thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        bus: _Bus | None = None
        shown: OrderedDict[int, str] = OrderedDict()  # notification id -> page id
        try:
            while not self._closing.is_set():
                item = self._inbox.get()
                if item is None:
                    break
                try:
                    bus = self._handle(item, bus, shown)
                finally:
                    self._inbox.task_done()
        finally:
            if bus is not None:
                bus.close()

    def _handle(
        self, item: Note | Message, bus: _Bus | None, shown: OrderedDict[int, str]
    ) -> _Bus | None:
        """Show a note or act on a server signal; the connection to use next."""
        if isinstance(item, Message):
            self._on_signal(item, shown)
            return bus
        bus = bus or self._connect()
        if bus is None:
            return None
        try:
            shown[bus.send(item, self._icon, self._open_label)] = item.page_id
        except Exception as exc:  # the bus or the server went away: reconnect next time
            self._once(f"cannot show a notification: {type(exc).__name__}: {exc}")
            bus.close()
            return None
        while len(shown) > MAX_SHOWN:
            shown.popitem(last=False)
        return bus

    def _connect(self) -> _Bus | None:
        try:
            return _Bus(self._address, self._inbox, self._timeout_s)
        except Exception as exc:
            self._once(
                f"cannot reach the notification server on {self._address}: "
                f"{type(exc).__name__}: {exc}"
            )
            return None

    def _on_signal(self, message: Message, shown: OrderedDict[int, str]) -> None:
        member = message.header.fields.get(HeaderFields.member)
        if member == "ActionInvoked" and message.header.fields.get(HeaderFields.signature) == "us":
            notification_id, action = message.body
            page_id = shown.get(notification_id)
            if page_id is not None and action == "default":
                self._relay.clicked.emit(page_id)
        elif member == "NotificationClosed" and message.body:
            shown.pop(message.body[0], None)

    def _once(self, problem: str) -> None:
        if problem not in self._said and len(self._said) < 32:
            self._said.add(problem)
            log.warning("desktop notifications: %s", problem)


class _Bus:
    """One session-bus connection: the server's signals go to ``inbox``; ``send`` blocks."""

    def __init__(self, address: str, inbox: queue.Queue[Note | Message | None], timeout: float):
        self._timeout = timeout
        self._conn: DBusConnection = open_dbus_connection(address, auth_timeout=timeout)
        self._router = DBusRouter(self._conn)
        try:
            self._filter = self._router.filter(SIGNALS, queue=inbox)
            self._call(message_bus.AddMatch(SIGNALS))
            (caps,) = self._call(new_method_call(NOTIFICATIONS, "GetCapabilities"))
        except BaseException:
            self.close()
            raise
        names = set(caps) if isinstance(caps, list) else set()
        self.actions = "actions" in names
        self.markup = "body-markup" in names

    def _call(self, message: Message) -> tuple[object, ...]:
        reply = self._router.send_and_get_reply(message, timeout=self._timeout)
        return tuple(unwrap_msg(reply))

    def send(self, note: Note, icon: str, open_label: str) -> int:
        """Show ``note``; the server's id for it."""
        actions = ["default", open_label] if self.actions else []
        body = html.escape(note.body, quote=False) if self.markup else note.body
        hints = {"desktop-entry": ("s", DESKTOP_ENTRY), "urgency": ("y", 1)}
        args = (APP_NAME, 0, icon, note.title, body, actions, hints, -1)
        (notification_id,) = self._call(
            new_method_call(NOTIFICATIONS, "Notify", "susssasa{sv}i", args)
        )
        assert isinstance(notification_id, int)
        return notification_id

    def close(self) -> None:
        self._router.close()
        self._conn.close()
