"""What a desktop notification costs the GUI thread, and how long the D-Bus round trip is.

    python -m tests.bench.notify [--notes N]

A private session bus and the fake notification server (tests/support/), once answering at
once and once taking 200 ms per ``Notify`` (a slow or hung server). For each: the time
``LinuxNotifier.notify`` takes on the calling (GUI) thread, and the time until the server has
recorded the call. Then the health watcher's poll over 500 connections (every 2 s on the
gateway's loop). Informational only: asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from types import MappingProxyType

from PySide6.QtCore import QCoreApplication

from app.notify.linux import LinuxNotifier
from app.notify.note import Note
from gateway.config.snapshot import Upstream
from gateway.observe.health_events import HealthTracker
from gateway.routing.router import Router
from tests.support.dbus_session import fake_notification_server, private_session_bus


def lines(record: Path) -> int:
    return len(record.read_text().splitlines()) if record.exists() else 0


def notify_run(address: str, notes: int, delay_ms: float) -> None:
    record = Path(tempfile.mkdtemp()) / f"notify-{delay_ms:g}.jsonl"
    with fake_notification_server(address, record, delay_ms=delay_ms):
        notifier = LinuxNotifier(address=address)
        calls, trips = [], []
        try:
            for n in range(notes):
                start = time.perf_counter()
                notifier.notify(Note("quota_warning", f"note {n}", "body", "usage"))
                calls.append((time.perf_counter() - start) * 1e6)
                while lines(record) < n + 1:
                    time.sleep(0.0005)
                trips.append((time.perf_counter() - start) * 1e3)
        finally:
            notifier.close()
    first, rest = trips[0], trips[1:]
    print(
        f"server delay {delay_ms:>5g} ms: notify() on the GUI thread median "
        f"{statistics.median(calls):.1f} µs, max {max(calls):.1f} µs; until recorded: first "
        f"(connects) {first:.1f} ms, then median {statistics.median(rest):.1f} ms"
    )


def poll_cost(connections: int) -> None:
    upstreams = tuple(
        Upstream(
            f"id{n}",
            f"c{n}",
            f"p{n % 50}",
            "P",
            "p",
            "openai",
            "http://x",
            MappingProxyType({}),
            frozenset(),
            1,
        )
        for n in range(connections)
    )
    router = Router()
    for n in range(0, connections, 3):  # some breakers exist, a few marks
        router.outcome(f"id{n}", f"p{n % 50}", ok=False, reason="x")
    router.logins.mark("id7")
    tracker = HealthTracker()
    tracker.poll(router, upstreams)
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        tracker.poll(router, upstreams)
    per_poll = (time.perf_counter() - start) / rounds * 1e6
    print(f"health poll over {connections} connections / 50 providers: {per_poll:.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=40)
    args = parser.parse_args()
    QCoreApplication([])
    with private_session_bus() as address:
        notify_run(address, args.notes, 0)
        notify_run(address, min(args.notes, 10), 200)
    poll_cost(500)


if __name__ == "__main__":
    main()
