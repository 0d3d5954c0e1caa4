"""``<data_dir>/run/gateway.json``: how the CLI finds the running gateway and the admin token
that lets it use the admin routes (gateway/server/admin.py). The service writes it atomically
with mode 0600 once it listens and removes it when it stops; a file left by a crash is
recognised by its dead pid. Kept free of aiohttp so the CLI starts fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

RUN_DIR = "run"
RUN_FILE = "gateway.json"
# The admin routes' contract, shared by the server and the CLI.
ADMIN_HEADER = "X-Switchboard-Admin"
HEALTH_PATH = "/_switchboard/health"
RESET_PATH = "/_switchboard/health/reset"


@dataclass(frozen=True, slots=True)
class RunInfo:
    pid: int
    host: str  # the address the gateway is bound to
    port: int
    admin_token: str

    @property
    def loopback_url(self) -> str:
        """Where a client on this machine reaches it: a wildcard bind is reached over
        loopback, the only peer the admin routes accept."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def run_file_path(data_dir: Path) -> Path:
    return data_dir / RUN_DIR / RUN_FILE


def write_run_file(data_dir: Path, info: RunInfo) -> Path:
    """Atomic (a temporary file renamed over the old one) and readable by its owner only:
    the admin token in it is as good as access to the health and reset routes."""
    path = run_file_path(data_dir)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    temporary = path.with_name(f".{RUN_FILE}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # so O_EXCL creates it afresh with our mode
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(orjson.dumps(asdict(info)))
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def read_run_file(data_dir: Path) -> RunInfo | None:
    """The running gateway's entry, or None when there is none or it cannot be read."""
    try:
        data = orjson.loads(run_file_path(data_dir).read_bytes())
        pid, host, port, token = data["pid"], data["host"], data["port"], data["admin_token"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not (isinstance(pid, int) and isinstance(port, int)):
        return None
    if not (isinstance(host, str) and isinstance(token, str)):
        return None
    return RunInfo(pid, host, port, token)


def remove_run_file(data_dir: Path, admin_token: str) -> None:
    """Remove the file if it is still ours (another gateway on this folder may have
    replaced it since)."""
    info = read_run_file(data_dir)
    if info is not None and info.admin_token == admin_token:
        with contextlib.suppress(FileNotFoundError):
            run_file_path(data_dir).unlink()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists. On Windows ``os.kill(pid, 0)`` would send
    Ctrl+C, so there the answer is "maybe" (True) and the connection attempt decides."""
    if sys.platform == "win32":
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
