"""The runtime file: atomic and private, read defensively, removed only by its writer."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from gateway.run_file import (
    RunInfo,
    pid_alive,
    read_run_file,
    remove_run_file,
    run_file_path,
    write_run_file,
)


def test_round_trip_private_and_replaced_whole(data_dir: Path) -> None:
    first = RunInfo(os.getpid(), "127.0.0.1", 20128, "token-1")
    path = write_run_file(data_dir, first)
    assert path == data_dir / "run" / "gateway.json" == run_file_path(data_dir)
    assert read_run_file(data_dir) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = RunInfo(os.getpid(), "::", 1, "token-2")
    write_run_file(data_dir, second)
    assert read_run_file(data_dir) == second
    assert sorted(p.name for p in path.parent.iterdir()) == ["gateway.json"]


def test_remove_only_our_own(data_dir: Path) -> None:
    write_run_file(data_dir, RunInfo(1, "127.0.0.1", 2, "theirs"))
    remove_run_file(data_dir, "ours")
    assert read_run_file(data_dir) is not None
    remove_run_file(data_dir, "theirs")
    assert not run_file_path(data_dir).exists()
    remove_run_file(data_dir, "theirs")  # already gone: fine


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"pid": 1, "host": "127.0.0.1", "port": 2}',
        b'{"pid": "1", "host": "127.0.0.1", "port": 2, "admin_token": "t"}',
        b'{"pid": 1, "host": 5, "port": 2, "admin_token": "t"}',
    ],
)
def test_an_unreadable_file_means_no_gateway(data_dir: Path, content: bytes) -> None:
    path = run_file_path(data_dir)
    path.parent.mkdir()
    path.write_bytes(content)
    assert read_run_file(data_dir) is None


def test_missing_file(data_dir: Path) -> None:
    assert read_run_file(data_dir) is None


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8"),
        ("0.0.0.0", "http://127.0.0.1:8"),
        ("::", "http://[::1]:8"),
        ("::1", "http://[::1]:8"),
        ("localhost", "http://localhost:8"),
    ],
)
def test_loopback_url(host: str, url: str) -> None:
    assert RunInfo(1, host, 8, "t").loopback_url == url


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    # Windows cannot probe a pid without signalling it: there every pid "may" be alive.
    windows = sys.platform == "win32"
    assert pid_alive(0) is windows
    assert pid_alive(2**22 + 12345) is windows  # above Linux's pid_max
