"""A private D-Bus session bus and a fake notification server on it, for tests.

``private_session_bus()`` runs ``dbus-daemon`` (the Debian ``dbus`` package, installed by
.ci/run) with a minimal configuration: no service activation, so nothing but what the test
starts can own a name. Children write their output to files (an unread pipe can freeze them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

from tests.support.processes import REPO_ROOT

START_TIMEOUT_S = 15.0

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _wait(ready: Callable[[], bool], what: str, log: Path, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if child.poll() is not None or time.monotonic() > deadline:
            output = log.read_text(errors="replace") if log.exists() else ""
            raise AssertionError(f"{what} did not start (exit {child.returncode}): {output}")
        time.sleep(0.02)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)


@contextlib.contextmanager
def private_session_bus() -> Iterator[str]:
    """A dbus-daemon of the test's own; yields its address (``unix:path=…``)."""
    daemon = shutil.which("dbus-daemon")
    assert daemon, "dbus-daemon is missing: apt-get install dbus (see .ci/run)"
    # A short folder: a unix socket path must stay under 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="sb-bus-"))
    path = folder / "bus"
    config = folder / "session.conf"
    config.write_text(CONFIG.format(socket=path), encoding="utf-8")
    log = folder / "dbus-daemon.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [daemon, f"--config-file={config}", "--nofork", "--nopidfile", "--nosyslog"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: _connectable(path), "dbus-daemon", log, child)
        yield f"unix:path={path}"
    finally:
        _stop(child)
        shutil.rmtree(folder, ignore_errors=True)


def _connectable(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
        return True


@contextlib.contextmanager
def fake_notification_server(
    address: str, record: Path, *, caps: str = "actions,body", delay_ms: float = 0.0
) -> Iterator[subprocess.Popen[bytes]]:
    """``tests/support/fake_notifications.py`` as a child on the bus at ``address``, recording
    to ``record``; ready (owning its name) when the block starts."""
    log = record.with_suffix(".log")
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "PYTHONPATH": str(REPO_ROOT)}
    argv = [sys.executable, "-m", "tests.support.fake_notifications", "--record", str(record)]
    argv += ["--caps", caps, "--delay-ms", str(delay_ms)]
    with log.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait(lambda: "ready" in log.read_text(errors="replace"), "the fake server", log, child)
        yield child
    finally:
        _stop(child)


def invoke_action(address: str, notification_id: int, action: str = "default") -> None:
    """Make the fake server emit ``ActionInvoked(notification_id, action)``: a user's click."""
    target = DBusAddress(
        "/org/freedesktop/Notifications",
        bus_name="org.freedesktop.Notifications",
        interface="io.switchboard.FakeNotifications",
    )
    with open_dbus_connection(address) as conn:
        message = new_method_call(target, "InvokeAction", "us", (notification_id, action))
        conn.send_and_get_reply(message, timeout=5)
