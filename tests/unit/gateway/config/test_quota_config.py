"""Quota windows and budgets in the configuration: import, export, commands, snapshot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import commands
from gateway.config.commands import ConfigError
from gateway.config.file_format import (
    BudgetEntry,
    ConfigFileError,
    QuotaEntry,
    parse_config_text,
)
from gateway.config.repository import BudgetRow, QuotaRow
from gateway.config.settings import SettingError, coerce_setting
from gateway.config.snapshot import build_snapshot
from gateway.config.transfer import export_config, import_config
from gateway.providers.catalog import Catalog, ProviderInfo, QuotaWindowInfo, default_catalog
from gateway.usage.windows import Window
from tests.support.gateway import with_context

BASE = """
[[api_keys]]
name = "laptop"
key = "sk-sb-0123456789abcdef0123456789abcdef"

[[connections]]
name = "work"
provider = "openai"
api_key = "sk-test"
"""

QUOTAS = """
[[quotas]]
connection = "work"
window = "5h"
limit = 200
unit = "requests"

[[quotas]]
connection = "work"
window = "weekly"
limit = 5000000
unit = "tokens"
reset_weekday = "wed"
reset_hour = 17
timezone = "America/New_York"

[[budgets]]
scope = "key"
name = "laptop"
period = "month"
limit_usd = 50

