"""The real coding-agent CLIs against the gateway, offline, with the fake upstreams.

The CLIs come from the npm registry at pinned versions and are installed once into a cache
outside the repository (``$SWITCHBOARD_E2E_CACHE``, else the user cache folder) and reused.
When npm or the registry cannot be reached the suite fails with a message saying so — it never
skips. Each run gets a fresh HOME, stdin closed, telemetry and updates off, and a hard timeout.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from gateway.service import GatewayService
from tests.support.four_dialects import PREFIX, four_dialect_config, four_fakes
from tests.support.gateway import import_toml, log_rows, start_service

# name: (npm package, version, binary)
CLIS = {
    "claude": ("@anthropic-ai/claude-code", "2.1.330", "claude"),
    "codex": ("@openai/codex", "0.169.0", "codex"),
    "gemini": ("@google/gemini-cli", "0.61.0", "gemini"),
    "opencode": ("opencode-ai", "1.18.33", "opencode"),
}
# Read at import, before the test fixtures point HOME at a temporary folder.
CACHE = Path(
    os.environ.get("SWITCHBOARD_E2E_CACHE") or platformdirs.user_cache_dir("switchboard-e2e-clis")
)
# Upstream dialect -> the provider id its connection has in the request log.
PROVIDER = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "responses": "custom-responses:resp",
}
RUN_TIMEOUT_S = 90.0  # below pytest-timeout's 120 s, so a hang reports its output


def install(name: str) -> Path:
    """The CLI's executable, installed into the cache on first use."""
    package, version, binary = CLIS[name]
    prefix = CACHE / f"{name}-{version}"
    executable = prefix / "node_modules" / ".bin" / binary
    if executable.exists():
        return executable
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is not installed: the agent e2e suite needs Node.js 20+ and npm "
            "(Debian: apt-get install nodejs npm).",
            pytrace=False,
        )
    prefix.mkdir(parents=True, exist_ok=True)
    log = prefix.parent / f"{name}-{version}.install.log"
    with log.open("wb") as out:
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"{package}@{version}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            timeout=900,
            check=False,
            env={**os.environ, "npm_config_cache": str(CACHE / "npm-cache")},
        )
    if result.returncode != 0 or not executable.exists():
        tail = log.read_text(errors="replace")[-1500:]
        pytest.fail(
            f"npm could not install {package}@{version} (is the npm registry reachable?):\n{tail}",
            pytrace=False,
        )
    return executable


@pytest.fixture(scope="session")
def cli_paths() -> dict[str, Path]:
    with ThreadPoolExecutor(max_workers=len(CLIS)) as pool:
        return dict(zip(CLIS, pool.map(install, CLIS), strict=True))


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (
            f"exit {self.code} after {self.seconds:.1f} s\n--- stdout ---\n"
            f"{self.stdout[-3000:]}\n--- stderr ---\n{self.stderr[-3000:]}"
        )


@dataclass
class AgentWorld:
    gateway: GatewayService
    fakes: dict[str, Any]
    root: Path
    _log_mark: int = 0
    runs: list[CliRun] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.gateway.endpoint

    def model(self, upstream: str, name: str) -> str:
        return f"{PREFIX[upstream]}/{name}"

    def fresh_home(self) -> Path:
        home = self.root / f"home-{secrets.token_hex(4)}"
        (home / "work").mkdir(parents=True)
        return home

    def base_env(self, home: Path) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "TERM", "SYSTEMROOT", "TMPDIR")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.update(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_DATA_HOME": str(home / ".local/share"),
                "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_STATE_HOME": str(home / ".local/state"),
                "NO_COLOR": "1",
                "CI": "1",
                "NO_UPDATE_NOTIFIER": "1",
                "DO_NOT_TRACK": "1",
            }
        )
        return env

    async def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, limit_s: float = RUN_TIMEOUT_S
    ) -> CliRun:
        """Run a CLI with stdin closed and output to files; a hang is a test failure."""
        out, err = (
            cwd.parent / f"out-{len(self.runs)}.txt",
            cwd.parent / f"err-{len(self.runs)}.txt",
        )
        started = time.monotonic()
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
            try:
                code = await asyncio.wait_for(proc.wait(), limit_s)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
                run = CliRun(
                    -9,
                    out.read_text(errors="replace"),
                    err.read_text(errors="replace"),
                    time.monotonic() - started,
                )
                pytest.fail(f"{argv[0]} hung for {limit_s:.0f} s:\n{run.describe()}")
        run = CliRun(
            code,
            out.read_text(errors="replace"),
            err.read_text(errors="replace"),
            time.monotonic() - started,
        )
        self.runs.append(run)
        return run

    def mark_log(self) -> None:
        rows = log_rows(self.gateway.data_dir)
        self._log_mark = int(rows[-1]["id"]) if rows else 0  # type: ignore[call-overload]

    async def new_log_rows(self) -> list[dict[str, Any]]:
        """Request-log rows written since mark_log()."""
        await self.gateway.flush_logs()
        return [r for r in log_rows(self.gateway.data_dir) if int(r["id"]) > self._log_mark]  # type: ignore[call-overload]

    def upstream_models(self, dialect: str) -> list[str]:
        """The model of every generation request the upstream's fake received, in order."""
        models: list[str] = []
        for request in self.fakes[dialect].state.requests:
            if request.method != "POST":
                continue
            if dialect == "gemini":  # /v1beta/models/<model>:streamGenerateContent
                models.append(request.path.rsplit("/", 1)[-1].split(":", 1)[0])
            else:
                models.append(request.body["model"])
        return models


def check_log_rows(
    client: str,
    rows: list[dict[str, Any]],
    dialect: str,
    model: str,
    *,
    count: int | None = None,
    upstream_model: str | None = None,
) -> None:
    """Every row of a run: the CLI's dialect, the upstream's provider, the model asked for,
    a clean 200 streamed with tokens counted both ways."""
    assert rows, "no request-log rows"
    if count is not None:
        assert len(rows) == count, rows
    for row in rows:
        assert row["client_dialect"] == client, row
        assert row["provider"] == PROVIDER[dialect], row
        assert row["requested_model"] == model, row
        if upstream_model is not None:
            assert row["upstream_model"] == upstream_model, row
        assert (row["status"], row["error"], row["stream"]) == (200, None, 1), row
        assert (row["tokens_in"] or 0) > 0 and (row["tokens_out"] or 0) > 0, row


def marker(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture
async def agent_world(tmp_path: Path) -> AsyncIterator[AgentWorld]:
    fakes = four_fakes()
    for fake in fakes.values():
        await fake.start()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    combos = "".join(
        f'\n[[combos]]\nname = "fallback-{dialect}"\n'
        f'targets = ["{prefix}/fake-error-429", "{prefix}/fake-agent"]\n'
        for dialect, prefix in PREFIX.items()
    )
    import_toml(data_dir, four_dialect_config(fakes, key_name="agents", extra=combos))
    service = await start_service(data_dir)
    world = AgentWorld(service, fakes, tmp_path)
    try:
        yield world
    finally:
        await service.stop()
        for fake in fakes.values():
            await fake.stop()
