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
from collections.abc import Callable, Mapping, Sequence
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
    timeout: float = RUN_TIMEOUT_S,
) -> CliRun:
    """:func:`run_cli` in a worker thread, so the test's event loop (and fakes on it) runs."""
    return await asyncio.to_thread(
        run_cli, args, env=env, log_dir=log_dir, stdin_text=stdin_text, timeout=timeout
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

    def _check(self, predicate: Callable[[], bool], what: str, deadline: float) -> bool:
        """True when ``predicate`` holds; raises if the child exited first or time is up."""
        if predicate():
            return True
        if self.proc.poll() is not None:
            if predicate():  # the child wrote it and then exited
                return True
            raise AssertionError(f"the child exited before {what}\n{self.describe()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{self.describe()}")
        return False

    async def wait_for_stdout(
        self, pattern: re.Pattern[str], *, timeout: float = START_TIMEOUT_S
    ) -> re.Match[str]:
        """Poll the stdout file until ``pattern`` matches; fail if the child exits first."""
        deadline = time.monotonic() + timeout
        found: list[re.Match[str]] = []

        def matched() -> bool:
            match = pattern.search(self.stdout())
            if match:
                found.append(match)
            return match is not None

        while not self._check(matched, f"{pattern.pattern!r} on stdout", deadline):
            await asyncio.sleep(POLL_INTERVAL_S)
        return found[-1]

    async def wait_for_endpoint(self, *, timeout: float = START_TIMEOUT_S) -> str:
        """The ``http://host:port`` the gateway printed once it was listening."""
        match = await self.wait_for_stdout(LISTENING_RE, timeout=timeout)
        return match.group(1)

    async def wait_exit(self, timeout: float) -> int:
        """The exit code, waiting at most ``timeout`` seconds (a liveness limit)."""
        try:
            return await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the child did not exit within {timeout} s\n{self.describe()}"
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


def all_output(log_dir: Path) -> dict[Path, bytes]:
    """Every stdout/stderr file written by children into ``log_dir``."""
    return {
        path: path.read_bytes()
        for path in sorted(log_dir.iterdir())
        if path.suffix in (".stdout", ".stderr")
    }
