"""Refreshing a connection's credentials after the upstream refused them.

Rule (docs/routing/failures.md "Auth refresh"): on a failure whose action has
``refresh_auth``, a request refreshes the connection's credentials once and retries the same
account with the new headers; when nothing newer comes back, or the retry is refused too,
the connection is marked as needing login and skipped until the configuration changes.

Single-flight: however many requests of one connection fail at once, one refresh runs and
they all share its answer; a request that failed with headers older than an answer already
in hand retries with it without refreshing again. Used from the gateway's event loop only;
every map is bounded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from gateway.config.repository import list_connections
from gateway.config.snapshot import Upstream, upstream_for
from gateway.config.store import ConfigStore
from gateway.providers.catalog import Catalog
from gateway.security.secrets import Secrets

log = logging.getLogger("switchboard.credentials")

MAX_ENTRIES: Final = 4096
REFRESH_TIMEOUT_S: Final = 30.0  # a refresher that takes longer counts as "nothing newer"
NEEDS_LOGIN: Final = (
    "needs login: the upstream refused its credentials and a refresh found none newer "
    "(replace its key: `switchboard connection add NAME ... --replace`, or log in again)"
)


class Refresher(Protocol):
    async def refresh(self, upstream: Upstream) -> Mapping[str, str] | None:
        """Headers to send from now on in place of the connection's own (its auth), or None
        when nothing better than what it has is available. May raise: that counts as None."""
        ...


class ApiKeyRefresher:
    """For API-key connections: read the connection's stored key again (the CLI may have
    replaced it since the snapshot was built), off the event loop."""

    def __init__(self, load: Callable[[str], Upstream | None]) -> None:
        self._load = load  # blocking: connection id -> the connection as stored now

    async def refresh(self, upstream: Upstream) -> Mapping[str, str] | None:
        fresh = await asyncio.to_thread(self._load, upstream.connection_id)
        if fresh is None or fresh.problem is not None:
            return None
        changed = {k: v for k, v in fresh.headers.items() if upstream.headers.get(k) != v}
        return changed or None


def stored_upstream(
    store: ConfigStore, catalog: Catalog, secrets: Secrets
) -> Callable[[str], Upstream | None]:
    """ApiKeyRefresher's loader: a connection as the database and the secret store hold it
    now (blocking), or None when it is gone."""

    def load(connection_id: str) -> Upstream | None:
        rows = store.read(list_connections)
        row = next((r for r in rows if r.id == connection_id), None)
        return None if row is None else upstream_for(row, catalog, secrets)

    return load


class LoginMarks:
    """Connections that need a login, with the reason to show; least recently marked first,
    at most ``max_entries``."""

    __slots__ = ("_marks", "max_entries")

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._marks: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._marks)

    def mark(self, connection_id: str, reason: str = NEEDS_LOGIN) -> None:
        self._marks[connection_id] = reason
        self._marks.move_to_end(connection_id)
        if len(self._marks) > self.max_entries:
            self._marks.popitem(last=False)

    def get(self, connection_id: str) -> str | None:
        return self._marks.get(connection_id)

    def clear(self, connection_id: str | None = None) -> None:
        """Forget one mark, or all (a new configuration, a health reset)."""
        if connection_id is None:
            self._marks.clear()
        else:
            self._marks.pop(connection_id, None)


class Credentials:
    """Refreshers by provider (``default`` for the rest), refreshed headers by connection,
    and the refreshes in flight."""

    def __init__(
        self,
        default: Refresher | None = None,
        *,
        max_entries: int = MAX_ENTRIES,
        timeout_s: float = REFRESH_TIMEOUT_S,
    ) -> None:
        self.default = default
        self.max_entries = max_entries
        self.timeout_s = timeout_s
        self._by_provider: dict[str, Refresher] = {}
        self._headers: OrderedDict[str, Mapping[str, str]] = OrderedDict()
        self._running: dict[str, asyncio.Task[Mapping[str, str] | None]] = {}

    def register(self, provider: str, refresher: Refresher) -> None:
        """Use ``refresher`` for every connection of ``provider`` (a catalog id)."""
        self._by_provider[provider] = refresher

    def refresher_for(self, upstream: Upstream) -> Refresher | None:
        return self._by_provider.get(upstream.provider, self.default)

    def patch(self, connection_id: str, headers: dict[str, str]) -> None:
        """Put the connection's refreshed headers, if any, over ``headers``."""
        if self._headers:
            refreshed = self._headers.get(connection_id)
            if refreshed is not None:
                headers.update(refreshed)

    def forget(self) -> None:
        """A new configuration: its snapshot read every secret afresh."""
        self._headers.clear()

    async def recover(
        self,
        upstream: Upstream,
        sent: Mapping[str, str],
        refreshed: set[str],
        marks: LoginMarks,
    ) -> bool:
        """After ``upstream`` refused the credentials in ``sent``: True to retry the same
        account (newer headers are in place); False when it is marked as needing login.
        ``refreshed`` holds the connections this request has refreshed already."""
        connection_id = upstream.connection_id
        if connection_id not in refreshed:
            refreshed.add(connection_id)
            newer = self._headers.get(connection_id)
            if newer is None or not _differs(newer, sent):
                newer = await self._refresh(upstream)
            if newer is not None and _differs(newer, sent):
                return True
        marks.mark(connection_id)
        return False

    async def _refresh(self, upstream: Upstream) -> Mapping[str, str] | None:
        connection_id = upstream.connection_id
        task = self._running.get(connection_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._run(upstream), name=f"refresh-{connection_id}"
            )
            self._running[connection_id] = task
            task.add_done_callback(lambda done: self._finished(connection_id, done))
        # Shielded: a client that goes away does not cancel the others' refresh.
        return await asyncio.shield(task)

    def _finished(self, connection_id: str, task: asyncio.Task[Mapping[str, str] | None]) -> None:
        if self._running.get(connection_id) is task:
            del self._running[connection_id]

    async def _run(self, upstream: Upstream) -> Mapping[str, str] | None:
        refresher = self.refresher_for(upstream)
        if refresher is None:
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                fresh = await refresher.refresh(upstream)
        except Exception as exc:  # a failing refresher means "nothing newer", never a crash
            log.warning("refreshing %r failed: %s", upstream.connection, type(exc).__name__)
            return None
        if not fresh:
            return None
        fresh = dict(fresh)
        headers = self._headers
        headers[upstream.connection_id] = fresh
        headers.move_to_end(upstream.connection_id)
        if len(headers) > self.max_entries:
            headers.popitem(last=False)
        return fresh


def _differs(newer: Mapping[str, str], sent: Mapping[str, str]) -> bool:
    return any(sent.get(name) != value for name, value in newer.items())
