"""The desktop app's own log: ``<data dir>/logs/desktop.log`` (rotated, at most 4 x 1 MiB).

Records are queued and written by a listener thread, so logging from a slot never waits on
the disk. The request log is separate (logs.db; `switchboard logs`).
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
from collections.abc import Callable
from pathlib import Path

LOG_DIR_NAME = "logs"
LOG_FILE_NAME = "desktop.log"
MAX_BYTES = 1 << 20
BACKUPS = 3
QUEUE_SIZE = 10_000


def log_dir(data_dir: Path) -> Path:
    return data_dir / LOG_DIR_NAME


def setup_logging(data_dir: Path) -> tuple[Path, Callable[[], None]]:
    """Send the root logger (INFO and up) to the log file; returns the file and a stopper."""
    folder = log_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE_NAME
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    records: queue.Queue[logging.LogRecord] = queue.Queue(QUEUE_SIZE)
    listener = logging.handlers.QueueListener(records, file_handler)
    handler = logging.handlers.QueueHandler(records)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    listener.start()

    def stop() -> None:
        root.removeHandler(handler)
        listener.stop()
        file_handler.close()

    return path, stop
