"""The response cache: LRU by bytes, TTL, stats, keys, switches, and its copy in logs.db."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType

import pytest
from aiohttp.test_utils import make_mocked_request

from gateway.config.repository import ComboRow
from gateway.config.snapshot import Settings, Snapshot
from gateway.server.cache_store import CacheStore
from gateway.server.recorded import Recorded
from gateway.server.response_cache import (
    ENTRY_OVERHEAD,
    CacheStats,
    ResponseCache,
    bypassed,
    cache_enabled_for,
)
from gateway.store.db import LOGS_DB_NAME
from gateway.store.schema import LOGS_MIGRATIONS
from gateway.store.writer import DbWriter

pytestmark = pytest.mark.timeout(20)
MB = 1 << 20


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def answer(size: int, tokens: tuple[int, int] = (3, 4)) -> Recorded:
    return Recorded(200, "application/json", b"x" * size, *tokens)


def entry_size(body: int) -> int:
    return body + ENTRY_OVERHEAD


def test_a_stored_answer_is_returned_and_counted() -> None:
    cache = ResponseCache(clock=Clock())
    assert cache.get("k") is None
    assert cache.put("k", answer(100), ttl_s=60, max_bytes=MB)
    hit = cache.get("k")
    assert hit is not None and hit.body == b"x" * 100
    assert cache.stats() == CacheStats(
        hits=1, misses=1, stores=1, tokens_saved=7, entries=1, bytes=entry_size(100)
    )


def test_the_least_recently_used_entry_goes_first_when_bytes_run_out() -> None:
    budget = 4 * entry_size(1000)
    cache = ResponseCache(clock=Clock())
    for key in ("a", "b", "c", "d"):
        cache.put(key, answer(1000), ttl_s=60, max_bytes=budget)
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("e", answer(1000), ttl_s=60, max_bytes=budget)
    assert cache.get("b") is None
    assert all(cache.get(key) is not None for key in ("a", "c", "d", "e"))
    stats = cache.stats()
    assert (stats.evictions, stats.entries, stats.bytes) == (1, 4, budget)


def test_a_large_answer_evicts_as_many_as_needed_and_bytes_never_exceed_the_budget() -> None:
    budget = 8 * entry_size(100)
    cache = ResponseCache(clock=Clock())
    for index in range(8):
        cache.put(str(index), answer(100), ttl_s=60, max_bytes=budget)
    cache.put("big", answer(budget // 4 - ENTRY_OVERHEAD), ttl_s=60, max_bytes=budget)
    stats = cache.stats()
    assert stats.bytes <= budget and stats.evictions == 2
    assert cache.get("0") is None and cache.get("1") is None and cache.get("2") is not None


def test_an_answer_over_a_quarter_of_the_budget_is_not_stored() -> None:
    cache = ResponseCache(clock=Clock())
    assert not cache.put("k", answer(MB // 4), ttl_s=60, max_bytes=MB)
    assert cache.get("k") is None
    assert cache.stats().stores == 0


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache = ResponseCache(clock=clock)
    cache.put("short", answer(10), ttl_s=10, max_bytes=MB)
    cache.put("long", answer(10), ttl_s=100, max_bytes=MB)
    clock.now += 9.9
    assert cache.get("short") is not None
    clock.now += 0.1
    assert cache.get("short") is None
    assert cache.get("long") is not None
    clock.now += 90
    cache.put("other", answer(10), ttl_s=10, max_bytes=MB)  # pruning happens on the way
    stats = cache.stats()
    assert (stats.expired, stats.entries, stats.bytes) == (2, 1, entry_size(10))


def test_storing_again_replaces_the_entry_and_its_expiry() -> None:
    clock = Clock()
    cache = ResponseCache(clock=clock)
    cache.put("k", answer(10), ttl_s=10, max_bytes=MB)
    clock.now += 5
    cache.put("k", answer(20), ttl_s=10, max_bytes=MB)
    clock.now += 6
    hit = cache.get("k")
    assert hit is not None and len(hit.body) == 20
    assert (cache.stats().entries, cache.stats().bytes) == (1, entry_size(20))


def test_stale_expiry_links_stay_bounded() -> None:
    cache = ResponseCache(clock=Clock())
    for _ in range(5000):
        cache.put("same", answer(1), ttl_s=60, max_bytes=MB)
    assert len(cache._expiry) <= 2 * 1 + 1024 + 1


async def test_clear_forgets_everything_but_the_counters() -> None:
    cache = ResponseCache(clock=Clock())
    cache.put("k", answer(10), ttl_s=60, max_bytes=MB)
    cache.get("k")
    await cache.clear()
    assert cache.get("k") is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.bytes) == (1, 1, 0, 0)


def snapshot(**changes: object) -> Snapshot:
    return dataclasses.replace(Snapshot.empty(), **changes)  # type: ignore[arg-type]


def combo(name: str, cache: bool | None, **fields: object) -> ComboRow:
    return ComboRow(name, "priority", ("openai/gpt-x",), True, cache=cache, **fields)  # type: ignore[arg-type]


def test_the_key_depends_on_the_configuration_that_shapes_answers() -> None:
    cache = ResponseCache()
    digest = b"d" * 16
    base = snapshot()
    key = cache.key(digest, base)
    assert len(key) == 32 and cache.key(digest, base) == key
    assert cache.key(digest, snapshot()) == key  # an equal configuration: the same key
    assert cache.key(b"e" * 16, base) != key
    changed = [
        snapshot(settings=Settings(system_prompt="Be brief.")),
        snapshot(settings=Settings(thinking_mode="off")),
        snapshot(settings=Settings(thinking_budget=2048)),
        snapshot(model_aliases=MappingProxyType({"fast": "openai/gpt-x"})),
        snapshot(combos=MappingProxyType({"c": combo("c", None)})),
        snapshot(combos=MappingProxyType({"c": combo("c", None, system_prompt="Hi")})),
    ]
    keys = {cache.key(digest, s) for s in changed}
    assert key not in keys and len(keys) == len(changed)
    # Settings that do not shape answers keep the key.
    assert cache.key(digest, snapshot(settings=Settings(cache_ttl_s=5, port=1))) == key


def test_a_combo_switch_overrides_the_global_setting_also_through_an_alias() -> None:
    combos = MappingProxyType(
        {"on": combo("on", True), "off": combo("off", False), "x": combo("x", None)}
    )
    aliases = MappingProxyType({"fast": "on"})
    globally_off = snapshot(combos=combos, model_aliases=aliases)
    globally_on = snapshot(
        combos=combos, model_aliases=aliases, settings=Settings(cache_enabled=True)
    )
    assert cache_enabled_for(globally_off, "on")
    assert cache_enabled_for(globally_off, "on[1m]")
    assert cache_enabled_for(globally_off, "fast")
    assert not cache_enabled_for(globally_off, "x")
    assert not cache_enabled_for(globally_off, "openai/gpt-x")
    assert not cache_enabled_for(globally_on, "off")
    assert cache_enabled_for(globally_on, "x")
    assert cache_enabled_for(globally_on, "openai/gpt-x")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"X-Switchboard-No-Cache": "true"}, True),
        ({"X-Switchboard-No-Cache": "1"}, True),
        ({"X-Switchboard-No-Cache": "false"}, False),
        ({"Cache-Control": "no-cache"}, True),
        ({"Cache-Control": "max-age=0, No-Store"}, True),
        ({"Cache-Control": "max-age=60"}, False),
    ],
)
def test_bypass_headers(headers: dict[str, str], expected: bool) -> None:
    assert (
        bypassed(make_mocked_request("POST", "/v1/chat/completions", headers=headers)) is expected
    )


# logs.db ------------------------------------------------------------------------------------


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[DbWriter]:
    writer = DbWriter(tmp_path / LOGS_DB_NAME, LOGS_MIGRATIONS, flush_interval=0.05)
    writer.start()
    yield writer
    await writer.aclose()


async def rows(writer: DbWriter) -> list[tuple[object, ...]]:
    await writer.aflush()
    return await writer.run(
        lambda conn: conn.execute(
            "SELECT key, status, tokens, tokens_in, tokens_out, hits, expires_at "
            "FROM response_cache ORDER BY key"
        ).fetchall()
    )


async def test_entries_are_persisted_and_come_back_after_a_restart(writer: DbWriter) -> None:
    clock = Clock()
    cache = ResponseCache(CacheStore(writer), clock=clock)
    cache.put("a", answer(10, (5, 6)), ttl_s=100, max_bytes=MB)
    cache.put(
        "b", Recorded(201, "text/event-stream", b"data: 1\n\n", None, 2), ttl_s=100, max_bytes=MB
    )
    cache.get("a")
    cache.get("a")
    assert await rows(writer) == [
        ("a", 200, 11, 5, 6, 2, clock.now + 100),
        ("b", 201, 2, None, 2, 0, clock.now + 100),
    ]
    clock.now += 50
    again = ResponseCache(CacheStore(writer), clock=clock)
    assert await again.load(MB) == 2
    hit = again.get("b")
    assert hit == Recorded(201, "text/event-stream", b"data: 1\n\n", None, 2)
    clock.now += 50  # the stored expiry is kept, not restarted
    assert again.get("a") is None


async def test_loading_drops_expired_rows_and_what_does_not_fit(writer: DbWriter) -> None:
    clock = Clock()
    cache = ResponseCache(CacheStore(writer), clock=clock)
    cache.put("old", answer(100), ttl_s=10, max_bytes=MB)
    clock.now += 1
    cache.put("mid", answer(100), ttl_s=100, max_bytes=MB)
    clock.now += 1
    cache.put("new", answer(100), ttl_s=100, max_bytes=MB)
    await writer.aflush()
    clock.now += 10  # "old" has expired
    again = ResponseCache(CacheStore(writer), clock=clock)
    assert await again.load(150) == 1  # room for the newest only
    assert again.get("new") is not None and again.get("mid") is None
    assert [row[0] for row in await rows(writer)] == ["new"]


async def test_evicted_and_cleared_entries_leave_the_database(writer: DbWriter) -> None:
    budget = 4 * entry_size(100)
    cache = ResponseCache(CacheStore(writer), clock=Clock())
    for key in ("a", "b", "c", "d", "e"):
        cache.put(key, answer(100), ttl_s=60, max_bytes=budget)
    assert [row[0] for row in await rows(writer)] == ["b", "c", "d", "e"]
    await cache.clear()
    assert await rows(writer) == []


async def test_expired_rows_are_deleted_in_the_background(writer: DbWriter) -> None:
    clock = Clock()
    cache = ResponseCache(CacheStore(writer), clock=clock)
    cache.put("a", answer(10), ttl_s=10, max_bytes=MB)
    cache.put("b", answer(10), ttl_s=1000, max_bytes=MB)
    clock.now += 61  # past "a"'s expiry and the pruning interval
    cache.get("zzz")
    assert [row[0] for row in await rows(writer)] == ["b"]


async def test_an_unreadable_table_leaves_the_cache_empty_not_the_gateway_down(
    writer: DbWriter, caplog: pytest.LogCaptureFixture
) -> None:
    await writer.run(lambda conn: conn.execute("DROP TABLE response_cache"))
    cache = ResponseCache(CacheStore(writer), clock=Clock())
    assert await cache.load(MB) == 0
    assert "could not be loaded" in caplog.text
