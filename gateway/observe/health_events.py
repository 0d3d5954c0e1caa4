"""Routing health as events: a provider going down or recovering, a connection needing a login.

The router only remembers health (breakers, login marks); nobody is told when it changes.
``HealthTracker.poll`` compares what the router holds now with what it held at the last poll
and returns one event per transition; ``watch_health`` polls every ``POLL_INTERVAL_S`` on the
gateway's loop. A poll peeks at a few breakers per connection (no report, no statistics), so
it costs microseconds even with hundreds of connections. Rules: docs/notifications.md.

A provider is **down** when its own breaker is open, or when every usable connection of it is
open or needs a login; it is **up** again when its breaker is closed and at least one
connection is closed and logged in. Anything in between (a half-open probe) keeps the last
verdict, so a probe does not produce a down/up/down flicker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Final

from gateway.config.snapshot import Upstream
from gateway.observe.events import Event
from gateway.routing.breaker import BreakerState
from gateway.routing.router import Router, connection_key, provider_key

POLL_INTERVAL_S: Final = 2.0
PROVIDER_DOWN: Final = "provider_down"
PROVIDER_RECOVERED: Final = "provider_recovered"
LOGIN_NEEDED: Final = "login_needed"
LOGIN_RESTORED: Final = "login_restored"

log = logging.getLogger("switchboard.health_events")


def display_name(upstream: Upstream) -> str:
    """A custom server is known by its alias; a catalog provider by its name."""
    return upstream.alias if ":" in upstream.provider else upstream.provider_name


class HealthTracker:
    """What the last poll saw: each provider's verdict and each connection's login mark.
    Holds entries only for the connections and providers of the last poll (bounded by the
    configuration); a provider or connection that leaves it is forgotten without an event."""

    __slots__ = ("_down", "_logins")

    def __init__(self) -> None:
        self._down: dict[str, bool] = {}  # provider id -> down
        self._logins: dict[str, str] = {}  # connection id -> its needs-login reason

    def poll(self, router: Router, upstreams: Iterable[Upstream]) -> list[Event]:
        """The transitions since the last poll: login changes first, then providers, each
        group in provider order."""
        grouped: dict[str, list[Upstream]] = {}
        for upstream in upstreams:
            if upstream.problem is None:  # unusable by configuration: not a health matter
                grouped.setdefault(upstream.provider, []).append(upstream)
        events = self._login_events(router, grouped)
        down_before = self._down
        self._down = {}
        for provider in sorted(grouped):
            members = grouped[provider]
            was_down = down_before.get(provider, False)
            verdict, reason = _verdict(router, provider, members)
            now_down = was_down if verdict is None else verdict
            self._down[provider] = now_down
            if now_down != was_down:
                events.append(_provider_event(members[0], now_down, reason))
        return events

    def _login_events(self, router: Router, grouped: dict[str, list[Upstream]]) -> list[Event]:
        events = []
        before = self._logins
        self._logins = {}
        for provider in sorted(grouped):
            for upstream in grouped[provider]:
                reason = router.logins.get(upstream.connection_id)
                if reason is not None:
                    self._logins[upstream.connection_id] = reason
                if (reason is None) == (upstream.connection_id not in before):
                    continue
                kind = LOGIN_RESTORED if reason is None else LOGIN_NEEDED
                name = display_name(upstream)
                detail = (
                    f"{upstream.connection} ({name}) {reason}"
                    if reason is not None
                    else f"{upstream.connection} ({name}) no longer needs a login"
                )
                data = {
                    "connection": upstream.connection,
                    "connection_id": upstream.connection_id,
                    "provider": upstream.provider,
                    "name": name,
                    "reason": reason or "",
                }
                events.append(Event(kind, detail, data))
        return events


def _state(router: Router, key: str) -> tuple[BreakerState, str | None]:
    breaker = router.breakers.get(key)  # a peek: polling must not create or refresh
    if breaker is None:
        return BreakerState.CLOSED, None
    return breaker.state, breaker.last_error


def _verdict(router: Router, provider: str, members: list[Upstream]) -> tuple[bool | None, str]:
    """(True down / False up / None undecided, why it is down)."""
    own, own_error = _state(router, provider_key(provider))
    if own is BreakerState.OPEN:
        return True, _with_error("its circuit breaker is open", own_error)
    usable = False
    failing = needing_login = 0
    last_error = None
    for upstream in members:
        if router.logins.get(upstream.connection_id) is not None:
            needing_login += 1
            continue
        state, error = _state(router, connection_key(upstream.connection_id))
        if state is BreakerState.OPEN:
            failing += 1
            last_error = last_error or error
        elif state is BreakerState.CLOSED:
            usable = True
    if failing + needing_login == len(members):
        if needing_login == len(members):
            return True, "every connection needs a login"
        if failing == len(members):
            return True, _with_error("every connection's circuit breaker is open", last_error)
        return True, "every connection is failing or needs a login"
    if own is BreakerState.CLOSED and usable:
        return False, ""
    return None, ""


def _with_error(text: str, error: str | None) -> str:
    return f"{text} (last error: {error})" if error else text


def _provider_event(upstream: Upstream, down: bool, reason: str) -> Event:
    name = display_name(upstream)
    data = {"provider": upstream.provider, "name": name, "reason": reason}
    if down:
        return Event(PROVIDER_DOWN, f"{name} is down: {reason}", data)
    return Event(PROVIDER_RECOVERED, f"{name} is available again", data)


async def watch_health(
    read: Callable[[], tuple[Router, Iterable[Upstream]] | None],
    emit: Callable[[Event], None],
    interval: float = POLL_INTERVAL_S,
) -> None:
    """Poll ``read()`` (the live router and the snapshot's upstreams, or None while there is
    nothing to watch) every ``interval`` seconds and ``emit`` each transition; runs until
    cancelled. A failing poll is logged and the next one tries again."""
    tracker = HealthTracker()
    while True:
        await asyncio.sleep(interval)
        try:
            current = read()
            events = tracker.poll(*current) if current is not None else []
        except Exception:
            log.exception("health poll failed")
            continue
        for event in events:
            emit(event)
