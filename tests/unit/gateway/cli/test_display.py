"""Is there a screen? Decided without Qt, from the environment and a real socket probe."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli.display import display_available, wayland_socket_exists, x_server_reachable

LINUX = "linux"


@pytest.fixture
def unix_listener(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "wayland-7"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen()
        yield path


@pytest.fixture
def tcp_x_server() -> Iterator[int]:
    """A listener on 127.0.0.1:6000+N standing in for X display N."""
    for number in range(90, 140):
        server = socket.socket()
        try:
            server.bind(("127.0.0.1", 6000 + number))
        except OSError:
            server.close()
            continue
        server.listen()
        try:
            yield number
        finally:
            server.close()
        return
    pytest.fail("no free port in 6090-6139 for a stand-in X server")


def test_windows_and_macos_always_have_one() -> None:
    assert display_available({}, "win32") is True
    assert display_available({}, "darwin") is True


def test_nothing_set_means_no_display() -> None:
    assert display_available({}, LINUX) is False


def test_an_explicit_qt_platform_is_trusted() -> None:
    assert display_available({"QT_QPA_PLATFORM": "offscreen"}, LINUX) is True
    assert display_available({"QT_QPA_PLATFORM": "vnc:size=800x600"}, LINUX) is True


def test_xcb_needs_a_reachable_x_server(tcp_x_server: int) -> None:
    assert display_available({"QT_QPA_PLATFORM": "xcb"}, LINUX) is False
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": f"127.0.0.1:{tcp_x_server}"}
    assert display_available(env, LINUX) is True


def test_display_pointing_at_nothing_is_no_display() -> None:
    assert x_server_reachable(":987") is False
    assert x_server_reachable("not a display") is False
    assert display_available({"DISPLAY": ":987"}, LINUX) is False


def test_a_tcp_x_server_with_a_screen_number(tcp_x_server: int) -> None:
    assert x_server_reachable(f"127.0.0.1:{tcp_x_server}.0") is True


def test_wayland_socket_in_the_runtime_dir(unix_listener: Path) -> None:
    env = {"WAYLAND_DISPLAY": unix_listener.name, "XDG_RUNTIME_DIR": str(unix_listener.parent)}
    assert wayland_socket_exists(env) is True
    assert display_available(env, LINUX) is True
    assert display_available({**env, "QT_QPA_PLATFORM": "wayland"}, LINUX) is True
    assert wayland_socket_exists({**env, "WAYLAND_DISPLAY": "wayland-0"}) is False
    assert wayland_socket_exists({"WAYLAND_DISPLAY": str(unix_listener)}) is True
