"""Connections, keys, combos and settings changed one at a time (what the CLI calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import commands
from gateway.config.commands import ConfigError
from gateway.config.file_format import ComboEntry, ConnectionEntry
from gateway.config.repository import config_revision
from tests.support.gateway import with_context
from tests.support.memkeyring import MemoryKeyring


def openai_entry(name: str = "main", key: str = "sk-one", priority: int = 100) -> ConnectionEntry:
    return ConnectionEntry(name=name, provider="openai", api_key=key, priority=priority)


def test_add_replace_and_remove_connection(data_dir: Path) -> None:
    row = with_context(data_dir, lambda ctx: commands.add_connection(ctx, openai_entry()))
    assert (row.secret_ref or "").startswith(f"keyring:connection/{row.id}/api_key-")
    assert MemoryKeyring.store == {("Switchboard", row.secret_ref.split(":", 1)[1]): "sk-one"}
    with pytest.raises(ConfigError, match="already exists"):
        with_context(data_dir, lambda ctx: commands.add_connection(ctx, openai_entry()))
    replaced = with_context(
        data_dir, lambda ctx: commands.add_connection(ctx, openai_entry(key="sk-two"), replace=True)
    )
    assert replaced.id == row.id
    assert list(MemoryKeyring.store.values()) == ["sk-two"]
    with_context(data_dir, lambda ctx: commands.remove_connection(ctx, "main"))
    assert MemoryKeyring.store == {}
    with pytest.raises(ConfigError, match="no connection named 'main'"):
        with_context(data_dir, lambda ctx: commands.remove_connection(ctx, "main"))


def test_every_change_bumps_the_revision(data_dir: Path) -> None:
    def revision() -> int:
        return with_context(data_dir, lambda ctx: ctx.store.read(config_revision))

    assert revision() == 0
    with_context(data_dir, lambda ctx: commands.add_connection(ctx, openai_entry()))
    with_context(data_dir, lambda ctx: commands.create_key(ctx, "k"))
    with_context(data_dir, lambda ctx: commands.set_settings(ctx, {"port": 20200}))
    assert revision() == 3


def test_custom_alias_rules(data_dir: Path) -> None:
    def custom(name: str, alias: str, dialect: str) -> ConnectionEntry:
        return ConnectionEntry(
            name=name,
            provider="custom",
            dialect=dialect,
            alias=alias,  # type: ignore[arg-type]
            base_url="http://127.0.0.1:1/v1",
        )

    with pytest.raises(ConfigError, match="already the prefix of OpenAI"):
        with_context(
            data_dir, lambda ctx: commands.add_connection(ctx, custom("x", "openai", "openai"))
        )
    with_context(data_dir, lambda ctx: commands.add_connection(ctx, custom("a", "lab", "openai")))
    with_context(data_dir, lambda ctx: commands.add_connection(ctx, custom("b", "lab", "openai")))
    with pytest.raises(ConfigError, match="alias 'lab' is already used by a openai connection"):
        with_context(
            data_dir, lambda ctx: commands.add_connection(ctx, custom("c", "lab", "anthropic"))
        )


def test_catalog_providers_refuse_dialect_and_alias(data_dir: Path) -> None:
    entry = ConnectionEntry(name="x", provider="openai", api_key="k", alias="mine")
    with pytest.raises(ConfigError, match="alias: only custom providers set this"):
        with_context(data_dir, lambda ctx: commands.add_connection(ctx, entry))


def test_local_providers_need_no_key(data_dir: Path) -> None:
    entry = ConnectionEntry(name="local", provider="ollama")
    row = with_context(data_dir, lambda ctx: commands.add_connection(ctx, entry))
    assert row.secret_ref is None


def test_keys(data_dir: Path) -> None:
    row, plaintext = with_context(data_dir, lambda ctx: commands.create_key(ctx, "laptop"))
    assert plaintext.startswith("sk-sb-") and row.prefix == plaintext[:10] + "…"
    with pytest.raises(ConfigError, match="active key named 'laptop' already exists"):
        with_context(data_dir, lambda ctx: commands.create_key(ctx, "laptop"))
    with_context(data_dir, lambda ctx: commands.revoke_key(ctx, "laptop"))
    with pytest.raises(ConfigError, match="no active key named 'laptop'"):
        with_context(data_dir, lambda ctx: commands.revoke_key(ctx, "laptop"))
    # A revoked name can be reused; the old key stays revoked.
    with_context(data_dir, lambda ctx: commands.create_key(ctx, "laptop"))
    keys = with_context(data_dir, lambda ctx: ctx.store.state().api_keys)
    assert [k.name for k in keys] == ["laptop"] and keys[0].key_hash != row.key_hash


def test_combo_nesting_limits(data_dir: Path) -> None:
    def add(name: str, *targets: str, replace: bool = False) -> None:
        with_context(
            data_dir,
            lambda ctx: commands.add_combo(
                ctx, ComboEntry(name=name, targets=list(targets)), replace=replace
            ),
        )

    add("a", "openai/gpt-4o-mini")
    add("b", "a")
    add("c", "b")
    with pytest.raises(ConfigError, match="nest 4 deep; at most 3"):
        add("d", "c")
    with pytest.raises(ConfigError, match=r"contain themselves \(a → c → b → a\)"):
        add("a", "c", replace=True)
    with pytest.raises(ConfigError, match="'nope' is neither a combo nor a model alias"):
        add("e", "nope")
    with pytest.raises(ConfigError, match="is a target of b"):
        with_context(data_dir, lambda ctx: commands.remove_combo(ctx, "a"))


def test_settings_are_validated(data_dir: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        with_context(
            data_dir,
            lambda ctx: commands.set_settings(ctx, {"port": "x", "nope": 1, "max_body_mb": 0}),
        )
    message = str(raised.value)
    assert "settings.port: expected an integer, got 'x'" in message
    assert "settings.nope: unknown setting" in message
    assert "settings.max_body_mb: must be at least 1, got 0" in message
    with pytest.raises(ConfigError, match="requires client API keys"):
        with_context(
            data_dir,
            lambda ctx: commands.set_settings(
                ctx, {"host": "192.168.1.5", "require_api_key": False}
            ),
        )
    with_context(
        data_dir, lambda ctx: commands.set_settings(ctx, {"host": "::1", "require_api_key": False})
    )
    stored = with_context(data_dir, lambda ctx: ctx.store.state().settings)
    assert stored == {"host": "::1", "require_api_key": False}


def test_failed_replace_keeps_the_old_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_context(data_dir, lambda ctx: commands.add_connection(ctx, openai_entry()))
    from gateway.config.store import ConfigStore

    def broken_write(self: ConfigStore, fn: object) -> object:
        raise OSError("disk full")

    monkeypatch.setattr(ConfigStore, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        with_context(
            data_dir,
            lambda ctx: commands.add_connection(ctx, openai_entry(key="sk-two"), replace=True),
        )
    assert list(MemoryKeyring.store.values()) == ["sk-one"]


def test_replace_without_a_key_keeps_the_stored_one(data_dir: Path) -> None:
    first = with_context(data_dir, lambda ctx: commands.add_connection(ctx, openai_entry()))
    again = ConnectionEntry(name="main", provider="openai", priority=5)
    row = with_context(data_dir, lambda ctx: commands.add_connection(ctx, again, replace=True))
    assert (row.priority, row.secret_ref) == (5, first.secret_ref)
    assert list(MemoryKeyring.store.values()) == ["sk-one"]


def test_key_names_follow_the_file_rule(data_dir: Path) -> None:
    for bad in ("", "bad name!", "-dash", "x" * 65):
        with pytest.raises(ConfigError, match="names are 1 to 64 letters"):
            with_context(data_dir, lambda ctx, bad=bad: commands.create_key(ctx, bad))


@pytest.mark.parametrize(
    ("rpm", "per_day", "patterns", "problem"),
    [
        (0, None, (), "rpm: Input should be greater than or equal to 1"),
        (2_000_000, None, (), "rpm: Input should be less than or equal to 1000000"),
        (None, 200_000_000, (), "requests_per_day: Input should be less than or equal to"),
        (None, None, ("open ai/*",), "allowed_models"),
    ],
)
def test_key_limits_follow_the_import_rules(
    data_dir: Path, rpm: int | None, per_day: int | None, patterns: tuple[str, ...], problem: str
) -> None:
    from gateway.config.commands import create_key, set_key_limits

    with_context(data_dir, lambda ctx: create_key(ctx, "k"))
    with pytest.raises(ConfigError, match=problem):
        with_context(
            data_dir,
            lambda ctx: set_key_limits(
                ctx, "k", allowed_models=patterns, rpm=rpm, requests_per_day=per_day
            ),
        )


def test_set_and_remove_prices(data_dir: Path) -> None:
    from gateway.config.file_format import PriceEntry
    from gateway.config.repository import PriceOverrideRow

    def overrides() -> tuple[PriceOverrideRow, ...]:
        return with_context(data_dir, lambda ctx: ctx.store.state().price_overrides)

    price = PriceEntry(input=1.5, output=6, cache_read=0.15)
    key = with_context(data_dir, lambda ctx: commands.set_price(ctx, "DS/deepseek-flash", price))
    assert key == "ds/deepseek-flash"
    assert overrides() == (PriceOverrideRow("ds/deepseek-flash", 1.5, 6.0, 0.15, None),)
    cheaper = PriceEntry(input=1, output=2)
    with_context(data_dir, lambda ctx: commands.set_price(ctx, "deepseek/deepseek-flash", cheaper))
    assert overrides() == (PriceOverrideRow("ds/deepseek-flash", 1.0, 2.0, None, None),)
    with pytest.raises(ConfigError, match="unknown prefix 'box'"):
        with_context(data_dir, lambda ctx: commands.set_price(ctx, "box/m", cheaper))
    with pytest.raises(ConfigError, match="name a model as alias/model"):
        with_context(data_dir, lambda ctx: commands.set_price(ctx, "gpt-x", cheaper))
    removed = with_context(
        data_dir, lambda ctx: commands.remove_price(ctx, "deepseek/deepseek-flash")
    )
    assert removed == "ds/deepseek-flash" and overrides() == ()
    with pytest.raises(ConfigError, match="no price of yours for 'ds/deepseek-flash'"):
        with_context(data_dir, lambda ctx: commands.remove_price(ctx, "ds/deepseek-flash"))
