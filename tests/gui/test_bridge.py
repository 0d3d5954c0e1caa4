"""GatewayBridge in both loop modes: start, config calls, events on the GUI thread, stop; and
the reason thread mode exists: a modal dialog does not hold up the gateway."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from PySide6.QtCore import QMetaObject, Qt, QThread
from PySide6.QtWidgets import QApplication, QMessageBox

from app.bridge import GatewayBridge
from gateway.config import commands
from gateway.service import Event, GatewayService, PortInUseError
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gui.support import get_status, refused, until
from tests.support.gateway import CLIENT_KEY, basic_config, import_toml

Run = Callable[..., Any]


def on_gui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


@pytest.mark.parametrize("mode", ["thread", "shared"])
def test_start_call_events_stop(mode: str, data_dir: Path, run: Run) -> None:
    service = GatewayService(data_dir, port=0, reload_interval=0.05)
    bridge = GatewayBridge(service, loop_mode=mode)  # type: ignore[arg-type]
    states: list[str] = []
    events: list[tuple[str, bool]] = []
    bridge.state_changed.connect(states.append)
    bridge.event_received.connect(lambda e: events.append((e.kind, on_gui_thread())))

    async def where() -> str:
        return threading.current_thread().name

    async def scenario() -> None:
        await bridge.start()
        assert bridge.state == "running"
        assert await get_status(f"{service.endpoint}/health") == 200
        expected = "gateway-loop" if mode == "thread" else "MainThread"
        assert await bridge.run(where) == expected
        row, key = await bridge.call(commands.create_key, service.context, "laptop")
        assert row.name == "laptop" and key.startswith("sk-sb-")
        assert await bridge.invoke(service.attention) == ()
        await until(lambda: ("reloaded", True) in events, "the reload event")
        endpoint = service.endpoint
        await bridge.stop()
        assert await refused(f"{endpoint}/health")
        await until(lambda: ("stopped", True) in events, "the stopped event")

    try:
        run(scenario())
    finally:
        bridge.close()
    assert states == ["starting", "running", "stopped"]
    # Every event arrived on the GUI thread, in order, whatever thread emitted it.
    kinds = [kind for kind, _ in events]
    assert (kinds[0], set(kinds[1:-1]), kinds[-1]) == ("started", {"reloaded"}, "stopped")
    assert all(gui for _, gui in events)
    assert (bridge.gateway_thread is None) or not bridge.gateway_thread.is_alive()


@pytest.mark.parametrize("mode", ["thread", "shared"])
def test_a_failed_start_is_an_error_state(mode: str, data_dir: Path, run: Run) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        bridge = GatewayBridge(GatewayService(data_dir, port=port), loop_mode=mode)  # type: ignore[arg-type]
        states: list[str] = []
        bridge.state_changed.connect(states.append)

        async def scenario() -> None:
            with pytest.raises(PortInUseError):
                await bridge.start()

        try:
            run(scenario())
        finally:
            bridge.close()
    assert states == ["starting", "error"]
    assert bridge.last_error.startswith(f"Port {port} on 127.0.0.1 is already in use")


def test_events_from_another_thread_are_queued_to_the_gui_thread(data_dir: Path, run: Run) -> None:
    service = GatewayService(data_dir, port=0)
    bridge = GatewayBridge(service)
    seen: list[tuple[str, bool]] = []
    bridge.event_received.connect(lambda e: seen.append((e.detail, on_gui_thread())))
    # What a listener on the gateway's loop thread does: emit from a non-GUI thread.
    emitters = [
        threading.Thread(target=service._emit, args=(Event("probe", str(i)),)) for i in range(20)
    ]
    for thread in emitters:
        thread.start()
    for thread in emitters:
        thread.join()
    assert seen == []  # queued: nothing ran on the emitting threads

    async def scenario() -> None:
        await until(lambda: len(seen) == 20, "20 events")

    try:
        run(scenario())
    finally:
        bridge.close()
    assert sorted(int(detail) for detail, _ in seen) == list(range(20))
    assert all(gui for _, gui in seen)


def _chat(endpoint: str) -> tuple[int, str]:
    body = orjson.dumps(
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "still here"}]}
    )
    request = urllib.request.Request(
        f"{endpoint}/v1/chat/completions",
        data=body,
        headers={"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = orjson.loads(response.read())
        return response.status, answer["choices"][0]["message"]["content"]


def test_a_modal_dialog_does_not_stop_the_gateway(
    qapp: QApplication, data_dir: Path, run: Run
) -> None:
    """Thread mode: while the GUI thread sits in a modal dialog's own event loop (exec()),
    real requests go through the gateway to an upstream and back."""
    fake = FakeOpenAI()
    bridge = GatewayBridge(GatewayService(data_dir, port=0))
    service = bridge.service

    async def start() -> None:
        # The fake upstream runs on the gateway's loop too: nothing needs the GUI thread.
        await bridge.run(fake.start)
        import_toml(data_dir, basic_config(fake.base_url))
        await bridge.start()

    run(start())
    box = QMessageBox(QMessageBox.Icon.Information, "Modal", "Held open by the test")
    box.setModal(True)
    results: list[tuple[float, int, str]] = []
    problems: list[BaseException] = []

    def client() -> None:
        try:
            for _ in range(5):
                status, text = _chat(service.endpoint)
                results.append((time.monotonic(), status, text))
        except BaseException as exc:
            problems.append(exc)
        finally:  # close the dialog from its own thread
            QMetaObject.invokeMethod(box, "accept", Qt.ConnectionType.QueuedConnection)

    worker = threading.Thread(target=client)
    opened = time.monotonic()
    worker.start()
    box.exec()  # blocks this (the GUI) thread until the client is done
    closed = time.monotonic()
    worker.join(10)

    async def stop() -> None:
        await bridge.stop()
        await bridge.run(fake.stop)

    try:
        run(stop())
    finally:
        bridge.close()
    assert problems == []
    assert [(status, text) for _, status, text in results] == [(200, "Echo: still here")] * 5
    assert all(opened <= at <= closed for at, _, _ in results)
    assert len(fake.state.requests) == 5
