"""One desktop app per data folder: a second launch signals the first and exits 0."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDir

from app.single_instance import SingleInstance, server_name
from tests.gui.support import until
from tests.support.processes import child_env, run_cli

Run = Callable[..., Any]


def test_the_name_follows_the_data_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert server_name(a) == server_name(tmp_path / "b" / ".." / "a")
    assert server_name(a) != server_name(b)
    assert server_name(a).startswith("switchboard-")


def test_a_second_instance_brings_the_first_forward(data_dir: Path, run: Run) -> None:
    first = SingleInstance(data_dir)
    assert first.listen()
    activations: list[bool] = []
    first.activated.connect(lambda: activations.append(True))
    try:
        assert SingleInstance(data_dir).notify_running() is True

        async def scenario() -> None:
            await until(lambda: activations == [True], "the activation")

        run(scenario())
    finally:
        first.close()
    assert SingleInstance(data_dir).notify_running() is False  # gone once closed


def test_two_data_folders_run_side_by_side(tmp_path: Path) -> None:
    one, two = SingleInstance(tmp_path / "one"), SingleInstance(tmp_path / "two")
    try:
        assert one.listen()
        assert SingleInstance(tmp_path / "two").notify_running() is False
        assert two.listen()
    finally:
        one.close()
        two.close()


def test_a_socket_left_by_a_crash_is_taken_over(data_dir: Path) -> None:
    instance = SingleInstance(data_dir)
    stale = Path(QDir.tempPath()) / instance.name
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(stale))  # a socket file nobody listens on any more
    try:
        assert stale.exists()
        assert instance.notify_running() is False
        assert instance.listen() is True
        assert SingleInstance(data_dir).notify_running() is True
    finally:
        instance.close()
        stale.unlink(missing_ok=True)


def test_a_second_switchboard_process_signals_and_exits_0(
    data_dir: Path, run: Run, isolated_home: Path, tmp_path: Path
) -> None:
    first = SingleInstance(data_dir)
    assert first.listen()
    activations: list[bool] = []
    first.activated.connect(lambda: activations.append(True))
    env = child_env(isolated_home, extra={"QT_QPA_PLATFORM": "offscreen"})

    async def scenario() -> Any:
        # The child blocks in a thread; this loop keeps serving the first instance's socket.
        result = await asyncio.to_thread(
            run_cli, ["--data-dir", str(data_dir)], env=env, log_dir=tmp_path / "out"
        )
        await until(lambda: activations == [True], "the activation")
        return result

    try:
        result = run(scenario())
    finally:
        first.close()
    assert result.returncode == 0, result.describe()
    assert result.stdout == (
        f"Switchboard is already running for {data_dir}; brought its window forward.\n"
    )
    assert not (data_dir / "switchboard.db").exists()  # the second one started nothing
