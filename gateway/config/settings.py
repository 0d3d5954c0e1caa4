"""Every setting is declared once here, as data: name, type, default, bounds and help.

The configuration file, the CLI, the docs test and (later) the settings page all read this
table, so a setting cannot exist in one place and be missing from another.
"""

from __future__ import annotations

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
        if not isinstance(value, str) or not value:
            raise SettingError(f"settings.{name}: expected a non-empty string, got {value!r}")
        if spec.choices is not None and value not in spec.choices:
            raise SettingError(
                f"settings.{name}: must be one of {', '.join(spec.choices)}, got {value!r}"
            )
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
