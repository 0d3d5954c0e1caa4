"""Linux notifications over a real D-Bus: a private session bus (dbus-daemon) and a fake
notification server as a child process that records every ``Notify`` call.

No X server is needed: the D-Bus notifier never touches the display (Qt stays offscreen), so
plain ``make test`` runs this with only the ``dbus`` package installed — no ``xvfb-run`` or
``dbus-run-session`` wrapper around pytest.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.notify import NotificationPolicy, default_notifier
from app.notify.linux import LinuxNotifier
from app.notify.note import Note
from gateway.observe.events import Event
from gateway.resources import resource_path
from tests.support.dbus_session import (
    fake_notification_server,
    invoke_action,
    private_session_bus,
)

pytestmark = pytest.mark.timeout(60)
WAIT_MS = 10_000
NOW = 1_700_000_000.0
ICON = resource_path("icons/switchboard.svg")


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with private_session_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def calls(record: Path) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


def quota(kind: str, resets_at: float = NOW + 72 * 60) -> Event:
    data = {
        "connection": "work",
        "name": "Claude Pro",
        "window": "5h",
        "percent": 80,
        "resets_at": resets_at,
    }
    return Event(kind, "", data)


def test_a_quota_event_is_one_notify_call_and_a_click_opens_its_page(
    qtbot: QtBot, bus: str, tmp_path: Path
) -> None:
    record = tmp_path / "notify.jsonl"
    clicked: list[tuple[str, bool]] = []

    def on_click(page_id: str) -> None:
        clicked.append((page_id, threading.current_thread() is threading.main_thread()))

    with fake_notification_server(bus, record):
        notifier = default_notifier(on_click)
        assert isinstance(notifier, LinuxNotifier)
        policy = NotificationPolicy(
            notifier, lambda kind: kind != "provider_down", wall=lambda: NOW
        )
        try:
            assert policy.handle(quota("quota_warning")) is not None
            qtbot.waitUntil(lambda: len(calls(record)) == 1, timeout=WAIT_MS)
            assert ICON.is_file()
            assert calls(record) == [
                {
                    "app_name": "Switchboard",
                    "replaces_id": 0,
                    "app_icon": ICON.as_uri(),
                    "summary": "Quota almost used up",
                    "body": "Claude Pro (work): 5-hour window at 80 % — resets in 1 h 12 min",
                    "actions": ["default", "Open"],
                    "hints": {"desktop-entry": ["s", "switchboard"], "urgency": ["y", 1]},
                    "expire_timeout": -1,
                    "id": 1,
                }
            ]
            # A repeat of the event and a switched-off kind: no call. The next event's call
            # comes after where theirs would have (one worker, in order), so it proves it.
            assert policy.handle(quota("quota_warning")) is None
            down = {"provider": "openai", "name": "OpenAI", "reason": "x"}
            assert policy.handle(Event("provider_down", "", down)) is None
            assert policy.handle(quota("quota_exhausted")) is not None
            qtbot.waitUntil(lambda: len(calls(record)) == 2, timeout=WAIT_MS)
            assert [c["summary"] for c in calls(record)] == [
                "Quota almost used up",
                "Quota used up",
            ]
            # Clicks: an unknown id and another action do nothing; a click on the first opens
            # its page, on the GUI thread.
            invoke_action(bus, 99)
            invoke_action(bus, 1, "dismiss")
            invoke_action(bus, 1)
            qtbot.waitUntil(lambda: clicked != [], timeout=WAIT_MS)
            invoke_action(bus, 2)
            qtbot.waitUntil(lambda: len(clicked) == 2, timeout=WAIT_MS)
            assert clicked == [("usage", True), ("usage", True)]
        finally:
            notifier.close()


def test_markup_servers_get_escaped_bodies_and_no_actions_when_they_have_none(
    qtbot: QtBot, bus: str, tmp_path: Path
) -> None:
    record = tmp_path / "notify.jsonl"
    with fake_notification_server(bus, record, caps="body,body-markup"):
        notifier = LinuxNotifier(address=bus, icon="switchboard")
        try:
            notifier.notify(
                Note("gateway_failed", "Could not start", "Port <20128> & more", "home")
            )
            qtbot.waitUntil(lambda: len(calls(record)) == 1, timeout=WAIT_MS)
        finally:
            notifier.close()
    (call,) = calls(record)
    assert (call["app_icon"], call["body"], call["actions"]) == (
        "switchboard",
        "Port &lt;20128&gt; &amp; more",
        [],
    )


def test_no_server_yet_is_logged_once_and_a_later_server_gets_the_next_note(
    qtbot: QtBot, bus: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = tmp_path / "notify.jsonl"
    notifier = LinuxNotifier(address=bus)
    try:
        with caplog.at_level(logging.WARNING, "switchboard.notify"):
            for n in range(3):
                notifier.notify(Note("provider_down", f"lost {n}", "nobody listens", "health"))
            qtbot.waitUntil(lambda: notifier.idle, timeout=WAIT_MS)
            with fake_notification_server(bus, record):
                notifier.notify(Note("provider_recovered", "seen", "a server is up", "health"))
                qtbot.waitUntil(lambda: len(calls(record)) == 1, timeout=WAIT_MS)
        assert [c["summary"] for c in calls(record)] == ["seen"]
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 1, messages
        assert messages[0].startswith("desktop notifications: cannot reach the notification")
        assert "org.freedesktop.Notifications" in messages[0]
    finally:
        notifier.close()
