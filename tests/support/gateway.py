"""Running a real GatewayService (real sockets, real SQLite files) inside a test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gateway.config.commands import Context
from gateway.config.file_format import parse_config_text
from gateway.config.store import ConfigStore
from gateway.config.transfer import ImportReport, import_config
from gateway.providers.catalog import default_catalog
from gateway.security.secrets import open_secrets
from gateway.service import GatewayService
from gateway.store.db import open_logs_db

CLIENT_KEY = "sk-sb-0123456789abcdef0123456789abcdef"
T = TypeVar("T")


def with_context(data_dir: Path, fn: Callable[[Context], T]) -> T:
    """Run ``fn`` against the configuration in ``data_dir`` the way the CLI does."""
    store = ConfigStore(data_dir)
    store.open()
    try:
        return fn(Context(store, default_catalog(), open_secrets(data_dir)))
    finally:
        store.close()


def import_toml(data_dir: Path, text: str) -> ImportReport:
    config = parse_config_text(text, fmt="toml")
    return with_context(data_dir, lambda ctx: import_config(ctx, config))


def basic_config(base_url: str, *, upstream_key: str = "sk-upstream-test", extra: str = "") -> str:
    return f"""
[settings]
require_api_key = true

[[api_keys]]
name = "tests"
key = "{CLIENT_KEY}"

[[connections]]
name = "primary"
provider = "openai"
api_key = "{upstream_key}"
base_url = "{base_url}"
priority = 1
{extra}
"""


async def start_service(data_dir: Path, **kwargs: object) -> GatewayService:
    service = GatewayService(data_dir, port=0, reload_interval=0.05, **kwargs)  # type: ignore[arg-type]
    await service.start()
    return service


def log_rows(data_dir: Path) -> list[dict[str, object]]:
    conn = open_logs_db(data_dir)
    try:
        names = [row[1] for row in conn.execute("PRAGMA table_info(request_log)")]
        rows = conn.execute("SELECT * FROM request_log ORDER BY id").fetchall()
        return [dict(zip(names, row, strict=True)) for row in rows]
    finally:
        conn.close()


async def wait_for(predicate: Callable[[], bool], limit_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
