"""Routing cost: the decision, one fallback hop, and memory over a million requests.

    python -m tests.bench.routing [--decisions N] [--hops N] [--cycles N] [--requests N]

1. Decision, in process: ``plan()`` for a combo of 50 targets (the catalog's priced models
   and a few unpriced ones, over 12 providers with two accounts each: 100 attempts in the
   order), once per combo strategy (accounts fill-first) and once per account strategy
   (combo priority), with live figures for every target and account. Microseconds per call.
2. One fallback hop, end to end: ``switchboard serve --headless`` in front of a minimal
   upstream (tests/bench/hop_upstream.py); a combo whose first target answers 503 at once
   versus a direct hit on the second target alone, alternating, on keep-alive sockets.
3. Memory: a million routing cycles in process (plan, then Attempts start / failed /
   succeeded as the gateway does them) over 5,000 connections, 2,000 combos and ever-new
   models, so every bounded map passes its bound; RSS every 100,000. Then ``--requests``
   HTTP requests through the gateway of part 2 with ever-new models, its RSS at start and end.

Informational only: asserts nothing and exits 0 unless the setup itself fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from gateway.config.repository import ComboRow, ConfigState, ConnectionRow
from gateway.config.snapshot import Snapshot, build_snapshot
from gateway.providers.catalog import default_catalog
from gateway.routing.attempts import Attempts
from gateway.routing.failures import Failure, FailureClass
from gateway.routing.plan import plan
from gateway.routing.router import Router
from gateway.routing.strategies import ACCOUNT_STRATEGIES, STRATEGIES
from gateway.security.secrets import Secrets
from tests.bench.overhead import CLIENT_KEY, HOST, RawConn, alternate, build_request, pct, stack

TARGETS = 50
ACCOUNTS = 2
PAGE = os.sysconf("SC_PAGE_SIZE")
FAILED = Failure(FailureClass.SERVER_ERROR, 503, "overloaded", None)


class _NoSecrets:
    """No connection here has a stored key: the snapshot never asks for one."""

    def get(self, ref: str) -> str | None:
        raise AssertionError(f"unexpected secret lookup {ref!r}")


NO_SECRETS = cast(Secrets, _NoSecrets())


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size, from /proc (no psutil)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


# ----------------------------------------------------------------------------- 1. decision


def decision_snapshot() -> Snapshot:
    """12 providers, 2 accounts each; a combo ``c-<strategy>`` of 50 targets per strategy."""
    catalog = default_catalog()
    providers = [p for p in catalog.providers if p.models and not p.custom][:12]
    targets = [f"{p.alias}/{m.id}" for p in providers for m in p.models][:TARGETS]
    targets += [f"{providers[i % 12].alias}/unpriced-{i}" for i in range(TARGETS - len(targets))]
    connections = tuple(
        ConnectionRow(f"{p.id}-{k}", f"{p.id}-{k}", p.id, None, None, None, None, (), True, k)
        for p in providers
        for k in range(ACCOUNTS)
    )
    weights = tuple(float(1 + i % 5) for i in range(TARGETS))
    combos = tuple(
        ComboRow(f"c-{strategy}", strategy, tuple(targets), True, weights)
        for strategy in STRATEGIES
    )
    return build_snapshot(ConfigState(1, {}, connections, combos, ()), catalog, NO_SECRETS)


def warm(router: Router, snapshot: Snapshot, rng: random.Random) -> None:
    """Live figures for every target and account: uses, latencies, some failures."""
    for _ in range(20):
        for target in plan(snapshot, "c-priority", router):
            attempts = Attempts(router, 10)
            token = attempts.start(target)
            if rng.random() < 0.1:
                attempts.failed(target, FAILED, token, rng.uniform(1, 50))
            else:
                attempts.succeeded(target, token, rng.uniform(200, 3000))


def micro(fn: Callable[[], object], calls: int) -> list[float]:
    """Microseconds of each of ``calls`` calls, after a warm-up of a tenth as many."""
    for _ in range(calls // 10):
        fn()
    timer = time.perf_counter_ns
    out = []
    for _ in range(calls):
        start = timer()
        fn()
        out.append((timer() - start) / 1000)
    return out


def decisions(calls: int) -> dict[str, tuple[float, float]]:
    base = decision_snapshot()
    router = Router(rng=random.Random(7))
    warm(router, base, random.Random(11))
    cases: list[tuple[str, str, str]] = [(s, "fill-first", f"combo {s}") for s in STRATEGIES]
    cases += [("priority", a, f"accounts {a}") for a in ACCOUNT_STRATEGIES if a != "fill-first"]
    print(
        f"1. plan() for a combo of {TARGETS} targets x {ACCOUNTS} accounts "
        f"({TARGETS * ACCOUNTS} attempts in order), {calls} calls each, microseconds:"
    )
    out: dict[str, tuple[float, float]] = {}
    for combo_strategy, account_strategy, name in cases:
        settings = dataclasses.replace(base.settings, account_strategy=account_strategy)
        snapshot = dataclasses.replace(base, settings=settings)
        combo = f"c-{combo_strategy}"
        assert len(plan(snapshot, combo, router)) == TARGETS * ACCOUNTS
        times = micro(functools.partial(plan, snapshot, combo, router), calls)
        out[name] = (pct(times, 0.5), pct(times, 0.99))
        print(f"  {name:32} p50 {out[name][0]:7.1f}  p99 {out[name][1]:7.1f}")
    single = micro(functools.partial(plan, base, "openai/gpt-4o", router), calls)
    name = "one target (openai/gpt-4o)"
    print(f"  {name:32} p50 {pct(single, 0.5):7.1f}  p99 {pct(single, 0.99):7.1f}")
    return out


# ----------------------------------------------------------------------------- 2. one hop


def hop_connection(port: int) -> str:
    """The benchmark gateway's one connection, and the combo whose first target fails."""
    return (
        f'name = "bench"\nprovider = "openai"\napi_key = "k"\n'
        f'base_url = "http://{HOST}:{port}/v1"\n'
        '\n[[combos]]\nname = "hop"\ntargets = ["openai/fail", "openai/ok"]\n'
    )


