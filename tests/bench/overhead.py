"""Gateway overhead: added latency, stream TTFB and buffering, throughput, CPU per request.

    python -m tests.bench.overhead [--requests N] [--concurrency C] [--duration S]

Starts the fake OpenAI upstream and ``switchboard serve --headless`` as subprocesses (gateway
pinned to core 0, upstream to core 1 when there are two cores) and compares requests sent
directly to the upstream with the same requests sent through the gateway, using raw HTTP/1.1
clients (prebuilt request bytes on keep-alive sockets) so that client noise stays low.
Informational only: asserts nothing and exits 0 unless the setup itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

import orjson

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CLIENT_KEY = "sk-sb-0123456789abcdef0123456789abcdef"
UPSTREAM_KEY = "sk-upstream-test"
GATEWAY_CORE, UPSTREAM_CORE = 0, 1
TARGET_P50_MS, TARGET_P99_MS, TARGET_RPS = 0.5, 2.0, 1500.0
Result = tuple[float, float | None, float | None]  # total, first data: chunk, last one (s)
Pick = Callable[[Result], float | None]
Procs = tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]


def build_request(port: int, key: str, model: str, *, stream: bool = False) -> bytes:
    body: dict[str, object] = {
        "model": model,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "Say hello to the overhead benchmark"}],
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    raw = orjson.dumps(body)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


class RawConn:
    """A blocking keep-alive HTTP/1.1 connection: the cheapest client Python offers."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")  # C-buffered readline() / read(n)

    def send(self, request: bytes) -> Result:
        t0 = time.perf_counter()
        self.sock.sendall(request)
        if (status := self.file.readline())[9:12] != b"200":
            raise RuntimeError(f"{status!r} from port {self.sock.getpeername()[1]}")
        headers = {}
        while (line := self.file.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            headers[name.lower()] = value.strip().lower()
        first = last = None
        if headers.get(b"transfer-encoding") == b"chunked":
            while size := int(self.file.readline().split(b";")[0], 16):
                if b"data:" in self.file.read(size + 2):  # timed as soon as it is complete
                    last = time.perf_counter() - t0
                    first = last if first is None else first
            self.file.readline()
        else:
            self.file.read(int(headers[b"content-length"]))
        return time.perf_counter() - t0, first, last


def cpu_s(pid: int) -> float:
    """utime + stime of a whole process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def openai_connection(up_port: int) -> str:
    return (
        f'name = "fake"\nprovider = "openai"\napi_key = "{UPSTREAM_KEY}"\n'
        f'base_url = "http://{HOST}:{up_port}/v1"\n'
    )


@contextmanager
def stack(
    tmp: Path,
    fake: str = "tests.fakes.openai_upstream",
    connection: Callable[[int], str] = openai_connection,
) -> Iterator[tuple[int, int, Procs]]:
    """Start upstream (module ``fake``) + gateway with one connection (``connection(port)``,
    TOML); yield their ports and processes; always stop them."""
    env = os.environ | {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "SWITCHBOARD_SECRET_KEY": "bench",
        "HOME": str(tmp),
        "SWITCHBOARD_DATA_DIR": str(tmp / "data"),
        "XDG_DATA_HOME": str(tmp),
        "XDG_CONFIG_HOME": str(tmp),
    }
    procs: list[subprocess.Popen[bytes]] = []
    run: dict[str, Any] = {"cwd": ROOT, "env": env}

    def spawn(name: str, core: int, args: list[str]) -> subprocess.Popen[bytes]:
        pin = (lambda: os.sched_setaffinity(0, {core})) if can_pin() else None
        cmd = [sys.executable, *args]
        with (tmp / f"{name}.log").open("wb") as out:  # the child keeps its own handle
            procs.append(subprocess.Popen(cmd, **run, stdout=out, stderr=out, preexec_fn=pin))
        return procs[-1]

    def wait_for(name: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 30
        while not ready():
            if procs[-1].poll() is not None or time.monotonic() > deadline:
                log = (tmp / f"{name}.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"{name} did not start (exit {procs[-1].poll()}):\n{log}")
            time.sleep(0.05)

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{gw_port}/health", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    with socket.socket() as a, socket.socket() as b:  # two free ports
        a.bind((HOST, 0))
        b.bind((HOST, 0))
        up_port, gw_port = a.getsockname()[1], b.getsockname()[1]
    data = ["--data-dir", str(tmp / "data")]
    try:
        up_args = ["-m", fake, "--no-record", "--port", str(up_port)]
        upstream = spawn("upstream", UPSTREAM_CORE, up_args)
        wait_for("upstream", lambda: b"listening on" in (tmp / "upstream.log").read_bytes())
        (tmp / "bench.toml").write_text(
            f'[settings]\nrequire_api_key = true\n[[api_keys]]\nname = "bench"\n'
            f'key = "{CLIENT_KEY}"\n[[connections]]\n{connection(up_port)}'
        )
        cmd = [sys.executable, "-m", "gateway", "config", "import", str(tmp / "bench.toml")]
        subprocess.run([*cmd, *data], **run, check=True, stdout=subprocess.DEVNULL)
        gw_args = ["-m", "gateway", "serve", "--headless", "--port", str(gw_port), *data]
        gateway = spawn("gateway", GATEWAY_CORE, gw_args)
        wait_for("gateway", healthy)
        yield up_port, gw_port, (upstream, gateway)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Pair = tuple[list[float], list[float]]  # samples: direct, through the gateway


def alternate(conns: tuple[RawConn, ...], reqs: tuple[bytes, ...], n: int, pick: Pick) -> Pair:
    """pick(result) of n direct and n gateway requests, interleaved so that both see the
    same machine noise."""
    out: tuple[list[float], list[float]] = ([], [])
    for _ in range(n):
        for conn, req, samples in zip(conns, reqs, out, strict=True):
            if (value := pick(conn.send(req))) is not None:
                samples.append(value)
    return out


def drip_gap(result: Result) -> float | None:
    """Time between the first and the last ``data:`` chunk of a stream."""
    _, first, last = result
    return None if first is None or last is None else last - first


def compare(title: str, pair: Pair) -> tuple[float, float]:
    """Print both distributions; return added p50 and p99 (ms), each percentile subtracted."""
    print(f"{title}, {len(pair[0])} each:")
    for name, values in zip(("direct", "gateway"), pair, strict=True):
        print(
            f"  {name:8} p50 {pct(values, 0.5) * 1e3:7.3f}  p99 {pct(values, 0.99) * 1e3:7.3f}"
            f"  mean {statistics.fmean(values) * 1e3:7.3f} ms"
        )
    p50, p99 = ((pct(pair[1], q) - pct(pair[0], q)) * 1e3 for q in (0.5, 0.99))
    mean = (statistics.fmean(pair[1]) - statistics.fmean(pair[0])) * 1e3
    print(f"  added    p50 {p50:7.3f}  p99 {p99:7.3f}  mean {mean:7.3f} ms")
    return p50, p99


# ----------------------------------------------------------------------------- load


async def _load(port: int, request: bytes, conns: int, start: float, stop: float) -> int:
    async def worker() -> int:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = 0
        while (sent := time.time()) < stop:
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).lower()
            if head[9:12] != b"200":
                raise RuntimeError(f"HTTP {head[9:12].decode()} under load")
            await reader.readexactly(int(head.split(b"content-length:")[1].split(b"\r\n")[0]))
            done += sent >= start and time.time() <= stop  # count only the measured window
        writer.close()
        return done

    return sum(await asyncio.gather(*(worker() for _ in range(conns))))


def _client_process(job: tuple[int, bytes, int, float, float, set[int]]) -> tuple[int, float]:
    """(requests completed in the window, CPU seconds this client process used)."""
    port, request, conns, start, stop, cores = job
    if cores:
        os.sched_setaffinity(0, cores)
    run: Callable[[Coroutine[Any, Any, int]], int] = asyncio.run
    with suppress(ImportError):
        import uvloop

        run = uvloop.run
    cpu = time.process_time()
    return run(_load(port, request, conns, start, stop)), time.process_time() - cpu


class Load(NamedTuple):
    rps: float
    busy: float  # share of its one core that the server under test used
    server_ms: float  # CPU per 1000 requests of the server under test,
    other_ms: float  # of the other server process,
    client_ms: float  # of all client processes together


def throughput(
    args: argparse.Namespace, port: int, request: bytes, pids: tuple[int, int], avoid_core: int
) -> Load:
    """Load ``port`` from client processes kept off ``avoid_core``; pids: (server, other)."""
    cores = {c for c in range(os.cpu_count() or 1) if c != avoid_core} if can_pin() else set()
    n, extra = divmod(args.concurrency, args.clients)
    start = time.time() + 1.0  # time for the client processes to start and connect
    stop = start + args.duration
    jobs = [(port, request, n + (i < extra), start, stop, cores) for i in range(args.clients)]
    with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        pending = pool.map_async(_client_process, [job for job in jobs if job[2]])
        time.sleep(max(0.0, start - time.time()))
        before = [cpu_s(pid) for pid in pids]
        time.sleep(max(0.0, stop - time.time()))
        server, other = (cpu_s(pid) - cpu for pid, cpu in zip(pids, before, strict=True))
        results = pending.get(args.duration + 60)
    done = sum(r[0] for r in results)
    per_k = 1e6 / max(done, 1)  # CPU seconds -> ms per 1000 requests
    clients = sum(r[1] for r in results)
    rps, busy = done / args.duration, server / args.duration
    return Load(rps, busy, server * per_k, other * per_k, clients * per_k)


# ----------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests each")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up requests each")
    parser.add_argument("--streams", type=int, default=300, help="streamed requests each")
    parser.add_argument("--concurrency", type=int, default=32, help="connections under load")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp,
        stack(Path(tmp)) as (up_port, gw_port, (upstream, gateway)),
    ):
        if can_pin():
            tasks = Path(f"/proc/{gateway.pid}/task").iterdir()  # every thread
            cores = set().union(*(os.sched_getaffinity(int(t.name)) for t in tasks))
            print(
                f"pinned: gateway (pid {gateway.pid}, all threads) to cores {sorted(cores)}, "
                f"upstream (pid {upstream.pid}) to cores "
                f"{sorted(os.sched_getaffinity(upstream.pid))}; {os.cpu_count()} cores"
            )
        else:
            print("nothing pinned: fewer than 2 cores or no sched_setaffinity")

        def pair(model: str, stream: bool = False) -> tuple[bytes, bytes]:
            direct = build_request(up_port, UPSTREAM_KEY, model, stream=stream)
            return direct, build_request(gw_port, CLIENT_KEY, "openai/" + model, stream=stream)

        plain, streamed = pair("fake-echo"), pair("fake-echo", stream=True)
        conns = RawConn(up_port), RawConn(gw_port)
        print(
            "\nclient: blocking socket (unpinned), one keep-alive connection per target, "
            "prebuilt HTTP/1.1 bytes, TCP_NODELAY;\ndirect and gateway requests alternate; "
            "added = a gateway percentile minus the same percentile of direct"
        )
        alternate(conns, plain, args.warmup, lambda r: r[0])
        latency = alternate(conns, plain, args.requests, lambda r: r[0])
        add_p50, add_p99 = compare("latency, non-stream, concurrency 1", latency)
        ttfb = alternate(conns, streamed, args.streams, lambda r: r[1])
        ttfb_p50, _ = compare("stream, time to the first 'data:' chunk", ttfb)
        gaps = alternate(conns, pair("fake-drip-50", stream=True), 4, drip_gap)
        d_gap, g_gap = (statistics.fmean(g) * 1e3 for g in gaps)
        print(
            f"fake-drip-50, first -> last chunk: direct {d_gap:.1f} ms, gateway {g_gap:.1f} ms "
            f"({'not buffered' if abs(g_gap - d_gap) < 25 else 'BUFFERED?'})"
        )
        for conn in conns:
            conn.sock.close()

        print(
            f"\nthroughput, non-stream, {args.duration:g} s each: {args.clients} client "
            f"processes (asyncio/uvloop, raw sockets, keep-alive), concurrency "
            f"{args.concurrency}, kept off the core of the server under test"
        )
        gw = throughput(args, gw_port, plain[1], (gateway.pid, upstream.pid), GATEWAY_CORE)
        dr = throughput(args, up_port, plain[0], (upstream.pid, gateway.pid), UPSTREAM_CORE)
        for name, load, other in (("gateway", gw, "upstream"), ("direct", dr, "gateway")):
            print(
                f"  {name:8} {load.rps:6.0f} req/s, core {load.busy:4.0%} busy; CPU ms per "
                f"1000 req: server {load.server_ms:5.1f}, {other} {load.other_ms:5.1f}, "
                f"clients {load.client_ms:5.1f}"
            )
        if gw.busy < 0.9:
            print(
                "  the gateway's core was not saturated (client/upstream side limited); "
                f"CPU-bound ceiling on one core ~ {1e6 / max(gw.server_ms, 1e-9):.0f} req/s"
            )

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print("\nsummary (targets: added p50 <= 0.5 ms, p99 <= 2 ms, >= 1,500 req/s on one core)")
    print(
        f"added latency p50 {add_p50:.2f} ms {mark(add_p50 <= TARGET_P50_MS)}  p99 "
        f"{add_p99:.2f} ms {mark(add_p99 <= TARGET_P99_MS)} | gateway {gw.rps:.0f} req/s on 1 "
        f"core {mark(gw.rps >= TARGET_RPS)} (direct {dr.rps:.0f} req/s) | ttfb added p50 "
        f"{ttfb_p50:.2f} ms | CPU {gw.server_ms / 1000:.3f} ms/request"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
