"""Which gateway events become notifications: each kind switchable by its notify_<kind>
setting, and at most one notification per event per window.

- quota_warning / quota_exhausted / quota_reset / quota_forecast: once per connection, window
  and reset time (the next window of the same connection is a new event);
- budget_crossed: once per budget (scope, name, period) and reset time;
- provider_down / provider_recovered: once per transition of a provider (down, then back,
  then down again is three notifications; a repeat of the same kind is none);
- login_needed: once until the connection no longer needs a login (``login_restored``);
- gateway_failed: the same message at most once a minute, and again after a good start.

What was seen is remembered whether or not its kind is switched on, so switching a kind back
on does not replay old events, and a recovery is told even when the outage was muted. The
memory is bounded (least recently used entries are forgotten first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Final

from app.notify.note import Note, Notifier
from app.notify.texts import note_for
from gateway.config.settings import NOTIFICATION_KINDS
from gateway.config.snapshot import Settings
from gateway.observe.events import Event

if TYPE_CHECKING:
    from gateway.service import GatewayService

MAX_REMEMBERED: Final = 512
GATEWAY_FAILED_QUIET_S: Final = 60.0


class NotificationPolicy:
    def __init__(
        self,
        notifier: Notifier,
        enabled: Callable[[str], bool],
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        """``enabled(kind)``: whether that kind's notifications are on (see ``enabled_by``)."""
        self._notifier = notifier
        self._enabled = enabled
        self._wall = wall
        self._monotonic = monotonic
        self._max = max_remembered
        self._seen: OrderedDict[Hashable, object] = OrderedDict()

    @property
    def remembered(self) -> int:
        """Entries in the bounded memory of events seen."""
        return len(self._seen)

    def handle(self, event: Event) -> Note | None:
        """Connect to the bridge's ``event_received``; returns the note shown, if any."""
        if not self._is_news(event):
            return None
        if event.kind not in NOTIFICATION_KINDS or not self._enabled(event.kind):
            return None
        note = note_for(event, self._wall())
        if note is not None:
            self._notifier.notify(note)
        return note

    def _is_news(self, event: Event) -> bool:
        """Remember ``event``; False when it repeats one already told of."""
        kind, data = event.kind, event.data
        if kind.startswith("quota_") or kind == "budget_crossed":
            # a connection's window, or a budget of a provider, tier or key (named by ``name``)
            scope = data.get("scope", "connection")
            owner = data.get("connection") if scope == "connection" else data.get("name")
            key: Hashable = (kind, scope, owner, data.get("window"))
            return self._remember(key, data.get("resets_at"))
        if kind in ("provider_down", "provider_recovered"):
            provider = data.get("provider")
            return self._remember(("provider", provider), kind, first="provider_recovered")
        if kind in ("login_needed", "login_restored"):
            connection = data.get("connection_id")
            return self._remember(("login", connection), kind, first="login_restored")
        if kind == "gateway_failed":
            now = self._monotonic()
            last = self._seen.get(("failed", event.detail))
            self._put(("failed", event.detail), now)
            return not isinstance(last, float) or now - last >= GATEWAY_FAILED_QUIET_S
        if kind == "started":  # a good start: the next failure is news again
            for key in [k for k in self._seen if isinstance(k, tuple) and k[0] == "failed"]:
                del self._seen[key]
        return False

    def _remember(self, key: Hashable, value: object, *, first: object = None) -> bool:
        """Store ``value`` under ``key``; True when it differs from what was there (``first``
        when nothing was)."""
        before = self._seen.get(key, first)
        self._put(key, value)
        return before != value

    def _put(self, key: Hashable, value: object) -> None:
        self._seen[key] = value
        self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)


def enabled_by(service: GatewayService) -> Callable[[str], bool]:
    """``enabled`` for NotificationPolicy: the notify_<kind> settings of the running gateway's
    snapshot, or of the last one seen while it is stopped (a start that fails must still be
    able to tell, with the user's own switches)."""
    last = Settings()

    def enabled(kind: str) -> bool:
        nonlocal last
        snapshot = service.snapshot
        if snapshot.revision:  # 0: the empty snapshot of a stopped service
            last = snapshot.settings
        return bool(getattr(last, f"notify_{kind}", True))

    return enabled
