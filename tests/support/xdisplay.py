"""A real X server for desktop tests: Xvfb on a free display, `trayer` as the XEmbed system
tray host, and what a test asks of them (is a tray there, which windows it embeds, a
screenshot of the whole screen). The Debian packages (xvfb, trayer, x11-utils, imagemagick)
are installed by .ci/run; a missing one fails the test with the package to install.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_S = 10.0
SCREEN = "1280x800x24"
# The tray host's panel: a strip along the top right edge, as wide as its icons.
TRAYER = (
    "trayer",
    "--edge",
    "top",
    "--align",
    "right",
    "--widthtype",
    "request",
    "--height",
    "24",
    "--SetDockType",
    "true",
    "--transparent",
    "false",
    "--tint",
    "0x303030",
)
_WINDOW = re.compile(r'^(\s*)(0x[0-9a-f]+) (?:"(.*?)"|\(has no name\)): (?:\((.*?)\))?')


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: apt-get install {package} (.ci/run installs it)"
    return path


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)


@contextlib.contextmanager
def xvfb(log_dir: Path) -> Iterator[str]:
    """A fresh Xvfb on a free display number (it picks one and writes it to a pipe);
    yields ``:N``."""
    binary = need("Xvfb", "xvfb")
    log_dir.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    with (log_dir / "xvfb.log").open("wb") as log:
        child = subprocess.Popen(
            [binary, "-nolisten", "tcp", "-screen", "0", SCREEN, "-displayfd", str(write_end)],
            pass_fds=(write_end,),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], START_TIMEOUT_S)
        assert ready, f"Xvfb did not report its display number (log: {log_dir / 'xvfb.log'})"
        yield f":{os.read(read_end, 32).decode().strip()}"
    finally:
        os.close(read_end)
        _stop(child)


def windows(display: str) -> list[tuple[int, str, str, str]]:
    """Every window as (depth in the tree, id, name, WM_CLASS text) from ``xwininfo``."""
    xwininfo = need("xwininfo", "x11-utils")
    tree = subprocess.run(
        [xwininfo, "-root", "-tree"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=True,
    ).stdout
    found = []
    for line in tree.splitlines():
        match = _WINDOW.match(line)
        if match is not None:
            indent, window_id, name, wm_class = match.groups()
            found.append((len(indent), window_id, name or "", wm_class or ""))
    return found


def embedded_in_tray(display: str, wm_class: str) -> list[str]:
    """Ids of the windows of class ``wm_class`` inside trayer's panel: the tray icons it
    embedded (XEmbed reparents each icon window under the panel)."""
    found, panel_depth = [], None
    for depth, window_id, name, classes in windows(display):
        if panel_depth is not None and depth <= panel_depth:
            panel_depth = None  # left the panel's subtree
        if name == "panel" and '"trayer"' in classes:
            panel_depth = depth
        elif panel_depth is not None and f'"{wm_class}"' in classes:
            found.append(window_id)
    return found


@contextlib.contextmanager
def tray_host(display: str, log_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``trayer`` on ``display``, ready (its panel mapped) when the block starts."""
    need("trayer", "trayer")
    with (log_dir / "trayer.log").open("wb") as log:
        child = subprocess.Popen(
            TRAYER,
            env={**os.environ, "DISPLAY": display},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not any(name == "panel" for _, _, name, _ in windows(display)):
            assert child.poll() is None, f"trayer exited: {(log_dir / 'trayer.log').read_text()}"
            assert time.monotonic() < deadline, "trayer did not map its panel"
            time.sleep(0.05)
        yield child
    finally:
        _stop(child)


_PROBE = (
    "from PySide6.QtWidgets import QApplication, QSystemTrayIcon\n"
    "app = QApplication([])\n"
    "print(QSystemTrayIcon.isSystemTrayAvailable())\n"
)


def qt_sees_a_tray(display: str) -> bool:
    """``QSystemTrayIcon.isSystemTrayAvailable()`` in a fresh Qt process on ``display``."""
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert probe.returncode == 0, f"the Qt probe failed: {probe.stderr}"
    return probe.stdout.strip() == "True"


def screenshot(display: str, path: Path) -> Path:
    """The whole screen of ``display`` as a PNG (ImageMagick's ``import``)."""
    binary = need("import", "imagemagick")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [binary, "-window", "root", str(path)],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        timeout=30,
        check=True,
    )
    return path
