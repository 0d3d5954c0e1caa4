"""The desktop app's costs: launch time, idle memory, and the latency the gateway adds with the
main window open and updating, in both loop modes, against the headless gateway.

    python -m tests.bench.desktop [--requests N] [--launches N]
    python -m tests.bench.desktop --shots DIR     # Home page, light and dark, as PNG files

Each variant runs as its own process, as users run it: ``switchboard serve --headless``,
``switchboard --gateway-loop thread`` and ``--gateway-loop shared`` (Qt offscreen: the window
is shown and painted; its Home page polls today's figures and repaints as requests arrive),
and, when Xvfb is installed, the desktop on a real X server. Gateway pinned to core 0, the fake
upstream to core 1 (two cores or more). Latency: raw keep-alive HTTP requests, alternated
between the upstream directly and the gateway (tests/bench/overhead.py). Informational only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from tests.bench.overhead import (
    CLIENT_KEY,
    GATEWAY_CORE,
    HOST,
    ROOT,
    UPSTREAM_CORE,
    RawConn,
    alternate,
    build_request,
    can_pin,
    compare,
    cpu_s,
    openai_connection,
)

MODEL = "openai/gpt-6.2-sol"
VARIANTS = {
    "headless": ["serve", "--headless"],
    "desktop, thread": ["--gateway-loop", "thread"],
    "desktop, shared": ["--gateway-loop", "shared"],
}
WINDOW_LINE = "window shown"


class Launch(NamedTuple):
    endpoint_ms: float  # spawn → /health answers 200
    window_ms: float | None  # spawn → the window (and tray icon) shown, from the desktop log
    idle_rss_mb: float
    idle_cpu_pct: float  # of one core, while nothing happens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def child_env(tmp: Path, display: str | None) -> dict[str, str]:
    env = os.environ | {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "SWITCHBOARD_SECRET_KEY": "bench",
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(tmp),
        "XDG_CONFIG_HOME": str(tmp),
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.pop("SWITCHBOARD_DATA_DIR", None)
    if display is not None:
        env.pop("QT_QPA_PLATFORM")
        env["DISPLAY"] = display
    return env


def spawn(args: list[str], env: dict[str, str], log: Path, core: int) -> subprocess.Popen[bytes]:
    pin = (lambda: os.sched_setaffinity(0, {core})) if can_pin() else None
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=out, preexec_fn=pin
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{log.name} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.005)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def window_shown_at(data: Path) -> float | None:
    path = data / "logs" / "desktop.log"
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if WINDOW_LINE in line:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp()
    return None


def prepare(data: Path, env: dict[str, str], up_port: int) -> None:
    """Import the bench configuration (migrations run here, not in the measured launch)."""
    toml = data.parent / f"{data.name}.toml"
    toml.write_text(
        f'[settings]\nrequire_api_key = true\n[[api_keys]]\nname = "bench"\n'
        f'key = "{CLIENT_KEY}"\n[[connections]]\n{openai_connection(up_port)}'
    )
    cmd = [sys.executable, "-m", "gateway", "config", "import", str(toml), "--data-dir", str(data)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def launch(
    variant: str, tmp: Path, up_port: int, display: str | None, idle_s: float
) -> tuple[Launch, subprocess.Popen[bytes], int, Path]:
    data = tmp / f"data-{variant.replace(', ', '-')}-{time.monotonic_ns()}"
    env = child_env(tmp, display)
    prepare(data, env, up_port)
    port = free_port()
    log = data.parent / f"{data.name}.log"
    args = ["-m", "gateway", *VARIANTS[variant], "--port", str(port), "--data-dir", str(data)]
    started = time.time()
    proc = spawn(args, env, log, GATEWAY_CORE)
    wait_healthy(port, proc, log)
    endpoint_ms = (time.time() - started) * 1e3
    deadline = time.monotonic() + 10
    shown = window_shown_at(data)
    while variant != "headless" and shown is None and time.monotonic() < deadline:
        time.sleep(0.02)
        shown = window_shown_at(data)
    time.sleep(1.0)  # let start-up work settle
    cpu = cpu_s(proc.pid)
    time.sleep(idle_s)
    idle_cpu = (cpu_s(proc.pid) - cpu) / idle_s * 100
    window_ms = None if shown is None else max(0.0, (shown - started) * 1e3)
    return Launch(endpoint_ms, window_ms, rss_mb(proc.pid), idle_cpu), proc, port, data


@contextlib.contextmanager
def upstream(tmp: Path) -> Iterator[int]:
    port = free_port()
    log = tmp / "upstream.log"
    args = ["-m", "tests.fakes.openai_upstream", "--no-record", "--port", str(port)]
    proc = spawn(args, child_env(tmp, None), log, UPSTREAM_CORE)
    try:
        deadline = time.monotonic() + 30
        while b"listening on" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the fake upstream did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield port
    finally:
        stop(proc)


@contextlib.contextmanager
def xvfb() -> Iterator[str | None]:
    """A private X server for the xcb variant, or None when Xvfb is not installed."""
    if shutil.which("Xvfb") is None:
        yield None
        return
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 10)
        yield f":{os.read(read_end, 32).decode().strip()}" if ready else None
    finally:
        os.close(read_end)
        proc.terminate()
        proc.wait(10)


def measure(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="sb-desktop-bench-") as name, xvfb() as display:
        tmp = Path(name)
        with upstream(tmp) as up_port:
            launches: dict[str, list[Launch]] = {}
            variants = list(VARIANTS)
            if display is not None:
                VARIANTS["desktop on Xvfb (xcb), thread"] = VARIANTS["desktop, thread"]
                variants.append("desktop on Xvfb (xcb), thread")
            for _ in range(args.launches):
                for variant in variants:
                    shown = display if "Xvfb" in variant else None
                    result, proc, _, _ = launch(variant, tmp, up_port, shown, args.idle)
                    stop(proc)
                    launches.setdefault(variant, []).append(result)
            print(f"Launch to ready, median of {args.launches} (warm data folder):")
            for variant, results in launches.items():
                endpoint = statistics.median(r.endpoint_ms for r in results)
                windows = [r.window_ms for r in results if r.window_ms is not None]
                window = f"{statistics.median(windows):6.0f} ms" if windows else "     -   "
                rss = statistics.median(r.idle_rss_mb for r in results)
                idle = statistics.median(r.idle_cpu_pct for r in results)
                print(
                    f"  {variant:31} endpoint {endpoint:6.0f} ms   window {window}"
                    f"   idle RSS {rss:6.1f} MB   idle CPU {idle:4.1f} %"
                )
            print()
            added: dict[str, tuple[float, float, float]] = {}
            for variant in VARIANTS:
                if "Xvfb" in variant:
                    continue
                _, proc, port, _ = launch(variant, tmp, up_port, None, 0.1)
                try:
                    conns = (RawConn(up_port), RawConn(port))
                    reqs = (
                        build_request(up_port, "sk-upstream-test", "gpt-6.2-sol"),
                        build_request(port, CLIENT_KEY, MODEL),
                    )
                    alternate(conns, reqs, args.warmup, lambda r: r[0])
                    cpu = cpu_s(proc.pid)
                    pair = alternate(conns, reqs, args.requests, lambda r: r[0])
                    cpu_per_k = (cpu_s(proc.pid) - cpu) * 1e6 / args.requests
                    p50, p99 = compare(f"{variant}: non-streamed requests", pair)
                    added[variant] = (p50, p99, cpu_per_k)
                finally:
                    stop(proc)
            print("\nAdded latency and gateway-process CPU (window open and updating):")
            for variant, (p50, p99, cpu_per_k) in added.items():
                print(
                    f"  {variant:16} added p50 {p50:6.3f} ms  p99 {p99:6.3f} ms   "
                    f"CPU {cpu_per_k:6.1f} ms per 1000 requests"
                )
    return 0


def shots(folder: Path) -> int:
    """Home, light and dark, with a running gateway and some traffic (in-process, offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    os.environ["SWITCHBOARD_SECRET_KEY"] = "screenshots"  # the upstream key: a temporary file
    import asyncio

    import aiohttp
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.bridge import GatewayBridge
    from app.desktop import Desktop
    from app.lifecycle.control import find_free_port
    from gateway.service import GatewayService
    from tests.fakes.openai_upstream import FakeOpenAI
    from tests.support.gateway import basic_config, import_toml

    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="sb-shots-") as name:
        port = find_free_port(HOST, 20128)
        service = GatewayService(Path(name), port=port)
        desktop = Desktop(app, GatewayBridge(service), tray_available=True)

        async def capture() -> None:
            async with FakeOpenAI() as fake:
                import_toml(Path(name), basic_config(fake.base_url))
                await desktop.open()
                await desktop.start()
                assert desktop.window is not None
                async with aiohttp.ClientSession() as http:
                    for text in ("hello there", "write a test", "explain this diff please"):
                        await http.post(
                            f"{service.endpoint}/v1/chat/completions",
                            headers={"Authorization": f"Bearer {CLIENT_KEY}"},
                            json={"model": MODEL, "messages": [{"role": "user", "content": text}]},
                        )
                await service.flush_logs()
                desktop.window.resize(980, 1180)
                await asyncio.sleep(1.5)  # one LiveStatus poll and a repaint
                for theme in ("light", "dark"):
                    desktop.theme.apply(theme)
                    await asyncio.sleep(0.5)
                    path = folder / f"home-{theme}.png"
                    desktop.window.grab().save(str(path))
                    print(path)
                desktop.quit()
                await desktop.closed()

        loop.run_until_complete(capture())
    loop.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests each")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up requests each")
    parser.add_argument("--launches", type=int, default=3, help="launches per variant")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle (RSS, CPU)")
    parser.add_argument("--shots", type=Path, help="save Home screenshots here and exit")
    args = parser.parse_args()
    return shots(args.shots) if args.shots else measure(args)


if __name__ == "__main__":
    sys.exit(main())
