"""The configuration database as one object: a writer thread for changes, readers for views."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import apsw

from gateway.config.repository import ConfigState, config_revision, read_state
from gateway.store.db import CONFIG_DB_NAME, ThreadLocalReader
from gateway.store.schema import CONFIG_MIGRATIONS
from gateway.store.writer import DbWriter

T = TypeVar("T")


class ConfigStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / CONFIG_DB_NAME
        self._writer = DbWriter(self.path, CONFIG_MIGRATIONS, name="config-writer")
        self._reader = ThreadLocalReader(self.path)

    def open(self) -> None:
        self._writer.start()
        self._writer.submit(lambda conn: None).result()  # migrations ran before any reader opens

    def close(self) -> None:
        self._writer.close()
        self._reader.close_all()

    def write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn`` in one transaction on the writer thread and wait for it. Blocking."""
        return self._writer.submit(fn).result()

    def read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn`` on this thread's reader connection. Blocking."""
        return fn(self._reader.connection())

    def state(self) -> ConfigState:
        return self.read(read_state)

    def revision(self) -> int:
        return self.read(config_revision)
