"""The words of each notification, from an event's data; every string through Qt's translator
(context "Notifications"). The data each kind carries: docs/notifications.md."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from PySide6.QtCore import QCoreApplication

from app.notify.note import Note
from gateway.observe.events import Event

translate = QCoreApplication.translate  # the name pyside6-lupdate looks for

# The main window page a click on each kind opens.
PAGES: Final = {
    "quota_warning": "usage",
    "quota_exhausted": "usage",
    "quota_reset": "usage",
    "quota_forecast": "usage",
    "budget_crossed": "usage",
    "provider_down": "health",
    "provider_recovered": "health",
    "login_needed": "providers",
    "gateway_failed": "home",
}


def note_for(event: Event, now: float) -> Note | None:
    """The note telling of ``event`` (``now``: Unix time, for reset countdowns), or None for
    a kind that is never shown."""
    data = event.data
    kind = event.kind
    page = PAGES.get(kind)
    if page is None:
        return None
    if kind.startswith("quota_"):
        title, body = _quota(kind, data, now)
    elif kind == "budget_crossed":
        title, body = _budget(data, now)
    elif kind == "provider_down":
        name = _text(data, "name")
        title = translate("Notifications", "{name} is down").format(name=name)
        body = translate(
            "Notifications", "Switchboard stopped sending requests to it: {reason}."
        ).format(reason=_text(data, "reason") or translate("Notifications", "it keeps failing"))
    elif kind == "provider_recovered":
        name = _text(data, "name")
        title = translate("Notifications", "{name} is back").format(name=name)
        body = translate("Notifications", "Requests go to {name} again.").format(name=name)
    elif kind == "login_needed":
        connection = _text(data, "connection")
        title = translate("Notifications", "Login needed: {connection}").format(
            connection=connection
        )
        body = translate(
            "Notifications",
            "{name} refused the credentials of {connection}. Log in again or replace its "
            "API key; Switchboard skips it until then.",
        ).format(name=_text(data, "name"), connection=connection)
    else:  # gateway_failed
        title = translate("Notifications", "Switchboard could not start")
        body = event.detail or translate("Notifications", "The gateway failed to start.")
    return Note(kind, title, body, page)


def _quota(kind: str, data: Mapping[str, object], now: float) -> tuple[str, str]:
    account = _account(data)
    window = window_label(_text(data, "window"))
    if kind == "quota_reset":
        return translate("Notifications", "Quota available again"), translate(
            "Notifications", "{account}: {window} has reset"
        ).format(account=account, window=window)
    if kind == "quota_forecast":
        exhausted_at = data.get("exhausted_at")
        left = exhausted_at - now if isinstance(exhausted_at, int | float) else 0.0
        return translate("Notifications", "Quota running out"), translate(
            "Notifications", "{account}: {window} runs out in about {countdown} at this rate"
        ).format(account=account, window=window, countdown=countdown_text(left))
    if kind == "quota_warning":
        title = translate("Notifications", "Quota almost used up")
        percent = data.get("percent")
        shown = round(percent) if isinstance(percent, int | float) else 80
        state = translate("Notifications", "{account}: {window} at {percent} %").format(
            account=account, window=window, percent=shown
        )
    else:
        title = translate("Notifications", "Quota used up")
        state = translate("Notifications", "{account}: {window} used up").format(
            account=account, window=window
        )
    resets_at = data.get("resets_at")
    if not isinstance(resets_at, int | float):
        return title, state
    return title, translate("Notifications", "{state} — resets in {countdown}").format(
        state=state, countdown=countdown_text(resets_at - now)
    )


def _budget(data: Mapping[str, object], now: float) -> tuple[str, str]:
    """A spent budget: its scope (connection, provider, tier or client key), its period and
    its amount in USD."""
    scopes = {
        "connection": translate("Notifications", "Connection {name}"),
        "provider": translate("Notifications", "Provider {name}"),
        "tier": translate("Notifications", "Tier {name}"),
        "key": translate("Notifications", "Key {name}"),
    }
    who = scopes.get(_text(data, "scope"), "{name}").format(name=_text(data, "name"))
    periods = {
        "day": translate("Notifications", "daily budget"),
        "week": translate("Notifications", "weekly budget"),
        "month": translate("Notifications", "monthly budget"),
    }
    period = periods.get(_text(data, "window")) or translate("Notifications", "budget")
    limit = data.get("limit")
    state = (
        translate("Notifications", "{who}: {period} of ${limit:.2f} spent").format(
            who=who, period=period, limit=float(limit)
        )
        if isinstance(limit, int | float)
        else translate("Notifications", "{who}: {period} spent").format(who=who, period=period)
    )
    title = translate("Notifications", "Budget spent")
    resets_at = data.get("resets_at")
    if not isinstance(resets_at, int | float):
        return title, state
    return title, translate("Notifications", "{state} — resets in {countdown}").format(
        state=state, countdown=countdown_text(resets_at - now)
    )


def _account(data: Mapping[str, object]) -> str:
    """The account as people know it: the provider's (or plan's) name and the connection's,
    e.g. "Claude Pro (work)"; just the connection when the name is the connection's own (the
    quota tracker names a connection's window after the connection)."""
    connection = _text(data, "connection")
    name = _text(data, "name")
    if name and connection and name != connection:
        return f"{name} ({connection})"
    return connection or name


_SPAN = re.compile(r"(\d+)\s*([hd])")


def window_label(window: str) -> str:
    """A window's name for people: "5h" → "5-hour window", "7d" → "7-day window",
    "weekly" → "weekly window"."""
    match = _SPAN.fullmatch(window.strip().lower())
    if match is not None:
        count, unit = match.groups()
        if unit == "h":
            return translate("Notifications", "{count}-hour window").format(count=count)
        return translate("Notifications", "{count}-day window").format(count=count)
    named = {
        "daily": translate("Notifications", "daily window"),
        "weekly": translate("Notifications", "weekly window"),
        "monthly": translate("Notifications", "monthly window"),
    }
    return named.get(window.strip().lower()) or translate(
        "Notifications", "{window} window"
    ).format(window=window)


def countdown_text(seconds: float) -> str:
    """Seconds until a reset, to the nearest minute: "1 h 12 min", "2 d 3 h", "45 min"."""
    minutes = max(0, round(seconds / 60))
    if minutes < 1:
        return translate("Notifications", "less than a minute")
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return translate("Notifications", "{minutes} min").format(minutes=minutes)
    days, hours = divmod(hours, 24)
    if days:
        return translate("Notifications", "{days} d {hours} h").format(days=days, hours=hours)
    if minutes == 0:
        return translate("Notifications", "{hours} h").format(hours=hours)
    return translate("Notifications", "{hours} h {minutes} min").format(
        hours=hours, minutes=minutes
    )


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""
