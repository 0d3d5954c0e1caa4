"""GUI tests: a qasync loop per test, a real gateway in a temporary data folder.

Tests are plain functions that run one scenario coroutine on the qasync loop with a liveness
limit (``run``), so pytest-asyncio stays out of the way and Qt's event loop is the one that
runs. Nothing sleeps for a fixed time: helpers wait for a signal or a condition.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from tests.gui.support import DesktopFactory

T = TypeVar("T")
SCENARIO_LIMIT_S = 60.0


@pytest.fixture(autouse=True)
def collect_on_gui_thread() -> Iterator[None]:
    """As in the app (app/lifecycle/gc_guard.py): no automatic garbage collection, which
    could run on a gateway or writer thread and destroy QObjects under Qt's feet."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def run(qloop: qasync.QEventLoop) -> Callable[[Coroutine[Any, Any, T]], T]:
    def run_scenario(coro: Coroutine[Any, Any, T], limit_s: float = SCENARIO_LIMIT_S) -> T:
        return qloop.run_until_complete(asyncio.wait_for(coro, limit_s))

    return run_scenario


@pytest.fixture
def desktops(
    qapp: QApplication, qloop: qasync.QEventLoop, data_dir: Path
) -> Iterator[DesktopFactory]:
    """Makes Desktop instances on real gateways; quits whatever a test left running."""
    factory = DesktopFactory(qapp, data_dir)
    try:
        yield factory
    finally:
        qloop.run_until_complete(asyncio.wait_for(factory.close_all(), SCENARIO_LIMIT_S))
