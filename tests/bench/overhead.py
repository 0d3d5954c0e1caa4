"""Gateway overhead benchmark: added latency, stream TTFB/buffering, throughput, CPU per request.

Run: ``python -m tests.bench.overhead [--requests N] [--concurrency C] [--duration S]``.
Starts the fake OpenAI upstream and ``switchboard serve --headless`` as subprocesses (gateway
pinned to core 0, upstream to core 1), measures direct-to-upstream vs through-the-gateway with
raw HTTP/1.1 clients (prebuilt request bytes on keep-alive sockets), prints figures. Informational
only: exits 0 unless the setup itself fails.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CLIENT_KEY = "sk-sb-0123456789abcdef0123456789abcdef"
UPSTREAM_KEY = "sk-upstream-test"
GATEWAY_CORE, UPSTREAM_CORE = 0, 1
TICKS = os.sysconf("SC_CLK_TCK")
TARGET_P50_MS, TARGET_P99_MS, TARGET_RPS = 0.5, 2.0, 1500.0
Preexec = Callable[[], None] | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def build_request(port: int, key: str, model: str, *, stream: bool = False) -> bytes:
    body: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello to the overhead benchmark"}],
        "max_tokens": 32,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    raw = orjson.dumps(body)
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n")
    return head.encode() + raw


class RawConn:
    """A blocking keep-alive HTTP/1.1 connection: the cheapest client Python offers."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.t_recv = 0.0

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("server closed the connection")
        self.t_recv = time.perf_counter()
        self.buf += data

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self, sep: bytes = b"\r\n") -> bytes:
        while sep not in self.buf:
            self._fill()
        out, self.buf = self.buf.split(sep, 1)
        return out

    def send(self, request: bytes) -> tuple[float, float | None, float | None]:
        """(total s, first ``data:`` chunk s, last ``data:`` chunk s) for one exchange."""
        t0 = time.perf_counter()
        self.sock.sendall(request)
        head = self._line(b"\r\n\r\n").lower()
        if head[9:12] != b"200":
            raise RuntimeError(f"HTTP {head[9:12].decode()}: {self.buf[:300]!r}")
        first = last = None
        if b"transfer-encoding: chunked" in head:
            while size := int(self._line().split(b";")[0], 16):
                if b"data:" in self._take(size + 2):
                    first = first if first is not None else self.t_recv - t0
                    last = self.t_recv - t0
            self._take(2)
        else:
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            self._take(length)
        return time.perf_counter() - t0, first, last


