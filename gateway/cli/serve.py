"""``switchboard serve --headless``: the gateway on a plain asyncio loop, no Qt."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from gateway.cli.common import CliError, data_dir_of, port_number
from gateway.service import GatewayService, ServiceError

SHUTDOWN_GRACE_S = 10.0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "serve",
        parents=[common],
        help="run the gateway",
        description="Run the gateway. --headless runs it without the desktop app (no Qt).",
    )
    parser.add_argument(
        "--headless", action="store_true", help="no desktop app (`switchboard` alone starts it)"
    )
    parser.add_argument("--host", help="bind address (default: the host setting, 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        default=argparse.SUPPRESS,
        help="port (default: the port setting, 20128)",
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    service = GatewayService(
        data_dir_of(args),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        shutdown_timeout=SHUTDOWN_GRACE_S,
    )
    return run_loop(lambda: _serve(service))


def run_loop(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run ``main`` on uvloop when it is installed, else on the default asyncio loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result: int = runner.run(main())
        return result


async def _serve(service: GatewayService) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: there Ctrl+C raises KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await service.start()
    except ServiceError as exc:
        raise CliError(str(exc), exit_code=2) from None
    print(f"Switchboard gateway listening on {service.endpoint}", flush=True)
    print(f"Data folder: {service.data_dir}", flush=True)
    if service.created_key:
        print(
            f"Created the client API key 'default' (shown only now): {service.created_key}\n"
            "Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        print(
            f"Shutting down: finishing requests in flight (up to {SHUTDOWN_GRACE_S:.0f} s)…",
            file=sys.stderr,
            flush=True,
        )
        await service.stop()
    return 0
