"""Events → notes: each kind switchable, at most one note per event per window, a bounded
memory, and the settings the switches come from."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from app.notify.note import Note
from app.notify.policy import GATEWAY_FAILED_QUIET_S, NotificationPolicy, enabled_by
from app.notify.recording import RecordingNotifier
from gateway.config.snapshot import Settings, Snapshot
from gateway.observe.events import Event
from gateway.service import GatewayService

NOW = 1_700_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class World:
    def __init__(self, *, off: tuple[str, ...] = (), max_remembered: int = 512) -> None:
        self.off = set(off)
        self.notifier = RecordingNotifier()
        self.monotonic = Clock(100.0)
        self.policy = NotificationPolicy(
            self.notifier,
            lambda kind: kind not in self.off,
            wall=Clock(NOW),
            monotonic=self.monotonic,
            max_remembered=max_remembered,
        )

    def kinds(self, *events: Event) -> list[str | None]:
        """What each event produced: its note's kind, or None."""
        return [(note.kind if (note := self.policy.handle(e)) else None) for e in events]


def quota(kind: str, *, resets_at: float = NOW + 3600, window: str = "5h") -> Event:
    data = {"connection": "work", "window": window, "percent": 80, "resets_at": resets_at}
    return Event(kind, "", data)


def provider(kind: str, name: str = "deepseek") -> Event:
    return Event(kind, "", {"provider": name, "name": name.title(), "reason": "x"})


def login(kind: str, connection_id: str = "id1") -> Event:
    return Event(kind, "", {"connection": "stale", "connection_id": connection_id, "name": "X"})


def test_a_quota_window_is_told_once_per_reset_time() -> None:
    world = World()
    note = world.policy.handle(quota("quota_warning"))
    assert note == Note(
        "quota_warning",
        "Quota almost used up",
        "work: 5-hour window at 80 % — resets in 1 h",
        "usage",
    )
    assert world.notifier.notes == [note]
    assert world.kinds(
        quota("quota_warning"),  # the same window again: nothing
        quota("quota_exhausted"),  # a different event of that window
        quota("quota_exhausted"),
        quota("quota_warning", window="weekly"),  # another window of the connection
        quota("quota_reset"),
        quota("quota_reset"),
        quota("quota_warning", resets_at=NOW + 5 * 3600 + 3600),  # the next window
    ) == [None, "quota_exhausted", None, "quota_warning", "quota_reset", None, "quota_warning"]
    assert len(world.notifier.notes) == 5


def test_providers_are_told_once_per_transition() -> None:
    world = World()
    assert world.kinds(
        provider("provider_recovered"),  # never down: nothing to tell
        provider("provider_down"),
        provider("provider_down"),
        provider("provider_down", "groq"),  # another provider
        provider("provider_recovered"),
        provider("provider_recovered"),
        provider("provider_down"),  # down again: a new transition
    ) == [None, "provider_down", None, "provider_down", "provider_recovered", None, "provider_down"]


def test_a_login_is_asked_for_once_until_it_is_no_longer_needed() -> None:
    world = World()
    assert world.kinds(
        login("login_needed"),
        login("login_needed"),
        login("login_needed", "id2"),
        login("login_restored"),  # never shown itself
        login("login_needed"),
    ) == ["login_needed", None, "login_needed", None, "login_needed"]


def test_a_start_failure_is_told_once_a_minute_and_again_after_a_good_start() -> None:
    world = World()
    failed = Event("gateway_failed", detail="Port 20128 is already in use.")
    assert world.kinds(failed, failed) == ["gateway_failed", None]
    assert world.kinds(Event("gateway_failed", detail="Another problem.")) == ["gateway_failed"]
    world.monotonic.now += GATEWAY_FAILED_QUIET_S
    assert world.kinds(failed) == ["gateway_failed"]
    assert world.kinds(Event("started", "http://127.0.0.1:20128"), failed) == [
        None,
        "gateway_failed",
    ]


def test_a_switched_off_kind_is_silent_but_remembered() -> None:
    world = World(off=("quota_warning", "provider_down"))
    assert world.kinds(quota("quota_warning"), provider("provider_down")) == [None, None]
    assert world.notifier.notes == []
    world.off.clear()  # switched back on: the old events are not replayed...
    assert world.kinds(quota("quota_warning"), provider("provider_down")) == [None, None]
    # ...and the recovery from the muted outage is told.
    assert world.kinds(provider("provider_recovered")) == ["provider_recovered"]


def test_events_that_are_not_notifications() -> None:
    world = World()
    assert world.kinds(Event("started"), Event("stopped"), Event("reloaded", "7")) == [None] * 3
    assert world.notifier.notes == []


def test_the_memory_is_bounded() -> None:
    world = World(max_remembered=8)
    for hour in range(100):
        world.policy.handle(quota("quota_warning", resets_at=NOW + hour * 3600))
        world.policy.handle(provider("provider_down", f"p{hour}"))
    assert world.policy.remembered == 8
    assert len(world.notifier.notes) == 200


class FakeService:
    def __init__(self) -> None:
        self.snapshot = Snapshot.empty()


def test_switches_come_from_the_running_snapshot_and_outlive_a_stop() -> None:
    service = FakeService()
    enabled = enabled_by(cast(GatewayService, service))
    assert enabled("quota_warning") and enabled("gateway_failed")  # defaults: all on
    settings: Any = Settings(notify_gateway_failed=False)
    service.snapshot = dataclasses.replace(Snapshot.empty(), revision=3, settings=settings)
    assert not enabled("gateway_failed")
    assert enabled("provider_down")
    service.snapshot = Snapshot.empty()  # stopped: the last settings seen still hold
    assert not enabled("gateway_failed")


def budget(scope: str, name: str, *, window: str = "day", resets_at: float = NOW + 3600) -> Event:
    data = {"scope": scope, "name": name, "window": window, "limit": 5.0, "resets_at": resets_at}
    return Event("budget_crossed", "", data)


def test_each_budget_is_told_once_per_period() -> None:
    world = World()
    assert world.kinds(
        budget("provider", "openai"),
        budget("provider", "openai"),  # the same day again: nothing
        budget("tier", "openai"),  # another scope with the same name is another budget
        budget("provider", "openai", window="week"),
        budget("provider", "deepseek"),
        budget("provider", "openai", resets_at=NOW + 3600 + 86400),  # the next day
    ) == ["budget_crossed", None, *["budget_crossed"] * 4]
    world.off.add("budget_crossed")
    assert world.kinds(budget("key", "ci")) == [None]


def test_a_forecast_is_told_once_per_window_and_apart_from_the_warning() -> None:
    world = World()
    assert world.kinds(
        quota("quota_forecast"), quota("quota_forecast"), quota("quota_warning")
    ) == ["quota_forecast", None, "quota_warning"]
