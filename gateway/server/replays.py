"""Answering a request with an answer already given: idempotent repeats, identical requests
in flight, the response cache (docs/routing.md "Idempotency and dedup", "Response cache").

exchange.serve calls ``begin`` before any upstream is chosen; handler.handle calls ``finish``
once the request is over, whatever happened. In between, a request that leads a flight or
fills the cache has a Ticket on its aiohttp request and, when streamed, a Capture on its log
entry. Requests that are neither deterministic nor carry an idempotency key pay two header
lookups and a dict lookup, and nothing is copied for them.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.config.snapshot import Snapshot
from gateway.formats.codec import Codec
from gateway.observe.capture import Capture
from gateway.observe.request_log import LogEntry
from gateway.server.dedup import deterministic, request_digest
from gateway.server.flights import Flights, Role
from gateway.server.idempotency import idempotency_key
from gateway.server.recorded import REPLAY_HEADER, Recorded, record_of, replay_response
from gateway.server.response_cache import (
    CACHE_HEADER,
    ResponseCache,
    bypassed,
    cache_enabled_for,
)

if TYPE_CHECKING:  # exchange imports the runtime, which imports this module
    from gateway.server.exchange import ClientCall

PIN_HEADER = "X-Switchboard-Model"  # exchange.PIN_HEADER: pinned requests differ
# The most a streamed answer may weigh to be replayed (beyond it: served, never replayed).
MAX_CAPTURE_BYTES = 8 << 20


@dataclass(slots=True)
class Ticket:
    """What one request owes the others once it is over."""

    codec: Codec
    idempotency: Hashable | None = None  # it leads this idempotency key
    keep_s: float = 0.0
    shared: Hashable | None = None  # it leads this in-flight digest
    cache_key: str | None = None  # its answer goes into the cache under this key
    ttl_s: float = 0.0
    max_bytes: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # added to its response

    @property
    def records(self) -> bool:
        """Whether its answer is wanted by anyone."""
        return not (self.idempotency is None and self.shared is None and self.cache_key is None)


TICKET = web.RequestKey("switchboard_replay_ticket", Ticket)


@dataclass(frozen=True, slots=True)
class ReplayStats:
    idempotent: int = 0  # repeats answered with the first answer
    shared: int = 0  # requests answered with an identical in-flight request's answer


class Replays:
    def __init__(self, cache: ResponseCache | None = None) -> None:
        self.cache = cache if cache is not None else ResponseCache()
        self.idempotent = Flights()
        self.inflight = Flights(max_kept=0)
        self._idempotent_replays = 0
        self._shared_replays = 0

    def stats(self) -> ReplayStats:
        return ReplayStats(self._idempotent_replays, self._shared_replays)

    async def begin(
        self, request: web.Request, snapshot: Snapshot, call: ClientCall, entry: LogEntry
    ) -> web.Response | None:
        """An answer given before, or None: serve the request (and maybe record it)."""
        settings = snapshot.settings
        window = settings.dedup_window_s
        token = idempotency_key(request) if window > 0 else None
        same = deterministic(call)
        cached = same and cache_enabled_for(snapshot, call.model)
        if token is None and not (same and (window > 0 or cached)):
            return None
        digest = request_digest(call, entry.key_name, request.headers.get(PIN_HEADER))
        ticket = Ticket(call.codec)
        request[TICKET] = ticket  # from here on, finish() settles whatever this one leads
        wait_s = max(settings.upstream_read_timeout_s, 1.0)
        if token is not None:
            key = (token, digest)
            outcome = await self.idempotent.join(key, wait_s)
            if isinstance(outcome, Recorded):
                self._idempotent_replays += 1
                return self._replay(outcome, entry, "idempotent", REPLAY_HEADER, "idempotent")
            if outcome is Role.LEAD:
                ticket.idempotency, ticket.keep_s = key, window
        if same:
            if cached:
                cache_key = self.cache.key(digest, snapshot)
                if bypassed(request):
                    self.cache.bypass()
                    ticket.headers[CACHE_HEADER] = "bypass"
                elif (hit := self.cache.get(cache_key)) is not None:
                    return self._replay(hit, entry, "cache", CACHE_HEADER, "hit")
                else:
                    ticket.headers[CACHE_HEADER] = "miss"
                ticket.cache_key = cache_key
                ticket.ttl_s, ticket.max_bytes = settings.cache_ttl_s, settings.cache_max_mb << 20
            if window > 0:
                outcome = await self.inflight.join(digest, wait_s)
                if isinstance(outcome, Recorded):
                    self._shared_replays += 1
                    ticket.cache_key = None  # the leader stores it
                    return self._replay(outcome, entry, "shared", REPLAY_HEADER, "shared")
                if outcome is Role.LEAD:
                    ticket.shared = digest
        if call.stream and ticket.records:
            entry.capture = Capture(MAX_CAPTURE_BYTES)
        return None

    def finish(
        self, request: web.Request, entry: LogEntry, response: web.StreamResponse | None
    ) -> None:
        """The request is over (``response`` None: it raised): settle what it leads."""
        ticket = request.get(TICKET)
        if ticket is None or not ticket.records:
            return
        answer = record_of(response, entry, ticket.codec)
        entry.capture = None
        ok = answer is not None and answer.ok
        if ticket.idempotency is not None:
            self.idempotent.land(ticket.idempotency, answer if ok else None, ticket.keep_s)
        if ticket.shared is not None:  # an error counts: the others would have got it too
            self.inflight.land(ticket.shared, answer)
        if ticket.cache_key is not None and answer is not None and answer.ok and not entry.replay:
            self.cache.put(ticket.cache_key, answer, ttl_s=ticket.ttl_s, max_bytes=ticket.max_bytes)

    @staticmethod
    def _replay(
        recorded: Recorded, entry: LogEntry, kind: str, header: str, value: str
    ) -> web.Response:
        entry.replay = kind
        return replay_response(recorded, entry, header, value)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the cache header of a request the cache could not answer (a
    stream's headers leave before its answer is known)."""
    ticket = request.get(TICKET)
    if ticket is not None and ticket.headers:
        response.headers.update(ticket.headers)
