"""Fire-and-forget coroutines from Qt slots, with their failures reported, not lost.

A slot cannot await; it calls ``spawn(coro)``. The task is kept alive until it ends (asyncio
holds only weak references to tasks), and an exception it raises goes to ``sys.excepthook``,
which the desktop routes to its crash reporter (logged and shown; the gateway keeps running).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_running: set[asyncio.Task[Any]] = set()  # removed as each task ends, so bounded by what runs


def spawn(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    task = asyncio.ensure_future(coro)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        sys.excepthook(type(exc), exc, exc.__traceback__)
