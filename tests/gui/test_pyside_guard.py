"""Guard against the PySide6 6.12.0 + Python 3.11 refcount bug (bool_dealloc crash).

6.12.0 drops a reference to True/None on each signal emit with a bool argument; after a few
thousand emits the interpreter aborts. pyproject pins PySide6 below 6.12; this test fails if
a broken version slips in.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    toggled = Signal(bool)


def test_signal_emits_keep_refcounts_stable(qapp: object) -> None:
    emitter = _Emitter()
    received: list[bool] = []
    emitter.toggled.connect(received.append)
    before_true, before_none = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(20_000):
        emitter.toggled.emit(True)
    received.clear()
    # Immortal objects have huge, constant counts (3.12+); on 3.11 they must not drop.
    assert sys.getrefcount(True) >= before_true
    assert sys.getrefcount(None) >= before_none - 100
