"""Is there a screen for the desktop app? Answered without importing Qt.

Qt aborts the whole process (not an exception) when its platform plugin cannot connect, so
``switchboard`` checks first: on Linux and the BSDs a Wayland socket or an X server that accepts
a connection; an explicit ``QT_QPA_PLATFORM`` other than xcb/wayland (offscreen, vnc, ...) is
taken at its word. Windows and macOS always have one.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

X_CONNECT_TIMEOUT_S = 0.5
_DISPLAY_RE = re.compile(r"^(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?$")


def display_available(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform in ("win32", "darwin"):
        return True
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen == "xcb":
        return x_server_reachable(env.get("DISPLAY", ""))
    if chosen == "wayland":
        return wayland_socket_exists(env)
    if chosen:
        return True
    return wayland_socket_exists(env) or x_server_reachable(env.get("DISPLAY", ""))


def wayland_socket_exists(env: Mapping[str, str]) -> bool:
    name = env.get("WAYLAND_DISPLAY", "")
    if not name:
        return False
    path = Path(name) if name.startswith("/") else Path(env.get("XDG_RUNTIME_DIR", "")) / name
    return path.is_socket()


def x_server_reachable(display: str) -> bool:
    """Whether the X server named by ``display`` (``:0``, ``host:10.0``) accepts a connection."""
    match = _DISPLAY_RE.match(display.strip())
    if match is None:
        return False
    host, number = match["host"], int(match["number"])
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        # Linux X servers also listen on an abstract socket of the same name.
        targets: list[str | bytes] = [path, b"\0" + path.encode()]
        return any(_connects_unix(target) for target in targets)
    try:
        with socket.create_connection((host, 6000 + number), timeout=X_CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def _connects_unix(address: str | bytes) -> bool:
    if not hasattr(socket, "AF_UNIX"):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(X_CONNECT_TIMEOUT_S)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True
