"""Importing gateway has no side effects and never imports Qt (checked in a clean interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import pkgutil, importlib, sys, os
import gateway
names = [m.name for m in pkgutil.walk_packages(gateway.__path__, "gateway.")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "qasync"))
print(len(names), qt)
"""


def test_importing_every_gateway_module_is_inert(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHONPATH": str(ROOT),
        "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    count, qt_modules = result.stdout.strip().split(" ", 1)
    assert int(count) >= 30  # the walk really imported the package tree
    assert qt_modules == "[]"
    # No data folder, database, keyring file or config was created by importing.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    assert list(home.iterdir()) == []