def hop_latency(gw_port: int, requests: int) -> tuple[float, float]:
    """Added p50 and p99 (ms) of a combo that falls back once over a direct hit."""
    reqs = (
        build_request(gw_port, CLIENT_KEY, "openai/ok"),
        build_request(gw_port, CLIENT_KEY, "hop"),
    )
    conns = (RawConn(gw_port), RawConn(gw_port))
    alternate(conns, reqs, max(requests // 10, 50), lambda r: r[0])
    pair = alternate(conns, reqs, requests, lambda r: r[0])
    for conn in conns:
        conn.sock.close()
    print(
        f"\n2. one fallback hop through the gateway, {requests} requests each, ms "
        "(the first target answers 503 at once):"
    )
    for name, values in zip(("direct hit", "one hop"), pair, strict=True):
        print(
            f"  {name:10} p50 {pct(values, 0.5) * 1e3:7.3f}  p99 {pct(values, 0.99) * 1e3:7.3f}"
            f"  mean {statistics.fmean(values) * 1e3:7.3f}"
        )
    p50, p99 = ((pct(pair[1], q) - pct(pair[0], q)) * 1e3 for q in (0.5, 0.99))
    print(f"  the hop adds p50 {p50:.3f}  p99 {p99:.3f}")
    return p50, p99


# ----------------------------------------------------------------------------- 3. memory


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cycle_snapshot() -> Snapshot:
    """5,000 connections (one alias each) and 2,000 round-robin combos of 3 targets;
    accounts round-robin (sticky), so every strategy state is used."""
    connections = tuple(
        ConnectionRow(
            f"c{i}",
            f"c{i}",
            "custom",
            "openai",
            f"a{i}",
            "http://127.0.0.1:9/v1",
            None,
            (),
            True,
            1,
        )
        for i in range(5000)
    )
    combos = tuple(
        ComboRow(
            f"k{i}",
            "round-robin",
            tuple(f"a{(i * 3 + j) % 5000}/m{i % 9000}" for j in range(3)),
            True,
        )
        for i in range(2000)
    )
    state = ConfigState(1, {"account_strategy": "round-robin"}, connections, combos, ())
    return build_snapshot(state, default_catalog(), NO_SECRETS)


def one_request(snapshot: Snapshot, router: Router, name: str, fail_first: bool) -> None:
    """What exchange.serve does with the router, minus the HTTP."""
    attempts = Attempts(router, snapshot.settings.max_attempts)
    for index, target in enumerate(plan(snapshot, name, router)):
        upstream = target.upstream
        why = router.blocked(upstream.connection_id, upstream.provider, target.model)
        if why is not None:
            attempts.skip(target, why)
            continue
        token = attempts.start(target)
        if fail_first and index == 0:
            attempts.failed(target, FAILED, token, 2.0)
            continue
        attempts.succeeded(target, token, 150.0)
        return
    attempts.summary(name)


def cycles(total: int, every: int) -> tuple[float, float]:
    """RSS (MiB) after the first report and at the end."""
    clock = _Clock()
    router = Router(clock=clock, rng=random.Random(3))
    snapshot = cycle_snapshot()
    print(
        f"\n3. {total:,} routing cycles in process (5,000 connections, 2,000 combos, "
        "new models all along; every third request's first attempt fails):"
    )
    print(
        f"  {'cycles':>9} {'RSS MiB':>8} {'us/cycle':>8}  sizes: breakers cooldowns stats rr sticky"
    )
    first = 0.0
    start = time.perf_counter()
    for i in range(1, total + 1):
        clock.now += 0.001
        j = i // 2
        name = f"k{j % 2000}" if i % 2 else f"a{j % 5000}/n{j % 12007}"
        one_request(snapshot, router, name, fail_first=i % 3 == 0)
        if i % every == 0:
            rss = rss_mib()
            first = first or rss
            spent = (time.perf_counter() - start) / every * 1e6
            sizes = (
                len(router.breakers),
                len(router.cooldowns),
                len(router.stats),
                len(router.round_robin),
                len(router.sticky),
            )
            print(f"  {i:9,} {rss:8.1f} {spent:8.1f}  {' '.join(map(str, sizes))}")
            start = time.perf_counter()
    return first, rss_mib()


def http_memory(gw_port: int, pid: int, requests: int) -> tuple[float, float]:
    """Gateway RSS (MiB) after a warm-up and after ``requests`` more, ever-new models."""
    conn = RawConn(gw_port)
    built: dict[str, bytes] = {}

    def send(i: int) -> None:
        model = "hop" if i % 4 == 0 else f"openai/m{i % 20011}"
        request = built.get(model) or build_request(gw_port, CLIENT_KEY, model)
        if model == "hop":
            built[model] = request
        conn.send(request)

    for i in range(2000):
        send(i)
    start = rss_mib(pid)
    print(f"\n   HTTP: {requests:,} requests through the gateway (a quarter hop), gateway RSS MiB:")
    print(f"  {0:9,} {start:8.1f}")
    began = time.perf_counter()
    step = max(requests // 5, 1)
    for i in range(requests):
        send(i + 2000)
        if (i + 1) % step == 0:
            print(f"  {i + 1:9,} {rss_mib(pid):8.1f}")
    rate = requests / (time.perf_counter() - began)
    conn.sock.close()
    end = rss_mib(pid)
    print(f"  ({rate:.0f} req/s sequential)")
    return start, end


# ----------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=2000, help="plan() calls per strategy")
    parser.add_argument("--hops", type=int, default=2000, help="requests each, hop vs direct")
    parser.add_argument("--cycles", type=int, default=1_000_000, help="in-process cycles")
    parser.add_argument("--requests", type=int, default=50_000, help="HTTP requests for RSS")
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"{os.cpu_count()} cores, load average {load} (a busy machine inflates the p99s)\n")

    costs = decisions(args.decisions)
    with (
        tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp,
        stack(Path(tmp), "tests.bench.hop_upstream", hop_connection) as (_, gw_port, procs),
    ):
        hop = hop_latency(gw_port, args.hops)
        mem = cycles(args.cycles, max(args.cycles // 10, 1))
        http = http_memory(gw_port, procs[1].pid, args.requests)

    worst = max(costs.items(), key=lambda item: item[1][0])
    print(
        f"\nsummary: plan() over {TARGETS} targets p50 {min(c[0] for c in costs.values()):.0f}"
        f"-{worst[1][0]:.0f} us (slowest: {worst[0]}, p99 {worst[1][1]:.0f} us) | one hop "
        f"adds p50 {hop[0]:.2f} ms, p99 {hop[1]:.2f} ms | RSS over {args.cycles:,} cycles "
        f"{mem[0]:.1f} -> {mem[1]:.1f} MiB | gateway over {args.requests:,} requests "
        f"{http[0]:.1f} -> {http[1]:.1f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
