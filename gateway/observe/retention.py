"""Retention: request-log rows older than ``log_retention_days`` and hourly usage rows older
than ``usage_retention_days`` are deleted in the background.

Deletes go through the logs writer like every other write, a few thousand rows per call, so
request rows queued meanwhile are committed between two batches: a request never waits for
a prune, and no transaction grows large enough to stall the writer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import apsw

from gateway.observe.rollup import HOUR
from gateway.store.writer import DbWriter

BATCH_ROWS: Final = 5000
DAY: Final = 86400


@dataclass(frozen=True, slots=True)
class PruneReport:
    log_rows: int = 0  # request-log rows deleted
    usage_rows: int = 0  # hourly usage rows deleted
    batches: int = 0  # writer calls it took


def delete_old_logs(conn: apsw.Connection, before: float, limit: int) -> int:
    """Delete up to ``limit`` request-log rows older than ``before`` (oldest first)."""
    conn.execute(
        "DELETE FROM request_log WHERE id IN "
        "(SELECT id FROM request_log WHERE ts < ? ORDER BY ts LIMIT ?)",
        (before, limit),
    )
    return int(conn.changes())


def delete_old_usage(conn: apsw.Connection, before: float, limit: int) -> int:
    """Delete up to ``limit`` hourly usage rows of hours that started before the hour holding
    ``before`` (oldest first)."""
    conn.execute(
        "DELETE FROM usage_hourly WHERE (hour, provider, model, connection, key_name) IN "
        "(SELECT hour, provider, model, connection, key_name FROM usage_hourly "
        "WHERE hour < ? ORDER BY hour LIMIT ?)",
        (int(before // HOUR) * HOUR, limit),
    )
    return int(conn.changes())


async def prune(
    writer: DbWriter,
    *,
    log_retention_days: int,
    usage_retention_days: int,
    now: float | None = None,
    batch: int = BATCH_ROWS,
) -> PruneReport:
    """Delete what is past retention, one batch per writer call, until nothing is left."""
    current = time.time() if now is None else now
    log_cutoff = current - log_retention_days * DAY
    usage_cutoff = current - usage_retention_days * DAY
    logs, calls = await _drain(writer, delete_old_logs, log_cutoff, batch)
    usage, more = await _drain(writer, delete_old_usage, usage_cutoff, batch)
    return PruneReport(logs, usage, calls + more)


async def _drain(
    writer: DbWriter, step: Callable[[apsw.Connection, float, int], int], cutoff: float, batch: int
) -> tuple[int, int]:
    """(rows deleted, writer calls) running ``step`` until a batch comes back short."""
    deleted = calls = 0
    while True:
        count = await writer.run(lambda conn: step(conn, cutoff, batch))
        calls += 1
        deleted += count
        if count < batch:
            return deleted, calls
        await asyncio.sleep(0)  # request rows queued meanwhile go in before the next batch