def cpu_s(pid: int) -> float:
    """utime + stime of a whole process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def pin(core: int) -> Preexec:
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {core})


@contextmanager
def stack(tmp: Path) -> Iterator[tuple[int, int, subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """Start upstream + gateway; yield (upstream port, gateway port, processes); always stop."""
    env = os.environ | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                        "SWITCHBOARD_SECRET_KEY": "bench", "HOME": str(tmp),
                        "SWITCHBOARD_DATA_DIR": str(tmp / "data"),
                        "XDG_CONFIG_HOME": str(tmp / "xdg"), "XDG_DATA_HOME": str(tmp / "xdg")}
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(name: str, args: list[str], core: int) -> subprocess.Popen[bytes]:
        with (tmp / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, preexec_fn=pin(core))
        procs.append(proc)
        return proc

    def wait_for(name: str, proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 30
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (tmp / f"{name}.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"{name} did not start (exit {proc.poll()}):\n{log}")
            time.sleep(0.05)

    def healthy(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    up_port, gw_port = free_port(), free_port()
    try:
        upstream = spawn("upstream", ["-m", "tests.fakes.openai_upstream", "--port",
                                      str(up_port), "--no-record"], UPSTREAM_CORE)
        wait_for("upstream", upstream,
                 lambda: "listening on" in (tmp / "upstream.log").read_text(errors="replace"))
        config = tmp / "bench.toml"
        config.write_text(f'[settings]\nrequire_api_key = true\n[[api_keys]]\nname = "bench"\n'
                          f'key = "{CLIENT_KEY}"\n[[connections]]\nname = "fake"\n'
                          f'provider = "openai"\napi_key = "{UPSTREAM_KEY}"\n'
                          f'base_url = "http://{HOST}:{up_port}/v1"\n')
        subprocess.run([sys.executable, "-m", "gateway", "config", "import", str(config),
                        "--data-dir", str(tmp / "data")], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        gateway = spawn("gateway", ["-m", "gateway", "serve", "--headless", "--data-dir",
                                    str(tmp / "data"), "--port", str(gw_port)], GATEWAY_CORE)
        wait_for("gateway", gateway, lambda: healthy(gw_port))
        yield up_port, gw_port, upstream, gateway
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


def ms(values: list[float]) -> str:
    return (f"p50 {pct(values, 0.5) * 1e3:7.3f}  p99 {pct(values, 0.99) * 1e3:7.3f}  "
            f"mean {statistics.fmean(values) * 1e3:7.3f} ms")


def alternate(direct: RawConn, gateway: RawConn, reqs: tuple[bytes, bytes], n: int,
              pick: Callable[[tuple[float, float | None, float | None]], float | None],
              ) -> tuple[list[float], list[float]]:
    """Interleave direct and gateway requests so both see the same machine noise."""
    out: tuple[list[float], list[float]] = ([], [])
    for _ in range(n):
        for conn, req, samples in ((direct, reqs[0], out[0]), (gateway, reqs[1], out[1])):
            value = pick(conn.send(req))
            if value is not None:
                samples.append(value)
    return out


# -------------------------------------------------------------------------- load clients


async def _load(port: int, request: bytes, conns: int, start: float, stop: float) -> int:
    async def worker() -> int:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = 0
        while (now := time.time()) < stop:
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).lower()
            if head[9:12] != b"200":
                raise RuntimeError(f"HTTP {head[9:12].decode()} under load")
            await reader.readexactly(int(head.split(b"content-length:")[1].split(b"\r\n")[0]))
            done += now >= start and time.time() <= stop
        writer.close()
        return done

    return sum(await asyncio.gather(*(worker() for _ in range(conns))))


def _client_process(args: tuple[int, bytes, int, float, float, set[int] | None]
                    ) -> tuple[int, float]:
    """(requests completed in the window, CPU seconds this client process used)."""
    port, request, conns, start, stop, cores = args
    if cores:
        os.sched_setaffinity(0, cores)
    try:
        from uvloop import run
    except ImportError:
        from asyncio import run
    cpu = time.process_time()
    done = run(_load(port, request, conns, start, stop))
    return done, time.process_time() - cpu


class Load:
    """What one load phase measured."""

    def __init__(self, done: int, seconds: float, server: float, other: float,
                 clients: float) -> None:
        per_k = 1e6 / max(done, 1)  # CPU seconds -> ms per 1000 requests
        self.rps = done / seconds
        self.busy = server / seconds  # share of its one core the server under test used
        self.server_ms, self.other_ms, self.client_ms = (
            server * per_k, other * per_k, clients * per_k)


def throughput(port: int, request: bytes, args: argparse.Namespace, avoid_core: int,
               server_pid: int, other_pid: int) -> Load:
    ncpu = os.cpu_count() or 1
    cores = {c for c in range(ncpu) if c != avoid_core} if ncpu >= 2 else None
    per_proc = [args.concurrency // args.clients + (i < args.concurrency % args.clients)
                for i in range(args.clients)]
    start = time.time() + 1.0  # time for the processes to start and connect
    stop = start + args.duration
    jobs = [(port, request, n, start, stop, cores) for n in per_proc if n]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        pending = pool.map_async(_client_process, jobs)
        time.sleep(max(0.0, start - time.time()))
        cpu0, other0 = cpu_s(server_pid), cpu_s(other_pid)
        time.sleep(max(0.0, stop - time.time()))
        cpu1, other1 = cpu_s(server_pid), cpu_s(other_pid)
        results = pending.get(args.duration + 60)
    return Load(sum(r[0] for r in results), args.duration, cpu1 - cpu0, other1 - other0,
                sum(r[1] for r in results))


# -------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests each")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--streams", type=int, default=300, help="streamed requests each")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp_name, \
            stack(Path(tmp_name)) as (up_port, gw_port, upstream, gateway):
        if pin(0) is None:
            print("fewer than 2 cores (or no sched_setaffinity): nothing pinned")
        else:
            print(f"pinned: gateway pid {gateway.pid} -> core {GATEWAY_CORE} "
                  f"{sorted(os.sched_getaffinity(gateway.pid))}, upstream pid {upstream.pid} -> "
                  f"core {UPSTREAM_CORE} {sorted(os.sched_getaffinity(upstream.pid))}; "
                  f"{os.cpu_count()} cores; latency client unpinned")
        plain = (build_request(up_port, UPSTREAM_KEY, "fake-echo"),
                 build_request(gw_port, CLIENT_KEY, "openai/fake-echo"))
        streamed = (build_request(up_port, UPSTREAM_KEY, "fake-echo", stream=True),
                    build_request(gw_port, CLIENT_KEY, "openai/fake-echo", stream=True))
        drip = (build_request(up_port, UPSTREAM_KEY, "fake-drip-50", stream=True),
                build_request(gw_port, CLIENT_KEY, "openai/fake-drip-50", stream=True))
        direct, through = RawConn(up_port), RawConn(gw_port)

        print("\nclient: blocking socket, one keep-alive connection per target, prebuilt "
              "HTTP/1.1 bytes; direct and gateway requests alternate")
        alternate(direct, through, plain, args.warmup, lambda r: r[0])
        d_lat, g_lat = alternate(direct, through, plain, args.requests, lambda r: r[0])
        add_p50 = pct(g_lat, 0.5) - pct(d_lat, 0.5)
        add_p99 = pct(g_lat, 0.99) - pct(d_lat, 0.99)
        print(f"latency, non-stream, concurrency 1, {args.requests} each:")
        print(f"  direct   {ms(d_lat)}\n  gateway  {ms(g_lat)}")
        print(f"  added    p50 {add_p50 * 1e3:.3f} ms  p99 {add_p99 * 1e3:.3f} ms  mean "
              f"{(statistics.fmean(g_lat) - statistics.fmean(d_lat)) * 1e3:.3f} ms "
              "(percentile of gateway minus the same percentile of direct)")

        d_ttfb, g_ttfb = alternate(direct, through, streamed, args.streams, lambda r: r[1])
        ttfb_add = pct(g_ttfb, 0.5) - pct(d_ttfb, 0.5)
        print(f"stream TTFB (first 'data:' chunk), {args.streams} each:")
        print(f"  direct   {ms(d_ttfb)}\n  gateway  {ms(g_ttfb)}")
        print(f"  added    p50 {ttfb_add * 1e3:.3f} ms  "
              f"p99 {(pct(g_ttfb, 0.99) - pct(d_ttfb, 0.99)) * 1e3:.3f} ms")

        gaps = alternate(direct, through, drip, 5,
                         lambda r: None if r[1] is None or r[2] is None else r[2] - r[1])
        print("buffering check, fake-drip-50 (first -> last chunk):")
        print(f"  direct {statistics.fmean(gaps[0]) * 1e3:.1f} ms  gateway "
              f"{statistics.fmean(gaps[1]) * 1e3:.1f} ms "
              f"({'not buffered' if abs(statistics.fmean(gaps[1]) - statistics.fmean(gaps[0])) < 0.025 else 'BUFFERED?'})")
        direct.sock.close()
        through.sock.close()

        print(f"\nthroughput: {args.clients} client processes (asyncio + raw sockets, "
              f"keep-alive), concurrency {args.concurrency}, {args.duration:g} s each; "
              "clients avoid the core of the server under test")
        g_rps, g_cpu, g_up_cpu = throughput(gw_port, plain[1], args, GATEWAY_CORE,
                                            gateway.pid, upstream.pid)
        print(f"  gateway  {g_rps:8.0f} req/s   gateway CPU {g_cpu:6.1f} ms/1000 req  "
              f"(upstream CPU {g_up_cpu:.1f} ms/1000)")
        d_rps, d_cpu, _ = throughput(up_port, plain[0], args, UPSTREAM_CORE,
                                     upstream.pid, gateway.pid)
        print(f"  direct   {d_rps:8.0f} req/s   upstream CPU {d_cpu:6.1f} ms/1000 req")

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print("\nsummary (targets: added p50 <= 0.5 ms, p99 <= 2 ms, >= 1500 req/s on one core)")
    print(f"added latency p50 {add_p50 * 1e3:.2f} ms {mark(add_p50 * 1e3 <= TARGET_P50_MS)}  "
          f"p99 {add_p99 * 1e3:.2f} ms {mark(add_p99 * 1e3 <= TARGET_P99_MS)} | gateway "
          f"{g_rps:.0f} req/s on 1 core {mark(g_rps >= TARGET_RPS)} (direct {d_rps:.0f} req/s) "
          f"| ttfb added p50 {ttfb_add * 1e3:.2f} ms | CPU {g_cpu / 1000:.3f} ms/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
