"""Where the session bus is: the environment variable, else systemd's per-user socket."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from app.notify.choose import session_bus_address


def test_the_variable_wins_then_the_runtime_socket() -> None:
    with tempfile.TemporaryDirectory(prefix="sb-rt-") as folder:
        runtime = Path(folder)
        assert session_bus_address({"XDG_RUNTIME_DIR": folder}) is None
        (runtime / "bus").write_text("not a socket")
        assert session_bus_address({"XDG_RUNTIME_DIR": folder}) is None
        (runtime / "bus").unlink()
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(runtime / "bus"))
            assert session_bus_address({"XDG_RUNTIME_DIR": folder}) == f"unix:path={runtime}/bus"
            both = {"XDG_RUNTIME_DIR": folder, "DBUS_SESSION_BUS_ADDRESS": "unix:abstract=x"}
            assert session_bus_address(both) == "unix:abstract=x"
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": "  "}) is None
