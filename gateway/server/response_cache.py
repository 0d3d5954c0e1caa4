"""The response cache: exact repeats of deterministic requests answered from memory.

An entry is a complete 2xx answer (recorded.Recorded) under a key made of the request digest
(dedup.request_digest) and a digest of the configuration that shapes answers (system
prompts, thinking settings, model aliases, combos), so changing those starts afresh. Memory
is an LRU bounded by bytes (``cache_max_mb``; one answer may take at most a quarter of it);
entries expire ``cache_ttl_s`` after they were stored. With a CacheStore every change is
mirrored in logs.db, and ``load()`` brings the entries back after a restart.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiohttp import web

from gateway.config.snapshot import Snapshot
from gateway.server.cache_store import CacheStore
from gateway.server.recorded import Recorded

log = logging.getLogger("switchboard.cache")
CACHE_HEADER = "X-Switchboard-Cache"
NO_CACHE_HEADER = "X-Switchboard-No-Cache"
EXTENDED_CONTEXT_SUFFIX = "[1m]"
# What an entry costs besides its body: its key, the objects, the LRU and expiry links.
ENTRY_OVERHEAD = 256
# Expired rows are deleted from logs.db at most this often.
_DB_PRUNE_INTERVAL_S = 60.0
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    bypassed: int = 0  # requests that asked not to be answered from the cache
    stores: int = 0
    evictions: int = 0  # least recently used entries dropped to stay within cache_max_mb
    expired: int = 0
    tokens_saved: int = 0  # input + output tokens of the answers served from the cache
    entries: int = 0
    bytes: int = 0


@dataclass(slots=True)
class _Entry:
    recorded: Recorded
    expires_at: float
    size: int


def cache_enabled_for(snapshot: Snapshot, model: str) -> bool:
    """The requested combo's ``cache`` when set (also through a model alias), else the
    ``cache_enabled`` setting."""
    name = model.removesuffix(EXTENDED_CONTEXT_SUFFIX)
    name = snapshot.model_aliases.get(name, name)
    combo = snapshot.combos.get(name)
    if combo is not None and combo.cache is not None:
        return combo.cache
    return snapshot.settings.cache_enabled


def bypassed(request: web.Request) -> bool:
    """``X-Switchboard-No-Cache: true`` or ``Cache-Control: no-cache`` (or ``no-store``)."""
    headers = request.headers
    if headers.get(NO_CACHE_HEADER, "").strip().lower() in _TRUE:
        return True
    control = headers.get("Cache-Control")
    return control is not None and ("no-cache" in control.lower() or "no-store" in control.lower())


class ResponseCache:
    def __init__(
        self, store: CacheStore | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._clock = clock  # wall time: expiry survives restarts
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._expiry: deque[tuple[float, str]] = deque()  # (expires_at, key), stored order
        self._bytes = 0
        self._next_db_prune = 0.0
        self._config: tuple[Snapshot, bytes] | None = None
        self._hits = self._misses = self._bypassed = self._stores = 0
        self._evictions = self._expired = self._tokens_saved = 0

    # keys -----------------------------------------------------------------------------------

    def key(self, request_digest: bytes, snapshot: Snapshot) -> str:
        config = self._config
        if config is None or config[0] is not snapshot:
            config = self._config = (snapshot, _config_digest(snapshot))
        return hashlib.sha256(request_digest + config[1]).hexdigest()[:32]

    # lookups and stores ---------------------------------------------------------------------

    def get(self, key: str) -> Recorded | None:
        now = self._clock()
        self._prune(now)
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= now:
            if entry is not None:
                self._remove(key, expired=True)
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        self._tokens_saved += entry.recorded.tokens
        if self._store is not None:
            self._store.hit(key)
        return entry.recorded

    def bypass(self) -> None:
        self._bypassed += 1

    def put(self, key: str, recorded: Recorded, *, ttl_s: float, max_bytes: int) -> bool:
        """Store ``recorded`` (a complete 2xx answer); False when it is too large to keep."""
        size = len(recorded.body) + ENTRY_OVERHEAD
        if size > max_bytes // 4:
            return False
        now = self._clock()
        self._prune(now)
        expires = now + ttl_s
        self._add(key, _Entry(recorded, expires, size))
        self._stores += 1
        if self._store is not None:
            self._store.save(key, recorded, now, expires)
        while self._bytes > max_bytes:
            oldest = next(iter(self._entries))
            self._remove(oldest)
            self._evictions += 1
            if self._store is not None:
                self._store.delete(oldest)
        return True

    async def load(self, max_bytes: int) -> int:
        """Bring back the stored entries (newest first, up to ``max_bytes``); how many."""
        if self._store is None:
            return 0
        try:
            stored = await self._store.load(self._clock(), max_bytes)
        except Exception:  # a cache that cannot be read must not keep the gateway down
            log.exception("the response cache could not be loaded from logs.db; starting empty")
            return 0
        for item in reversed(stored):  # oldest first: the newest end most recently used
            size = len(item.recorded.body) + ENTRY_OVERHEAD
            if item.key not in self._entries:
                self._add(item.key, _Entry(item.recorded, item.expires_at, size))
        return len(stored)

    async def clear(self) -> None:
        """Forget every entry, here and in logs.db (the counters stay)."""
        self._entries.clear()
        self._expiry.clear()
        self._bytes = 0
        if self._store is not None:
            await self._store.clear()

    def stats(self) -> CacheStats:
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            bypassed=self._bypassed,
            stores=self._stores,
            evictions=self._evictions,
            expired=self._expired,
            tokens_saved=self._tokens_saved,
            entries=len(self._entries),
            bytes=self._bytes,
        )

    # bookkeeping ----------------------------------------------------------------------------

    def _add(self, key: str, entry: _Entry) -> None:
        if key in self._entries:
            self._remove(key)
        self._entries[key] = entry
        self._bytes += entry.size
        self._expiry.append((entry.expires_at, key))
        if len(self._expiry) > 2 * len(self._entries) + 1024:
            # Replaced and evicted entries leave stale links: rebuild from the live ones.
            self._expiry = deque(sorted((e.expires_at, k) for k, e in self._entries.items()))

    def _remove(self, key: str, *, expired: bool = False) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        if expired:
            self._expired += 1

    def _prune(self, now: float) -> None:
        """Drop expired entries, oldest first (amortised O(1): each link is popped once)."""
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, key = expiry.popleft()
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at <= now:
                self._remove(key, expired=True)
        if self._store is not None and now >= self._next_db_prune:
            self._next_db_prune = now + _DB_PRUNE_INTERVAL_S
            self._store.delete_expired(now)


def _config_digest(snapshot: Snapshot) -> bytes:
    settings = snapshot.settings
    shaping = [
        settings.system_prompt,
        settings.thinking_mode,
        settings.thinking_budget,
        sorted(snapshot.model_aliases.items()),
        sorted(
            (c.name, c.strategy, c.targets, c.weights, c.system_prompt)
            for c in snapshot.combos.values()
        ),
    ]
    return hashlib.sha256(orjson.dumps(shaping)).digest()[:16]
