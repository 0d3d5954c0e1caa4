"""Start at login: the real XDG autostart file on Linux (written, exact, removed), and the
Windows Run value and macOS LaunchAgent from their generated content."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.autostart import (
    RUN_KEY,
    LinuxAutostart,
    MacAutostart,
    WindowsAutostart,
    apply,
    desktop_exec,
    for_this_system,
    launch_command,
    macos_plist,
    windows_run_value,
)
from gateway.resources import resource_path

ARGV = ["/opt/switchboard/switchboard"]
ICON = str(resource_path("icons/switchboard.svg"))


def test_linux_writes_the_exact_entry_and_removes_it(isolated_home: Path) -> None:
    autostart = for_this_system(platform="linux", argv=ARGV)
    assert isinstance(autostart, LinuxAutostart)
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "switchboard.desktop"
    assert autostart.path == path and not autostart.is_enabled()
    apply(True, autostart)
    assert path.read_text(encoding="utf-8") == (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Switchboard\n"
        "Comment=Local AI API gateway in the system tray\n"
        "Exec=/opt/switchboard/switchboard\n"
        f"Icon={ICON}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )
    assert autostart.is_enabled()
    assert sorted(p.name for p in path.parent.iterdir()) == ["switchboard.desktop"]  # no temp
    apply(False, autostart)
    assert not path.exists() and not autostart.is_enabled()
    apply(False, autostart)  # already off: nothing to do


def test_linux_respects_a_desktop_that_switched_it_off(isolated_home: Path) -> None:
    autostart = for_this_system(platform="linux", argv=ARGV)
    assert isinstance(autostart, LinuxAutostart)
    autostart.enable()
    text = autostart.path.read_text(encoding="utf-8")
    autostart.path.write_text(text.replace("enabled=true", "enabled=false"), encoding="utf-8")
    assert not autostart.is_enabled()
    autostart.path.write_text(text + "Hidden=true\n", encoding="utf-8")
    assert not autostart.is_enabled()
    autostart.enable()  # turning it on again rewrites the whole entry
    assert autostart.is_enabled()


def test_the_xdg_folder_defaults_to_dot_config(tmp_path: Path) -> None:
    for environ in ({"HOME": str(tmp_path)}, {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "rel"}):
        autostart = for_this_system(platform="linux", environ=environ, argv=ARGV)
        assert isinstance(autostart, LinuxAutostart)
        assert autostart.path == tmp_path / ".config" / "autostart" / "switchboard.desktop"


def test_exec_quoting_follows_the_desktop_entry_spec() -> None:
    argv = ["/home/ann/My Apps/python3", "-m", "gateway", '--x="a$b`c\\d"', "50%", "~"]
    # In quotes: " ` $ \ get a backslash; % doubles; then every backslash is doubled again
    # (string-value escaping), so a literal backslash in a quoted argument is four.
    assert desktop_exec(argv) == (
        '"/home/ann/My Apps/python3" -m gateway "--x=\\\\"a\\\\$b\\\\`c\\\\\\\\d\\\\"" 50%% "~"'
    )
    with pytest.raises(ValueError, match="cannot start at login with the argument"):
        desktop_exec(["/bin/app", "two\nlines"])


def test_the_command_is_the_bundle_or_this_python(tmp_path: Path) -> None:
    assert launch_command(frozen=True, executable="/opt/sb/switchboard") == ["/opt/sb/switchboard"]
    assert launch_command(frozen=False, executable="/usr/bin/python3", platform="linux") == [
        "/usr/bin/python3",
        "-m",
        "gateway",
    ]
    python = tmp_path / "python.exe"
    assert launch_command(frozen=False, executable=str(python), platform="win32")[0] == str(python)
    (tmp_path / "pythonw.exe").write_bytes(b"")  # no console window when it exists
    windowless = launch_command(frozen=False, executable=str(python), platform="win32")
    assert windowless == [str(tmp_path / "pythonw.exe"), "-m", "gateway"]


def test_the_macos_launch_agent(tmp_path: Path) -> None:
    argv = ["/Applications/Switchboard.app/Contents/MacOS/Switchboard"]
    assert macos_plist(argv) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
        b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        b'<plist version="1.0">\n'
        b"<dict>\n"
        b"\t<key>Label</key>\n"
        b"\t<string>io.switchboard.app</string>\n"
        b"\t<key>ProcessType</key>\n"
        b"\t<string>Interactive</string>\n"
        b"\t<key>ProgramArguments</key>\n"
        b"\t<array>\n"
        b"\t\t<string>/Applications/Switchboard.app/Contents/MacOS/Switchboard</string>\n"
        b"\t</array>\n"
        b"\t<key>RunAtLoad</key>\n"
        b"\t<true/>\n"
        b"</dict>\n"
        b"</plist>\n"
    )
    autostart = for_this_system(platform="darwin", environ={"HOME": str(tmp_path)}, argv=argv)
    assert isinstance(autostart, MacAutostart)
    autostart.enable()
    plist = tmp_path / "Library" / "LaunchAgents" / "io.switchboard.app.plist"
    assert plist.read_bytes() == macos_plist(argv) and autostart.is_enabled()
    autostart.disable()
    assert not plist.exists() and not autostart.is_enabled()


def test_the_windows_run_value() -> None:
    exe = r"C:\Program Files\Switchboard\Switchboard.exe"
    assert windows_run_value([exe]) == '"C:\\Program Files\\Switchboard\\Switchboard.exe"'
    python = r"C:\Users\Ann Lee\AppData\Local\Programs\Python\Python311\pythonw.exe"
    assert windows_run_value([python, "-m", "gateway", 'say "hi"']) == (
        '"C:\\Users\\Ann Lee\\AppData\\Local\\Programs\\Python\\Python311\\pythonw.exe" '
        '-m gateway "say \\"hi\\""'
    )


class FakeWinreg:
    """The part of ``winreg`` the Run value needs, over a dict."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE, KEY_READ, REG_SZ = 2, 1, 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], tuple[int, str]] = {}

    @contextlib.contextmanager
    def CreateKeyEx(self, root: str, path: str, reserved: int, access: int) -> Iterator[str]:
        yield f"{root}\\{path}"

    OpenKey = CreateKeyEx

    def SetValueEx(self, key: str, name: str, reserved: int, kind: int, value: str) -> None:
        self.values[(key, name, "")] = (kind, value)

    def QueryValueEx(self, key: str, name: str) -> tuple[str, int]:
        if (key, name, "") not in self.values:
            raise FileNotFoundError(name)
        kind, value = self.values[(key, name, "")]
        return value, kind

    def DeleteValue(self, key: str, name: str) -> None:
        if self.values.pop((key, name, ""), None) is None:
            raise FileNotFoundError(name)


def test_windows_sets_and_deletes_the_run_value() -> None:
    registry: Any = FakeWinreg()
    exe = r"C:\Program Files\Switchboard\Switchboard.exe"
    autostart = WindowsAutostart([exe], registry=registry)
    assert not autostart.is_enabled()
    autostart.enable()
    assert registry.values == {
        (f"HKCU\\{RUN_KEY}", "Switchboard", ""): (1, windows_run_value([exe]))
    }
    assert autostart.is_enabled()
    autostart.disable()
    autostart.disable()  # already gone: no error
    assert registry.values == {} and not autostart.is_enabled()
    assert isinstance(for_this_system(platform="win32", argv=[exe]), WindowsAutostart)
