"""A fake desktop notification server, run as a child process on a test's session bus.

``python -m tests.support.fake_notifications --record FILE`` owns
``org.freedesktop.Notifications`` (the bus in ``DBUS_SESSION_BUS_ADDRESS``), answers
``GetCapabilities`` and ``GetServerInformation``, and appends each ``Notify`` call to FILE as
one JSON line (``app_name``, ``replaces_id``, ``app_icon``, ``summary``, ``body``,
``actions``, ``hints`` as ``{name: [signature, value]}``, ``expire_timeout`` and the ``id`` it
answered). The test drives clicks through an extra method,
``io.switchboard.FakeNotifications.InvokeAction(u id, s action)``, which emits the standard
``ActionInvoked`` signal. It must be a child: a test process hosting the server on its own
connection deadlocks calls it makes to itself (platform-notes.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import DBusNameFlags, message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CONTROL = "io.switchboard.FakeNotifications"
EMITTER = DBusAddress(PATH, interface=SERVICE)
SERVER_INFO = ("fake-notifications", "switchboard-tests", "1.0", "1.2")


class FakeServer:
    def __init__(self, conn: DBusConnection, record: Path, caps: list[str], delay_s: float):
        self.conn = conn
        self.record = record
        self.caps = caps
        self.delay_s = delay_s
        self.next_id = 1

    def serve(self) -> None:
        while True:
            message = self.conn.receive()
            if message.header.message_type is MessageType.method_call:
                self.conn.send(self.answer(message))

    def answer(self, call: Message) -> Message:
        member = call.header.fields.get(HeaderFields.member)
        if member == "Notify":
            return new_method_return(call, "u", (self.notify(call.body),))
        if member == "GetCapabilities":
            return new_method_return(call, "as", (self.caps,))
        if member == "GetServerInformation":
            return new_method_return(call, "ssss", SERVER_INFO)
        if member == "CloseNotification":
            self.conn.send(new_signal(EMITTER, "NotificationClosed", "uu", (call.body[0], 3)))
            return new_method_return(call)
        if member == "InvokeAction":
            notification_id, action = call.body
            self.conn.send(new_signal(EMITTER, "ActionInvoked", "us", (notification_id, action)))
            return new_method_return(call)
        if member == "Ping":
            return new_method_return(call)
        return new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),))

    def notify(self, body: tuple[Any, ...]) -> int:
        if self.delay_s:
            time.sleep(self.delay_s)  # a slow server: the caller must not wait on it
        app_name, replaces_id, icon, summary, text, actions, hints, expire = body
        notification_id = replaces_id or self.next_id
        self.next_id += 1
        entry = {
            "app_name": app_name,
            "replaces_id": replaces_id,
            "app_icon": icon,
            "summary": summary,
            "body": text,
            "actions": actions,
            "hints": {name: [sig, value] for name, (sig, value) in hints.items()},
            "expire_timeout": expire,
            "id": notification_id,
        }
        with self.record.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        return int(notification_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--caps", default="actions,body", help="comma-separated capabilities")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="before answering Notify")
    args = parser.parse_args(argv)
    conn = open_dbus_connection("SESSION")
    reply = conn.send_and_get_reply(
        message_bus.RequestName(SERVICE, DBusNameFlags.do_not_queue), timeout=10
    )
    if reply.body != (1,):  # 1: primary owner
        print(f"could not own {SERVICE}: {reply.body}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    caps = [c for c in args.caps.split(",") if c]
    FakeServer(conn, args.record, caps, args.delay_ms / 1000).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
