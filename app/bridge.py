"""GatewayBridge: the desktop's one way to the gateway (GatewayService), from GUI coroutines.

Thread mode (the default): the gateway runs on its own asyncio loop (uvloop when installed) in
a daemon thread, so a stalled GUI (a slow paint, a modal dialog) never stalls a request.
Awaiting a bridge method from the GUI's qasync loop submits the work with
``run_coroutine_threadsafe`` and awaits its result without blocking the GUI. Shared mode: the
gateway runs on the GUI's own loop and the same methods simply await.

Service events fire on the gateway's loop; the bridge re-emits each one as ``event_received``
on the GUI thread (a queued Qt connection), so slots may touch widgets.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, ParamSpec, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

from gateway.service import Event, GatewayService

P = ParamSpec("P")
T = TypeVar("T")
LoopMode = Literal["thread", "shared"]
log = logging.getLogger("switchboard.desktop")

STARTING, RUNNING, STOPPED, ERROR = "starting", "running", "stopped", "error"
THREAD_JOIN_S = 5.0


def new_gateway_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class _Relay(QObject):
    """Emitted from the gateway's thread; connected queued, so delivered on the GUI thread."""

    forward = Signal(object)


class GatewayBridge(QObject):
    event_received = Signal(object)  # a gateway.service.Event, always on the GUI thread
    state_changed = Signal(str)  # "starting" | "running" | "stopped" | "error"

    def __init__(
        self,
        service: GatewayService,
        *,
        loop_mode: LoopMode = "thread",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if loop_mode not in ("thread", "shared"):
            raise ValueError(f"loop_mode must be 'thread' or 'shared', not {loop_mode!r}")
        self._service = service
        self._mode: LoopMode = loop_mode
        self._state = STOPPED
        self.last_error = ""  # why the last start failed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._relay = _Relay(self)
        self._relay.forward.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = service.subscribe(self._relay.forward.emit)

    # what the GUI reads ---------------------------------------------------------------------

    @property
    def service(self) -> GatewayService:
        return self._service

    @property
    def state(self) -> str:
        return self._state

    @property
    def loop_mode(self) -> LoopMode:
        return self._mode

    @property
    def gateway_thread(self) -> threading.Thread | None:
        """The thread the gateway's loop runs on (None in shared mode or before start)."""
        return self._thread

    # lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the gateway; raises what GatewayService.start raises (state becomes error)."""
        if self._state in (STARTING, RUNNING):
            return
        self._set_state(STARTING)
        try:
            await self._on_gateway(self._service.start())
        except BaseException as exc:
            self.last_error = str(exc) or type(exc).__name__
            self._set_state(ERROR)
            raise
        self.last_error = ""
        self._set_state(RUNNING)

    async def stop(self) -> None:
        """Stop the gateway: no new connections; requests in flight get the service's
        shutdown timeout (10 s in the app) to finish."""
        if self._state == STOPPED and not self._service.running:
            return
        try:
            await self._on_gateway(self._service.stop())
        finally:
            self._set_state(STOPPED)

    def close(self) -> None:
        """End the gateway's thread (after stop). The bridge cannot be started again."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            # The connection holds this bridge: without it, no cycle keeps the bridge alive.
            self._relay.forward.disconnect(self._deliver)
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(THREAD_JOIN_S)

    # work on the gateway's loop -------------------------------------------------------------

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A blocking configuration command, e.g. ``call(commands.set_settings, ctx, {...})``:
        run through ``service.call`` (a worker thread, then a reload) on the gateway's loop."""
        return await self._on_gateway(self._service.call(fn, *args, **kwargs))

    async def run(
        self, coro_fn: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Any coroutine function, run on the gateway's loop."""
        return await self._on_gateway(coro_fn(*args, **kwargs))

    async def invoke(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A quick synchronous function that must run on the gateway's loop thread (it reads
        live routing state, e.g. ``service.health``)."""

        async def on_loop() -> T:
            return fn(*args, **kwargs)

        return await self._on_gateway(on_loop())

    async def _on_gateway(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._mode == "shared":
            return await coro
        try:
            loop = self._gateway_loop()
        except RuntimeError:
            coro.close()  # never awaited: say nothing about it
            raise
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        waiting: Awaitable[T] = asyncio.wrap_future(future)
        return await waiting

    def _gateway_loop(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise RuntimeError("the gateway bridge is closed")
        if self._loop is None:
            loop = new_gateway_loop()
            thread = threading.Thread(
                target=_run_loop, args=(loop,), name="gateway-loop", daemon=True
            )
            self._loop, self._thread = loop, thread
            thread.start()
        return self._loop

    # events ---------------------------------------------------------------------------------

    @Slot(object)
    def _deliver(self, event: Event) -> None:
        self.event_received.emit(event)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
