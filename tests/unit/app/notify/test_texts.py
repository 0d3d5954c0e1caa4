"""The words of every notification kind, from the event data the gateway (and, later, the
quota tracker) sends."""

from __future__ import annotations

import pytest

from app.notify.note import Note
from app.notify.texts import countdown_text, note_for, window_label
from gateway.observe.events import Event

NOW = 1_700_000_000.0


def quota(kind: str, **data: object) -> Event:
    base: dict[str, object] = {
        "connection": "work",
        "name": "Claude Pro",
        "window": "5h",
        "percent": 80,
        "resets_at": NOW + 72 * 60,
    }
    return Event(kind, "", {**base, **data})


def test_quota_notes_name_the_account_the_window_and_the_countdown() -> None:
    assert note_for(quota("quota_warning"), NOW) == Note(
        "quota_warning",
        "Quota almost used up",
        "Claude Pro (work): 5-hour window at 80 % — resets in 1 h 12 min",
        "usage",
    )
    assert note_for(quota("quota_exhausted", window="weekly", percent=100), NOW) == Note(
        "quota_exhausted",
        "Quota used up",
        "Claude Pro (work): weekly window used up — resets in 1 h 12 min",
        "usage",
    )
    assert note_for(quota("quota_reset", name=""), NOW) == Note(
        "quota_reset", "Quota available again", "work: 5-hour window has reset", "usage"
    )
    # 79.6 % shows as 80; no reset time known: no countdown
    unknown = quota("quota_warning", percent=79.6, resets_at=None)
    assert note_for(unknown, NOW) == Note(
        "quota_warning", "Quota almost used up", "Claude Pro (work): 5-hour window at 80 %", "usage"
    )


def test_health_and_start_notes() -> None:
    down = Event(
        "provider_down",
        "DeepSeek is down: every connection needs a login",
        {"provider": "deepseek", "name": "DeepSeek", "reason": "every connection needs a login"},
    )
    assert note_for(down, NOW) == Note(
        "provider_down",
        "DeepSeek is down",
        "Switchboard stopped sending requests to it: every connection needs a login.",
        "health",
    )
    back = Event("provider_recovered", "", {"provider": "deepseek", "name": "DeepSeek"})
    assert note_for(back, NOW) == Note(
        "provider_recovered", "DeepSeek is back", "Requests go to DeepSeek again.", "health"
    )
    login = Event(
        "login_needed", "", {"connection": "stale", "name": "DeepSeek", "connection_id": "x"}
    )
    assert note_for(login, NOW) == Note(
        "login_needed",
        "Login needed: stale",
        "DeepSeek refused the credentials of stale. Log in again or replace its API key; "
        "Switchboard skips it until then.",
        "providers",
    )
    failed = Event("gateway_failed", detail="Port 20128 on 127.0.0.1 is already in use.")
    assert note_for(failed, NOW) == Note(
        "gateway_failed",
        "Switchboard could not start",
        "Port 20128 on 127.0.0.1 is already in use.",
        "home",
    )


@pytest.mark.parametrize("kind", ["started", "stopped", "reloaded", "login_restored", "other"])
def test_kinds_that_are_never_shown(kind: str) -> None:
    assert note_for(Event(kind), NOW) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "less than a minute"),
        (29, "less than a minute"),
        (31, "1 min"),
        (45 * 60, "45 min"),
        (3600, "1 h"),
        (3600 + 12 * 60 - 20, "1 h 12 min"),
        (86400 + 3600, "1 d 1 h"),
        (2 * 86400 + 3 * 3600 + 59, "2 d 3 h"),
    ],
)
def test_countdowns(seconds: float, text: str) -> None:
    assert countdown_text(seconds) == text


@pytest.mark.parametrize(
    ("window", "label"),
    [
        ("5h", "5-hour window"),
        ("7d", "7-day window"),
        ("Weekly", "weekly window"),
        ("daily", "daily window"),
        ("opus weekly", "opus weekly window"),
    ],
)
def test_window_labels(window: str, label: str) -> None:
    assert window_label(window) == label


def test_the_quota_trackers_own_events_name_the_connection_once() -> None:
    # issue 5's tracker names a connection's window after the connection itself
    event = Event(
        "quota_warning",
        "team: 5-hour window at 80 % (resets in 1 h 12 min)",
        {
            "scope": "connection",
            "name": "team",
            "connection": "team",
            "window": "5h",
            "limit": 50.0,
            "unit": "requests",
            "percent": 80.0,
            "used": 40.0,
            "resets_at": NOW + 72 * 60,
        },
    )
    assert note_for(event, NOW) == Note(
        "quota_warning",
        "Quota almost used up",
        "team: 5-hour window at 80 % — resets in 1 h 12 min",
        "usage",
    )


def test_a_forecast_says_when_the_window_runs_out() -> None:
    event = quota("quota_forecast", name="team", connection="team", exhausted_at=NOW + 25 * 60)
    assert note_for(event, NOW) == Note(
        "quota_forecast",
        "Quota running out",
        "team: 5-hour window runs out in about 25 min at this rate",
        "usage",
    )


@pytest.mark.parametrize(
    ("scope", "window", "body"),
    [
        ("provider", "day", "Provider openai: daily budget of $5.00 spent — resets in 3 h"),
        ("tier", "week", "Tier premium: weekly budget of $5.00 spent — resets in 3 h"),
        ("key", "month", "Key ci: monthly budget of $5.00 spent — resets in 3 h"),
        ("connection", "day", "Connection work: daily budget of $5.00 spent — resets in 3 h"),
    ],
)
def test_a_spent_budget_names_its_scope_period_and_amount(
    scope: str, window: str, body: str
) -> None:
    name = {"provider": "openai", "tier": "premium", "key": "ci", "connection": "work"}[scope]
    data: dict[str, object] = {
        "scope": scope,
        "name": name,
        "window": window,
        "limit": 5,
        "unit": "usd",
        "percent": 100.4,
        "used": 5.02,
        "resets_at": NOW + 3 * 3600,
    }
    if scope == "connection":
        data["connection"] = name
    assert note_for(Event("budget_crossed", "", data), NOW) == Note(
        "budget_crossed", "Budget spent", body, "usage"
    )
