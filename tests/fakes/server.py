"""What every fake upstream shares: running its aiohttp app on a real socket, in a test
(``async with FakeX() as fake``) or as a process for benchmarks (``python -m tests.fakes.x``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

# A 429 with no hint of when to retry (no Retry-After or rate-limit headers, no time in the
# message): the gateway must fall back on its own backoff. Every fake answers it.
BARE_429 = "fake-error-429-bare"


class FakeServer:
    """Subclasses set ``name``, ``default_key`` and ``base_path`` and implement ``make_state``
    and ``make_app``."""

    name = "fake"
    default_key = ""
    base_path = ""  # appended to the root URL in base_url: "/v1" for OpenAI-style APIs

    def __init__(
        self,
        api_key: str | None = None,
        *,
        record: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state: Any = self.make_state(api_key or self.default_key, record)
        self.host = host
        self._wanted_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None

    def make_state(self, api_key: str, record: bool) -> Any:
        raise NotImplementedError

    def make_app(self) -> web.Application:
        raise NotImplementedError

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """What the provider's official SDK takes as its base URL."""
        return f"http://{self.host}:{self.port}{self.base_path}"

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        runner = web.AppRunner(
            self.make_app(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._wanted_port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def _serve(fake: FakeServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(f"listening on {fake.base_url}", flush=True)
        await stop.wait()


def run_process(
    fake_class: type[FakeServer], module: str, description: str, argv: Sequence[str] | None = None
) -> int:
    """``python -m <module> --port N``: prints "listening on <base url>" once ready."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default=fake_class.default_key)
    parser.add_argument("--no-record", action="store_true", help="do not keep requests")
    args = parser.parse_args(argv)
    fake = fake_class(args.api_key, record=not args.no_record, host=args.host, port=args.port)
    try:
        import uvloop
    except ImportError:
        runner: Any = asyncio.run
    else:
        runner = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(_serve(fake))
    return 0
