"""The limits that apply: quota windows per connection (the user's, else the catalog's public
plan limits) and USD budgets per connection, provider, tier or client key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from gateway.usage.windows import WEEKDAYS, Unit, Window, WindowKind

Scope = Literal["connection", "provider", "tier", "key"]
Period = Literal["day", "week", "month"]
SCOPES: Final[tuple[Scope, ...]] = ("connection", "provider", "tier", "key")
PERIODS: Final[tuple[Period, ...]] = ("day", "week", "month")
PERIOD_WINDOWS: Final[dict[str, WindowKind]] = {
    "day": "daily",
    "week": "weekly",
    "month": "monthly",
}
Source = Literal["user", "catalog", "budget"]


@dataclass(frozen=True, slots=True)
class Limit:
    """One window with a ceiling. ``label`` names the window in messages and events: the
    quota window kind (5h, daily ...) or the budget period (day, week, month)."""

    scope: Scope
    name: str  # connection name, provider id, tier or key name
    label: str
    window: Window
    limit: float
    unit: Unit
    source: Source

    @property
    def key(self) -> tuple[str, str, str]:
        """Identifies the limit across configuration changes (and in persisted events)."""
        kind = "budget" if self.source == "budget" else "quota"
        return (f"{kind}:{self.scope}:{self.name}", self.label, self.unit)

    @property
    def budget(self) -> bool:
        return self.source == "budget"

    @property
    def title(self) -> str:
        """ "5-hour window", "daily window", "monthly budget"."""
        if self.budget:
            return {"day": "daily", "week": "weekly", "month": "monthly"}[self.label] + " budget"
        return f"{self.window.title} window"


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    """A window definition from the configuration or the catalog."""

    window: WindowKind
    limit: float
    unit: Unit
    reset_hour: int = 0
    reset_weekday: int = 0
    reset_day: int = 1
    timezone: str = "UTC"

    def as_window(self) -> Window:
        return Window(
            self.window, self.reset_hour, self.reset_weekday, self.reset_day, self.timezone
        )


def weekday_number(name: str) -> int:
    return WEEKDAYS.index(name)


def quota_limits(
    connections: Iterable[tuple[str, str]],
    user: Mapping[str, Iterable[QuotaSpec]],
    catalog: Mapping[str, Iterable[QuotaSpec]],
) -> list[Limit]:
    """``connections``: (name, catalog provider id) of each enabled connection. The user's
    windows come first; a catalog window applies where the user set none of that kind."""
    limits: list[Limit] = []
    for name, provider in connections:
        own = {spec.window: spec for spec in user.get(name, ())}
        shipped = {spec.window: spec for spec in catalog.get(provider, ())}
        for kind, spec in sorted({**shipped, **own}.items(), key=lambda item: _order(item[0])):
            source: Source = "user" if kind in own else "catalog"
            limits.append(
                Limit("connection", name, kind, spec.as_window(), spec.limit, spec.unit, source)
            )
    return limits


def budget_limits(rows: Iterable[tuple[str, str, str, float]], timezone: str) -> list[Limit]:
    """Budgets (scope, name, period, USD) on calendar days, weeks from Monday and months
    from the 1st, at midnight in ``timezone``."""
    return [
        Limit(
            scope,  # type: ignore[arg-type]
            name,
            period,
            Window(PERIOD_WINDOWS[period], timezone=timezone),
            limit,
            "usd",
            "budget",
        )
        for scope, name, period, limit in rows
    ]


def _order(kind: str) -> int:
    return ("5h", "daily", "weekly", "monthly").index(kind)
