"""Running ``switchboard`` as real child processes, the way users and service managers do.

Every child writes its stdout and stderr to files in a log folder (never to pipes that nobody
reads, which would block the child once a pipe buffer fills). Tests read those files to wait
for a line and, at the end, to check what the child printed.

The environment of a child is isolated like the test process: ``HOME`` and the XDG folders in
a temporary folder, ``SWITCHBOARD_DATA_DIR`` unset, no OS keyring (``fail.Keyring``, as on a
headless Linux server) and ``SWITCHBOARD_SECRET_KEY`` set, so secrets go to the encrypted file
store in the data folder.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "child passphrase for the encrypted secrets file"
LISTENING_RE = re.compile(r"^Switchboard gateway listening on (http://\S+)$", re.MULTILINE)

# How long a child may take to start or finish before the test gives up (liveness only).
START_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.02

_counter = itertools.count(1)


def child_env(home: Path, *, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a switchboard child: isolated home, no keyring, a file-store key."""
    env = dict(os.environ)
    env.pop("SWITCHBOARD_DATA_DIR", None)
    env["HOME"] = str(home)
    for var, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        env[var] = str(home / sub)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["SWITCHBOARD_SECRET_KEY"] = PASSPHRASE
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.pop("PYTHONUNBUFFERED", None)  # the CLI must flush what a supervisor waits for
    if extra:
        env.update(extra)
    return env


def switchboard_argv(args: Sequence[str]) -> list[str]:
    """``switchboard ARGS`` run from the source tree with this interpreter."""
    return [sys.executable, "-m", "gateway", *args]


def _output_files(log_dir: Path, args: Sequence[str]) -> tuple[Path, Path]:
    log_dir.mkdir(parents=True, exist_ok=True)
    words = [a for a in args if not a.startswith("-") and "/" not in a][:2]
    label = "-".join(["switchboard", *words])
    stem = f"{next(_counter):03d}-{label}"
    return log_dir / f"{stem}.stdout", log_dir / f"{stem}.stderr"


@dataclass(frozen=True)
class CliRun:
    """A finished ``switchboard`` command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"switchboard {' '.join(self.args)} exited {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    log_dir: Path,
    stdin_text: str | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> CliRun:
    """Run one switchboard command to completion (blocking); output goes through files."""
    out_path, err_path = _output_files(log_dir, args)
    stdin_path = out_path.with_suffix(".stdin")
    stdin_path.write_text(stdin_text or "", encoding="utf-8")
    with out_path.open("wb") as out, err_path.open("wb") as err, stdin_path.open("rb") as stdin:
        completed = subprocess.run(
            switchboard_argv(args),
            stdin=stdin,
            stdout=out,
            stderr=err,
            env=dict(env),
            cwd=REPO_ROOT,
            timeout=timeout,
            check=False,
        )
    return CliRun(
        tuple(args),
        completed.returncode,
        out_path.read_text(encoding="utf-8"),
        err_path.read_text(encoding="utf-8"),
    )


async def run_cli_async(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    log_dir: Path,
    stdin_text: str | None = None,
    limit_s: float = RUN_TIMEOUT_S,
) -> CliRun:
    """:func:`run_cli` in a worker thread, so the test's event loop (and fakes on it) runs."""
    return await asyncio.to_thread(
        run_cli, args, env=env, log_dir=log_dir, stdin_text=stdin_text, timeout=limit_s
    )


class ServeProcess:
    """A long-running ``switchboard`` (serve, or no command) with its output in files.

    Use as a context manager: on exit a child that is still running is killed and reaped, so
    a failing test never leaves a gateway behind.
    """

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], log_dir: Path) -> None:
        self.args = tuple(args)
        self.stdout_path, self.stderr_path = _output_files(log_dir, args)
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                switchboard_argv(args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=dict(env),
                cwd=REPO_ROOT,
            )

    # output ------------------------------------------------------------------------------

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def describe(self) -> str:
        return (
            f"switchboard {' '.join(self.args)} (pid {self.proc.pid}, "
            f"returncode {self.proc.poll()})\n"
            f"--- stdout\n{self.stdout()}--- stderr\n{self.stderr()}"
        )

    # waiting -----------------------------------------------------------------------------

    async def wait_for_stdout(
        self, pattern: re.Pattern[str], *, limit_s: float = START_TIMEOUT_S
    ) -> re.Match[str]:
        """Poll the stdout file until ``pattern`` matches; fail if the child exits first."""
        deadline = time.monotonic() + limit_s
        what = f"{pattern.pattern!r} on stdout"
        while True:
            exited = self.proc.poll() is not None  # before reading: a last line is not missed
            match = pattern.search(self.stdout())
            if match is not None:
                return match
            if exited:
                raise AssertionError(f"the child exited before {what}\n{self.describe()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.describe()}")
            await asyncio.sleep(POLL_INTERVAL_S)

    async def wait_for_endpoint(self, *, limit_s: float = START_TIMEOUT_S) -> str:
        """The ``http://host:port`` the gateway printed once it was listening."""
        match = await self.wait_for_stdout(LISTENING_RE, limit_s=limit_s)
        return match.group(1)

    async def wait_exit(self, limit_s: float) -> int:
        """The exit code, waiting at most ``limit_s`` seconds (a liveness limit)."""
        try:
            return await asyncio.to_thread(self.proc.wait, limit_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the child did not exit within {limit_s} s\n{self.describe()}"
            ) from None

    # control -----------------------------------------------------------------------------

    def send_signal(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


async def wait_until(
    predicate: Callable[[], bool], what: str, *, limit_s: float = START_TIMEOUT_S
) -> None:
    """Poll ``predicate`` (on this loop, so fakes on it keep serving) until it holds."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL_S)


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, *, limit_s: float = START_TIMEOUT_S
) -> None:
    """Poll an async ``check`` (say, an HTTP request) until it returns True."""
    deadline = time.monotonic() + limit_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL_S)


def folder_files(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` (recursively, -wal/-shm included) and its bytes."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def all_output(log_dir: Path) -> dict[Path, bytes]:
    """Every stdout/stderr file written by children into ``log_dir``."""
    return {
        path: path.read_bytes()
        for path in sorted(log_dir.iterdir())
        if path.suffix in (".stdout", ".stderr")
    }
