"""Every setting is declared once here, as data: name, type, default, bounds and help.

The configuration file, the CLI, the docs test and (later) the settings page all read this
table, so a setting cannot exist in one place and be missing from another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.routing.strategies import ACCOUNT_STRATEGIES


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    type: type[bool] | type[int] | type[float] | type[str]
    default: bool | int | float | str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    allow_empty: bool = False  # strings only: "" is a meaningful value (e.g. "no text")
    check: Callable[[str], str | None] | None = None  # strings only: the problem, if any
    pattern: str | None = None  # strings only: a regular expression the whole value matches
    pattern_hint: str = ""  # what ``pattern`` accepts, in words, for the error message


def _time_zone_problem(value: str) -> str | None:
    from gateway.usage.windows import WindowError, zone

    try:
        zone(value)
    except WindowError as exc:
        return f"{exc}, or local"
    return None


THINKING_MODES = ("passthrough", "off", "fixed", "adaptive")
THEMES = ("system", "light", "dark")

# The desktop notifications one setting each switches (notify_<kind>): docs/notifications.md.
NOTIFICATION_KINDS: dict[str, str] = {
    "quota_warning": "a subscription window reaches 80 % of its quota",
    "quota_exhausted": "a subscription window's quota is used up",
    "quota_reset": "a used-up window resets",
    "quota_forecast": "a subscription window will run out within 30 minutes at the current rate",
    "budget_crossed": "a budget (per connection, provider, tier or key) is spent",
    "provider_down": "a provider stops answering (its breaker opens, or every connection fails "
    "or needs a login)",
    "provider_recovered": "a provider that was down answers again",
    "login_needed": "a connection's credentials were refused and it needs a new login or key",
    "gateway_failed": "the gateway cannot start (e.g. its port is taken)",
}

# Off unless switched on: a burst of requests early in a window can forecast a run-out that
# the pace of the rest of the window never reaches.
QUIET_KINDS = frozenset({"quota_forecast"})

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "require_api_key",
        bool,
        True,
        "Clients must send a Switchboard API key. When false, key-less requests are "
        "accepted from loopback addresses only.",
    ),
    SettingSpec(
        "host",
        str,
        "127.0.0.1",
        "Address the gateway binds to. A non-loopback address requires require_api_key = true.",
    ),
    SettingSpec("port", int, 20128, "TCP port of the gateway.", 1, 65535),
    SettingSpec(
        "max_body_mb", int, 32, "Largest request body accepted, in MiB (413 above).", 1, 1024
    ),
    SettingSpec(
        "upstream_connect_timeout_s",
        float,
        10.0,
        "Seconds to wait for a TCP/TLS connection to an upstream (then 502/next target).",
        0.1,
        300,
    ),
    SettingSpec(
        "upstream_read_timeout_s",
        float,
        300.0,
        "Seconds an upstream may stay silent (before its first byte or between two "
        "chunks) before the request fails with 504.",
        0.1,
        3600,
    ),
    SettingSpec("log_retention_days", int, 30, "Days request logs are kept.", 1, 3650),
    SettingSpec(
        "usage_retention_days",
        int,
        400,
        "Days the hourly usage totals (analytics, `switchboard usage`) are kept.",
        1,
        3650,
    ),
    SettingSpec(
        "account_strategy",
        str,
        "fill-first",
        "How the accounts (connections) of one provider are ordered: fill-first, "
        "round-robin, p2c, random or least-used (docs/routing.md).",
        choices=ACCOUNT_STRATEGIES,
    ),
    SettingSpec(
        "sticky_uses",
        int,
        3,
        "round-robin accounts: requests an account serves before the next takes over.",
        1,
        1000,
    ),
    SettingSpec(
        "max_attempts",
        int,
        10,
        "Most upstream attempts (accounts and targets together) for one request.",
        1,
        100,
    ),
    SettingSpec(
        "provider_breaker_failures",
        int,
        8,
        "Consecutive failures (408, 5xx, timeouts, connection errors) that open a provider's "
        "circuit breaker.",
        1,
        1000,
    ),
    SettingSpec(
        "provider_breaker_open_s",
        float,
        60.0,
        "Seconds a provider's open breaker rejects requests before one probe is let through.",
        0,
        3600,
    ),
    SettingSpec(
        "connection_breaker_failures",
        int,
        5,
        "Consecutive failures that open one connection's (account's) circuit breaker.",
        1,
        1000,
    ),
    SettingSpec(
        "connection_breaker_open_s",
        float,
        30.0,
        "Seconds a connection's open breaker rejects requests before one probe is let through.",
        0,
        3600,
    ),
    SettingSpec(
        "rate_limit_max_wait_s",
        float,
        30.0,
        "Longest a request waits for a rate-limited connection (its requests per minute, "
        "minimum gap or concurrency) before it moves on to the next target.",
        0,
        600,
    ),
    SettingSpec(
        "rate_limit_queue_size",
        int,
        100,
        "Requests that may wait for one rate-limited connection; more move on at once.",
        0,
        100_000,
    ),
    SettingSpec(
        "dedup_window_s",
        float,
        5.0,
        "A request repeating an Idempotency-Key (or X-Request-Id) within this many seconds gets "
        "the first response again, and identical deterministic requests in flight share one "
        "upstream call; 0 turns both off.",
        0,
        300,
    ),
    SettingSpec(
        "cache_enabled",
        bool,
        False,
        "Cache responses to deterministic requests (temperature 0) and answer exact repeats "
        "from the cache. A combo's own cache switch overrides this.",
    ),
    SettingSpec(
        "cache_ttl_s",
        int,
        1800,
        "Seconds a cached response stays valid.",
        1,
        30 * 86400,
    ),
    SettingSpec(
        "cache_max_mb",
        int,
        64,
        "Memory the response cache may use, in MiB (least recently used entries go first; "
        "the on-disk copy is bounded by the TTL).",
        1,
        4096,
    ),
    SettingSpec(
        "system_prompt",
        str,
        "",
        "Text put before the system prompt of every request (empty: nothing). A combo's "
        "system_prompt comes after this one.",
        allow_empty=True,
    ),
    SettingSpec(
        "thinking_mode",
        str,
        "passthrough",
        "Reasoning budget sent upstream: passthrough (as the client asked), off (no reasoning), "
        "fixed (thinking_budget tokens) or adaptive (scaled to the prompt, at most "
        "thinking_budget).",
        choices=THINKING_MODES,
    ),
    SettingSpec(
        "thinking_budget",
        int,
        8192,
        "Reasoning tokens for thinking_mode fixed, and the ceiling for adaptive.",
        1024,
        128_000,
    ),
    # desktop: notifications and start at login ------------------------------------------
    *(
        SettingSpec(
            f"notify_{kind}", bool, kind not in QUIET_KINDS, f"Desktop notification when {when}."
        )
        for kind, when in NOTIFICATION_KINDS.items()
    ),
    SettingSpec(
        "start_at_login",
        bool,
        False,
        "Start the desktop app when you log in (Windows Run key, macOS LaunchAgent, "
        "XDG autostart entry).",
    ),
    SettingSpec(
        "quota_threshold_percent",
        float,
        99.0,
        "A connection at or above this share of any quota window is skipped until that "
        "window resets (docs/usage.md).",
        1,
        100,
    ),
    SettingSpec(
        "budget_timezone",
        str,
        "local",
        "Time zone whose calendar days, weeks (from Monday) and months budgets follow: an "
        "IANA name such as Europe/Paris, or local (this machine's).",
        check=_time_zone_problem,
    ),
    # The desktop app (docs/desktop.md); the headless gateway ignores these.
    SettingSpec(
        "start_minimized",
        bool,
        False,
        "Desktop app: start in the tray without opening the main window.",
    ),
    SettingSpec(
        "close_to_tray",
        bool,
        True,
        "Desktop app: closing the main window keeps Switchboard running in the tray; when "
        "false, closing it quits.",
    ),
    SettingSpec(
        "theme",
        str,
        "system",
        "Desktop app colours: system (follow the desktop), light or dark.",
        choices=THEMES,
    ),
    SettingSpec(
        "language",
        str,
        "system",
        "Desktop app language: a code such as en or de, or system (the desktop's language; "
        "English where no translation exists).",
        pattern=r"system|[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?",
        pattern_hint="a language code such as en or pt_BR, or system",
    ),
)

SETTINGS_BY_NAME: dict[str, SettingSpec] = {spec.name: spec for spec in SETTINGS}


class SettingError(ValueError):
    """A setting name or value is invalid; the message names the setting."""


def coerce_setting(name: str, value: Any) -> bool | int | float | str:
    """Validate ``value`` for setting ``name`` and return it in the declared type."""
    spec = SETTINGS_BY_NAME.get(name)
    if spec is None:
        known = ", ".join(sorted(SETTINGS_BY_NAME))
        raise SettingError(f"settings.{name}: unknown setting (known: {known})")
    if spec.type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise SettingError(f"settings.{name}: expected true or false, got {value!r}")
    if spec.type is str:
        if not isinstance(value, str) or (not value and not spec.allow_empty):
            raise SettingError(f"settings.{name}: expected a non-empty string, got {value!r}")
        if spec.choices is not None and value not in spec.choices:
            raise SettingError(
                f"settings.{name}: must be one of {', '.join(spec.choices)}, got {value!r}"
            )
        if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
            raise SettingError(f"settings.{name}: expected {spec.pattern_hint}, got {value!r}")
        if spec.check is not None and (problem := spec.check(value)):
            raise SettingError(f"settings.{name}: {problem}")
        return value
    if isinstance(value, bool):
        raise SettingError(f"settings.{name}: expected a number, got {value!r}")
    try:
        number: int | float = int(value) if spec.type is int else float(value)
    except (TypeError, ValueError):
        kind = "an integer" if spec.type is int else "a number"
        raise SettingError(f"settings.{name}: expected {kind}, got {value!r}") from None
    if spec.type is int and isinstance(value, float) and not value.is_integer():
        raise SettingError(f"settings.{name}: expected an integer, got {value!r}")
    if spec.minimum is not None and number < spec.minimum:
        raise SettingError(f"settings.{name}: must be at least {spec.minimum:g}, got {number}")
    if spec.maximum is not None and number > spec.maximum:
        raise SettingError(f"settings.{name}: must be at most {spec.maximum:g}, got {number}")
    return number


def defaults() -> dict[str, bool | int | float | str]:
    return {spec.name: spec.default for spec in SETTINGS}
