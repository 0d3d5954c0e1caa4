"""Start at login, the way each OS expects it:

- Windows: a value named ``Switchboard`` under ``HKCU\\Software\\Microsoft\\Windows\\
  CurrentVersion\\Run`` holding the command line;
- macOS: a LaunchAgent ``~/Library/LaunchAgents/io.switchboard.app.plist`` with ``RunAtLoad``;
- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/switchboard.desktop``.

The command is this install's: the bundle's executable when frozen by PyInstaller, else this
Python running ``-m gateway``. The content is made by pure functions (tested on every
platform); enable/disable/is_enabled touch the disk or the registry, so call them off the GUI
thread. Rules and file contents: docs/notifications.md "Start at login".
"""

from __future__ import annotations

import contextlib
import importlib
import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from gateway.resources import resource_path

APP_NAME: Final = "Switchboard"
RUN_KEY: Final = r"Software\Microsoft\Windows\CurrentVersion\Run"
LAUNCH_AGENT: Final = "io.switchboard.app"
DESKTOP_FILE: Final = "switchboard.desktop"
# Exec arguments holding any of these must be quoted (Desktop Entry spec, "The Exec key").
_RESERVED: Final = frozenset(" \t\n\"'\\><~|&;$*?#()`")


class Autostart(Protocol):
    def enable(self) -> None: ...
    def disable(self) -> None: ...
    def is_enabled(self) -> bool: ...


def launch_command(
    *,
    frozen: bool | None = None,
    executable: str = sys.executable,
    platform: str = sys.platform,
) -> list[str]:
    """The argv that starts the desktop app of this install."""
    if frozen if frozen is not None else bool(getattr(sys, "frozen", False)):
        return [executable]
    path = Path(executable)
    if platform == "win32" and path.name.lower() == "python.exe":
        windowless = path.with_name("pythonw.exe")  # no console window at login
        if windowless.exists():
            executable = str(windowless)
    return [executable, "-m", "gateway"]


# content ---------------------------------------------------------------------------------


def windows_run_value(argv: Sequence[str]) -> str:
    """The Run value: one command line, quoted the way the Windows C runtime parses it."""
    return subprocess.list2cmdline(list(argv))


def macos_plist(argv: Sequence[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT,
            "ProgramArguments": list(argv),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
    )


def desktop_exec(argv: Sequence[str]) -> str:
    """The Exec value: arguments with reserved characters double-quoted, and inside quotes
    ``"`` `` ` `` ``$`` ``\\`` escaped; ``%`` doubled (field codes); then backslashes escaped
    again, as every string value of a desktop entry is."""
    words = []
    for arg in argv:
        if any(ch in arg for ch in "\n\r\t") or not arg:
            raise ValueError(f"cannot start at login with the argument {arg!r}")
        word = arg.replace("%", "%%")
        if any(ch in _RESERVED for ch in word):
            word = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in word) + '"'
        words.append(word)
    return " ".join(words).replace("\\", "\\\\")


def desktop_entry(argv: Sequence[str], icon: str) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=Local AI API gateway in the system tray\n"
        f"Exec={desktop_exec(argv)}\n"
        f"Icon={icon}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


# per platform ----------------------------------------------------------------------------


class LinuxAutostart:
    def __init__(self, argv: Sequence[str], config_home: Path, icon: str) -> None:
        self.argv = list(argv)
        self.path = config_home / "autostart" / DESKTOP_FILE
        self.icon = icon

    def enable(self) -> None:
        _write_atomically(self.path, desktop_entry(self.argv, self.icon).encode())

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)

    def is_enabled(self) -> bool:
        """The entry exists and the desktop has not switched it off (``Hidden=true``, or
        GNOME's ``X-GNOME-Autostart-enabled=false`` written by its settings tools)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        keys = dict(
            line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#"
        )
        return (
            keys.get("Hidden", "false").strip() != "true"
            and keys.get("X-GNOME-Autostart-enabled", "true").strip() != "false"
        )


class MacAutostart:
    def __init__(self, argv: Sequence[str], home: Path) -> None:
        self.argv = list(argv)
        self.path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT}.plist"

    def enable(self) -> None:
        _write_atomically(self.path, macos_plist(self.argv))  # launchd loads it at next login

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)

    def is_enabled(self) -> bool:
        return self.path.is_file()


class WindowsAutostart:
    def __init__(self, argv: Sequence[str], registry: Any = None) -> None:
        """``registry``: the ``winreg`` module (tests pass a fake one)."""
        self.argv = list(argv)
        self._registry = registry

    @property
    def winreg(self) -> Any:
        if self._registry is None:
            self._registry = importlib.import_module("winreg")  # exists on Windows only
        return self._registry

    def enable(self) -> None:
        reg = self.winreg
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            reg.SetValueEx(key, APP_NAME, 0, reg.REG_SZ, windows_run_value(self.argv))

    def disable(self) -> None:
        reg = self.winreg
        with (  # no key or no value: already off
            contextlib.suppress(FileNotFoundError),
            reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key,
        ):
            reg.DeleteValue(key, APP_NAME)

    def is_enabled(self) -> bool:
        reg = self.winreg
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_READ) as key:
                reg.QueryValueEx(key, APP_NAME)
        except FileNotFoundError:
            return False
        return True


def for_this_system(
    *,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
    argv: Sequence[str] | None = None,
) -> Autostart:
    argv = launch_command(platform=platform) if argv is None else argv
    if platform == "win32":
        return WindowsAutostart(argv)
    home = Path(environ.get("HOME") or Path.home())
    if platform == "darwin":
        return MacAutostart(argv, home)
    config_home = Path(environ.get("XDG_CONFIG_HOME", "").strip())
    if not config_home.is_absolute():  # unset or relative: the spec says use the default
        config_home = home / ".config"
    return LinuxAutostart(argv, config_home, str(resource_path("icons/switchboard.svg")))


def apply(enabled: bool, autostart: Autostart | None = None) -> None:
    """Make the system match the ``start_at_login`` setting (blocking: off the GUI thread)."""
    target = autostart or for_this_system()
    if enabled:
        target.enable()
    else:
        target.disable()


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