[[budgets]]
scope = "tier"
name = "api-key"
period = "day"
limit_usd = 5.5
"""


def imported(data_dir: Path, text: str) -> None:
    config = parse_config_text(text, fmt="toml")
    with_context(data_dir, lambda ctx: import_config(ctx, config))


def test_import_stores_and_export_round_trips(data_dir: Path) -> None:
    imported(data_dir, BASE + QUOTAS)
    state = with_context(data_dir, lambda ctx: ctx.store.state())
    assert state.quotas == (
        QuotaRow("work", "5h", 200.0, "requests", 0, 0, 1, "UTC"),
        QuotaRow("work", "weekly", 5_000_000.0, "tokens", 17, 2, 1, "America/New_York"),
    )
    assert state.budgets == (
        BudgetRow("key", "laptop", "month", 50.0),
        BudgetRow("tier", "api-key", "day", 5.5),
    )
    exported = with_context(data_dir, export_config)
    assert exported["quotas"] == [
        {"connection": "work", "window": "5h", "limit": 200.0, "unit": "requests"},
        {
            "connection": "work",
            "window": "weekly",
            "limit": 5_000_000.0,
            "unit": "tokens",
            "reset_hour": 17,
            "timezone": "America/New_York",
            "reset_weekday": "wed",
        },
    ]
    assert exported["budgets"] == [
        {"scope": "key", "name": "laptop", "period": "month", "limit_usd": 50.0},
        {"scope": "tier", "name": "api-key", "period": "day", "limit_usd": 5.5},
    ]


def test_snapshot_carries_the_limits(data_dir: Path) -> None:
    imported(data_dir, BASE + QUOTAS + '\n[settings]\nbudget_timezone = "Europe/Paris"\n')
    snapshot = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), ctx.catalog, ctx.secrets)
    )
    described = [(x.scope, x.name, x.label, x.limit, x.unit, x.source) for x in snapshot.limits]
    assert described == [
        ("connection", "work", "5h", 200.0, "requests", "user"),
        ("connection", "work", "weekly", 5_000_000.0, "tokens", "user"),
        ("key", "laptop", "month", 50.0, "usd", "budget"),
        ("tier", "api-key", "day", 5.5, "usd", "budget"),
    ]
    assert snapshot.limits[1].window == Window("weekly", 17, 2, 1, "America/New_York")
    assert snapshot.limits[2].window == Window("monthly", timezone="Europe/Paris")
    assert snapshot.tiers == {"openai": "api-key"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[[quotas]]\nconnection = "nope"\nwindow = "5h"\nlimit = 1\nunit = "requests"\n',
            "quotas[0].connection: no connection named 'nope'",
        ),
        (
            '[[budgets]]\nscope = "provider"\nname = "acme"\nperiod = "day"\nlimit_usd = 1\n',
            "budgets[0].name: no provider named 'acme'",
        ),
        (
            '[[budgets]]\nscope = "key"\nname = "ghost"\nperiod = "day"\nlimit_usd = 1\n',
            "budgets[0].name: no key named 'ghost' (known: laptop)",
        ),
        (
            '[[quotas]]\nconnection = "work"\nwindow = "5h"\nlimit = 1\nunit = "requests"\n'
            '[[quotas]]\nconnection = "work"\nwindow = "5h"\nlimit = 2\nunit = "tokens"\n',
            "quotas[1]: a second 5h window for 'work'",
        ),
    ],
)
def test_import_refuses_what_does_not_exist(data_dir: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        imported(data_dir, BASE + extra)
    assert with_context(data_dir, lambda ctx: ctx.store.state().connections) == ()  # atomic


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('window = "hourly"\nlimit = 1\nunit = "requests"', "quotas[0].window"),
        ('window = "5h"\nlimit = 0\nunit = "requests"', "quotas[0].limit"),
        ('window = "5h"\nlimit = 1\nunit = "euros"', "quotas[0].unit"),
        ('window = "daily"\nlimit = 1\nunit = "usd"\ntimezone = "Mars/Base"', "unknown time zone"),
    ],
)
def test_file_format_names_the_bad_field(extra: str, message: str) -> None:
    with pytest.raises(ConfigFileError, match=re.escape(message)):
        parse_config_text(f'[[quotas]]\nconnection = "work"\n{extra}\n', fmt="toml")


def test_commands_set_replace_and_remove(data_dir: Path) -> None:
    imported(data_dir, BASE)

    def run(ctx: commands.Context) -> None:
        commands.set_quota(ctx, QuotaEntry(connection="work", window="daily", limit=10, unit="usd"))
        commands.set_quota(ctx, QuotaEntry(connection="work", window="daily", limit=20, unit="usd"))
        commands.set_budget(
            ctx, BudgetEntry(scope="connection", name="work", period="week", limit_usd=3)
        )

    with_context(data_dir, run)
    state = with_context(data_dir, lambda ctx: ctx.store.state())
    assert state.quotas == (QuotaRow("work", "daily", 20.0, "usd"),)
    assert state.budgets == (BudgetRow("connection", "work", "week", 3.0),)
    assert with_context(data_dir, lambda ctx: commands.remove_budget(ctx, "connection", "work"))
    with pytest.raises(ConfigError, match="no budget for connection 'work'"):
        with_context(data_dir, lambda ctx: commands.remove_budget(ctx, "connection", "work"))
    with_context(data_dir, lambda ctx: commands.remove_connection(ctx, "work"))
    assert with_context(data_dir, lambda ctx: ctx.store.state().quotas) == ()  # went with it
    with pytest.raises(ConfigError, match="no connection named 'work'"):
        with_context(
            data_dir,
            lambda ctx: commands.set_quota(
                ctx, QuotaEntry(connection="work", window="5h", limit=1, unit="requests")
            ),
        )


def test_catalog_windows_apply_unless_the_user_set_that_kind(data_dir: Path) -> None:
    shipped = default_catalog()
    openai = shipped.get("openai")
    assert openai is not None
    plan = (
        QuotaWindowInfo(window="5h", limit=50, unit="requests", source="https://example.test/p"),
        QuotaWindowInfo(
            window="weekly", limit=900, unit="requests", reset_weekday="fri", source="x"
        ),
    )
    with_plan = openai.model_copy(update={"quota_windows": plan})
    catalog = Catalog(
        [with_plan if p.id == "openai" else p for p in shipped.providers], shipped.prices
    )
    imported(data_dir, BASE + QUOTAS)
    snapshot = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), catalog, ctx.secrets)
    )
    quotas = [(x.label, x.limit, x.source) for x in snapshot.limits if not x.budget]
    assert quotas == [("5h", 200.0, "user"), ("weekly", 5_000_000.0, "user")]
    with_context(data_dir, lambda ctx: commands.remove_quota(ctx, "work", "weekly"))
    snapshot = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), catalog, ctx.secrets)
    )
    weekly = [x for x in snapshot.limits if x.label == "weekly"]
    assert [(x.limit, x.source, x.window.reset_weekday) for x in weekly] == [(900.0, "catalog", 4)]


def test_budget_timezone_setting_is_checked() -> None:
    assert coerce_setting("budget_timezone", "Asia/Tokyo") == "Asia/Tokyo"
    assert coerce_setting("budget_timezone", "local") == "local"
    with pytest.raises(SettingError, match=r"settings\.budget_timezone: unknown time zone"):
        coerce_setting("budget_timezone", "Nowhere/City")


def test_provider_info_rejects_a_bad_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        QuotaWindowInfo(window="daily", limit=1, unit="usd", timezone="X/Y", source="s")
    assert ProviderInfo  # the schema type the catalog validates entries with
