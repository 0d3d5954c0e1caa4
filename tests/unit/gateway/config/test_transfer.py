"""config import / export: validation names fields, imports are atomic, exports round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.commands import ConfigError
from gateway.config.file_format import ConfigFileError, parse_config_text
from gateway.config.repository import ConfigState
from gateway.config.transfer import ImportReport, export_config, import_config
from gateway.security import secrets
from gateway.security.api_keys import hash_key
from tests.support.gateway import with_context
from tests.support.memkeyring import MemoryKeyring

GOOD = """
[settings]
require_api_key = true
max_body_mb = 16

[[api_keys]]
name = "laptop"
key = "sk-sb-0123456789abcdef0123456789abcdef"

[[connections]]
name = "work-openai"
provider = "openai"
api_key = "sk-test"
base_url = "http://127.0.0.1:9000/v1"
priority = 1

[[connections]]
name = "lab"
provider = "custom"
dialect = "anthropic"
alias = "lab"
base_url = "http://127.0.0.1:9001"
api_key = "lab-key"
models = ["claude-lab-1"]

[[combos]]
name = "coding"
strategy = "priority"
targets = ["openai/gpt-4o-mini", "lab/claude-lab-1"]
"""


def run_import(data_dir: Path, text: str) -> ImportReport:
    config = parse_config_text(text, fmt="toml")
    return with_context(data_dir, lambda ctx: import_config(ctx, config))


def state(data_dir: Path) -> ConfigState:
    return with_context(data_dir, lambda ctx: ctx.store.state())


def test_import_stores_everything_and_secrets_only_in_the_keyring(data_dir: Path) -> None:
    report = run_import(data_dir, GOOD)
    assert (report.connections, report.combos, report.api_keys, report.settings) == (2, 1, 1, 2)
    loaded = state(data_dir)
    assert [c.name for c in loaded.connections] == ["work-openai", "lab"]
    lab = loaded.connections[1]
    assert (lab.provider, lab.dialect, lab.alias, lab.models) == (
        "custom",
        "anthropic",
        "lab",
        ("claude-lab-1",),
    )
    assert loaded.settings == {"require_api_key": True, "max_body_mb": 16}
    assert loaded.api_keys[0].key_hash == hash_key("sk-sb-0123456789abcdef0123456789abcdef")
    assert sorted(MemoryKeyring.store.values()) == ["lab-key", "sk-test"]
    for row in loaded.connections:  # each secret is filed under its own connection's id
        assert (row.secret_ref or "").startswith(f"keyring:connection/{row.id}/api_key-")
    database = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.is_file())
    for secret in (b"sk-test", b"lab-key", b"sk-sb-0123456789abcdef0123456789abcdef"):
        assert secret not in database


def test_invalid_file_changes_nothing(data_dir: Path) -> None:
    broken = GOOD.replace('provider = "custom"', 'provider = "custom"\nbogus = 1')
    with pytest.raises(ConfigFileError) as raised:
        parse_config_text(broken, fmt="toml")
    assert "connections[1] ('lab').bogus: Extra inputs are not permitted" in str(raised.value)

    unknown = GOOD.replace('provider = "openai"', 'provider = "openaj"')
    with pytest.raises(ConfigError) as refused:
        run_import(data_dir, unknown)
    assert "connections[0] ('work-openai').provider: unknown provider 'openaj'" in str(
        refused.value
    )
    loaded = state(data_dir)
    assert loaded.connections == () and loaded.combos == () and loaded.api_keys == ()
    assert loaded.settings == {}
    assert MemoryKeyring.store == {}


def test_every_problem_is_reported_at_once(data_dir: Path) -> None:
    text = """
[settings]
require_api_key = false
host = "0.0.0.0"
port = 70000

[[connections]]
name = "a"
provider = "custom"
dialect = "openai"

[[connections]]
name = "a"
provider = "anthropic"

[[combos]]
name = "loop"
targets = ["loop", "zz/model"]
"""
    with pytest.raises((ConfigError, ConfigFileError)) as raised:
        run_import(data_dir, text)
    message = str(raised.value)
    for expected in (
        "settings.port: must be at most 65535",
        "connections: duplicate entry 'a'",
        "connections[0] ('a').alias: required for a custom provider",
        "connections[0] ('a').base_url: required for a custom provider",
        "connections[1] ('a').api_key: Anthropic needs an API key",
        "'zz/model': no provider or custom connection has the prefix 'zz'",
        "combos may not contain themselves (loop → loop)",
    ):
        assert expected in message, message
    assert "require_api_key" in message  # 0.0.0.0 without keys is refused


def test_wrong_types_name_the_field() -> None:
    with pytest.raises(ConfigFileError) as raised:
        parse_config_text(
            '[[connections]]\nname = "x"\nprovider = "openai"\npriority = "high"', fmt="toml"
        )
    assert "connections[0] ('x').priority:" in str(raised.value)
    with pytest.raises(ConfigFileError) as raised:
        parse_config_text('{"combos": [{"name": "c", "targets": []}]}', fmt="json")
    assert "combos[0] ('c').targets:" in str(raised.value)
    with pytest.raises(ConfigFileError, match="not valid TOML"):
        parse_config_text("[settings\n", fmt="toml")


def test_secret_store_failure_rolls_back(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def flaky_put(self: object, name: str, value: str) -> str:
        calls.append(name)
        if len(calls) == 2:
            raise secrets.SecretStoreError("keyring locked")
        MemoryKeyring.store[("Switchboard", name)] = value
        return f"keyring:{name}"

    monkeypatch.setattr(secrets.Secrets, "put", flaky_put)
    with pytest.raises(secrets.SecretStoreError):
        run_import(data_dir, GOOD)
    assert MemoryKeyring.store == {}  # the first secret was removed again
    assert state(data_dir).connections == ()


def test_export_round_trips(data_dir: Path, tmp_path: Path) -> None:
    run_import(data_dir, GOOD)
    exported = with_context(data_dir, lambda ctx: export_config(ctx))
    assert exported["api_keys"] == [{"name": "laptop"}]
    assert all("api_key" not in c for c in exported["connections"])
    with_secrets = with_context(data_dir, lambda ctx: export_config(ctx, with_secrets=True))
    assert [c["api_key"] for c in with_secrets["connections"]] == ["sk-test", "lab-key"]

    import tomli_w

    other = tmp_path / "other"
    other.mkdir()
    run_import(other, tomli_w.dumps(with_secrets))
    again = with_context(other, lambda ctx: export_config(ctx, with_secrets=True))
    assert again["connections"] == with_secrets["connections"]
    assert again["combos"] == with_secrets["combos"]
    assert again["settings"] == with_secrets["settings"]


def test_reimport_replaces_by_name_and_drops_the_old_secret(data_dir: Path) -> None:
    run_import(data_dir, GOOD)
    first = state(data_dir).connections[0]
    run_import(data_dir, GOOD.replace('api_key = "sk-test"', 'api_key = "sk-new"'))
    second = state(data_dir).connections[0]
    assert second.id == first.id
    assert sorted(MemoryKeyring.store.values()) == ["lab-key", "sk-new"]
    assert len(state(data_dir).api_keys) == 1


def test_generated_keys_are_reported_once(data_dir: Path) -> None:
    report = run_import(data_dir, '[[api_keys]]\nname = "ci"\n')
    ((name, plaintext),) = report.generated_keys
    assert name == "ci" and plaintext.startswith("sk-sb-") and len(plaintext) == 38
    again = run_import(data_dir, '[[api_keys]]\nname = "ci"\n')
    assert again.generated_keys == []  # existing key kept


def test_a_key_registered_under_another_name_is_refused(data_dir: Path) -> None:
    run_import(data_dir, GOOD)
    text = '[[api_keys]]\nname = "other"\nkey = "sk-sb-0123456789abcdef0123456789abcdef"\n'
    with pytest.raises(ConfigError, match="already registered as 'laptop'"):
        run_import(data_dir, text)


def test_reimporting_an_export_without_secrets_keeps_the_keys(data_dir: Path) -> None:
    import tomli_w

    run_import(data_dir, GOOD)
    exported = with_context(data_dir, lambda ctx: export_config(ctx))
    run_import(data_dir, tomli_w.dumps(exported))
    assert sorted(MemoryKeyring.store.values()) == ["lab-key", "sk-test"]
    assert all(c.secret_ref for c in state(data_dir).connections)


def test_combo_weights_round_trip_and_must_match_targets(data_dir: Path) -> None:
    text = GOOD.replace('strategy = "priority"', 'strategy = "weighted"\nweights = [3, 1]')
    run_import(data_dir, text)
    exported = with_context(data_dir, lambda ctx: export_config(ctx))
    assert exported["combos"][0]["weights"] == [3.0, 1.0]
    with pytest.raises(ConfigFileError, match=r"combos\[0\] \('coding'\): .*one weight per target"):
        parse_config_text(GOOD.replace('strategy = "priority"', "weights = [1]"), fmt="toml")


ALIASES = 'model_aliases = { fast = "openai/gpt-4o-mini", team = "coding" }\n'
CONTROLS = """
[providers.groq]
enabled = false
[providers.openai]
hidden = true

[[api_keys]]
name = "intern"
key = "sk-sb-fedcba9876543210fedcba9876543210"
allowed_models = ["openai/*", "fast"]
rpm = 20
requests_per_day = 500

[[connections]]
name = "paced"
provider = "openai"
api_key = "sk-paced"
rpm = 60
min_gap_ms = 250
max_concurrent = 4

[[combos]]
name = "careful"
targets = ["fast", "openai/*"]
system_prompt = "Answer briefly."
cache = true
"""


def test_routing_controls_import_export_and_reach_the_snapshot(
    data_dir: Path, tmp_path: Path
) -> None:
    import tomli_w

    from gateway.config.snapshot import KeyPolicy, build_snapshot
    from gateway.providers.catalog import default_catalog

    report = run_import(data_dir, ALIASES + GOOD + CONTROLS)
    assert (report.model_aliases, report.providers) == (2, 2)
    exported = with_context(data_dir, lambda ctx: export_config(ctx))
    assert exported["model_aliases"] == {"fast": "openai/gpt-4o-mini", "team": "coding"}
    assert exported["providers"] == {
        "groq": {"enabled": False, "hidden": False},
        "openai": {"enabled": True, "hidden": True},
    }
    intern = next(k for k in exported["api_keys"] if k["name"] == "intern")
    assert intern == {
        "name": "intern",
        "allowed_models": ["openai/*", "fast"],
        "rpm": 20,
        "requests_per_day": 500,
    }
    paced = next(c for c in exported["connections"] if c["name"] == "paced")
    assert (paced["rpm"], paced["min_gap_ms"], paced["max_concurrent"]) == (60, 250, 4)
    careful = next(c for c in exported["combos"] if c["name"] == "careful")
    assert (careful["system_prompt"], careful["cache"]) == ("Answer briefly.", True)

    other = tmp_path / "other"
    other.mkdir()
    with_secrets = with_context(data_dir, lambda ctx: export_config(ctx, with_secrets=True))
    run_import(other, tomli_w.dumps(with_secrets))  # "intern" gets a new key, same limits
    assert with_context(other, lambda ctx: export_config(ctx)) == exported

    snapshot = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), default_catalog(), ctx.secrets)
    )
    assert dict(snapshot.model_aliases) == {"fast": "openai/gpt-4o-mini", "team": "coding"}
    assert snapshot.hidden_providers == frozenset({"openai"})
    assert snapshot.key_policies["intern"] == KeyPolicy(("openai/*", "fast"), 20, 500)
    (upstream,) = [u for u in snapshot.upstreams if u.connection == "paced"]
    assert (upstream.rpm, upstream.min_gap_ms, upstream.max_concurrent) == (60, 250, 4)
    assert upstream.context_windows["gpt-6.2-sol"] > 0
    assert snapshot.combos["careful"].system_prompt == "Answer briefly."


def test_disabling_a_provider_drops_its_connections(data_dir: Path) -> None:
    from gateway.config.commands import set_provider
    from gateway.config.snapshot import build_snapshot
    from gateway.providers.catalog import default_catalog

    run_import(data_dir, GOOD)

    def upstream_names() -> list[str]:
        snap = with_context(
            data_dir, lambda ctx: build_snapshot(ctx.store.state(), default_catalog(), ctx.secrets)
        )
        return [u.connection for u in snap.upstreams]

    assert upstream_names() == ["work-openai", "lab"]
    with_context(data_dir, lambda ctx: set_provider(ctx, "openai", enabled=False))
    assert upstream_names() == ["lab"]
    with_context(data_dir, lambda ctx: set_provider(ctx, "openai", enabled=True))
    assert upstream_names() == ["work-openai", "lab"]
    assert state(data_dir).providers == ()  # back to the defaults: no row left
    with pytest.raises(ConfigError, match="unknown provider"):
        with_context(data_dir, lambda ctx: set_provider(ctx, "nope", hidden=True))


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('model_aliases = { coding = "openai/gpt-4o-mini" }', "a combo has that name"),
        ('model_aliases = { x = "ghost/m" }', "no provider or custom connection has the prefix"),
        ('model_aliases = { x = "openai/*" }', "must name one model"),
        ('model_aliases = { x = "nocombo" }', "neither alias/model nor a combo"),
        ("[providers.nope]\nhidden = true", r"providers\.nope: unknown provider"),
    ],
)
def test_bad_controls_are_refused(data_dir: Path, extra: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        run_import(data_dir, extra + "\n" + GOOD)


def test_each_custom_alias_is_a_provider_of_its_own(data_dir: Path) -> None:
    """Two unrelated local servers of one dialect must not share a provider breaker."""
    from gateway.config.snapshot import build_snapshot
    from gateway.providers.catalog import default_catalog

    run_import(
        data_dir,
        GOOD + '[[connections]]\nname = "lab2"\nprovider = "custom"\ndialect = "anthropic"\n'
        'alias = "lab2"\nbase_url = "http://127.0.0.1:9002"\n',
    )
    snap = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), default_catalog(), ctx.secrets)
    )
    providers = {u.connection: u.provider for u in snap.upstreams}
    assert providers == {
        "work-openai": "openai",
        "lab": "custom-anthropic:lab",
        "lab2": "custom-anthropic:lab2",
    }


PRICES = """
[prices."deepseek/deepseek-flash"]
input = 0.25
output = 1
[prices."lab/*"]
input = 3
output = 15
cache_read = 0.3
cache_write = 3.75
"""


def test_prices_import_export_and_reach_the_snapshot(data_dir: Path, tmp_path: Path) -> None:
    import tomli_w

    from gateway.config.snapshot import build_snapshot
    from gateway.providers.catalog import default_catalog
    from gateway.providers.pricing import ModelPrice, Quote

    report = run_import(data_dir, PRICES + GOOD)
    assert report.prices == 2
    exported = with_context(data_dir, lambda ctx: export_config(ctx))
    assert exported["prices"] == {  # the catalog id became the prefix requests are priced under
        "ds/deepseek-flash": {"input": 0.25, "output": 1.0},
        "lab/*": {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75},
    }
    other = tmp_path / "other"
    other.mkdir()
    with_secrets = with_context(data_dir, lambda ctx: export_config(ctx, with_secrets=True))
    run_import(other, tomli_w.dumps(with_secrets))
    assert with_context(other, lambda ctx: export_config(ctx))["prices"] == exported["prices"]

    snapshot = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), default_catalog(), ctx.secrets)
    )
    lab = ModelPrice(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    assert snapshot.prices.quote("lab", "custom-anthropic", "claude-lab-1") == Quote(
        lab, "override"
    )
    assert snapshot.costs["lab/claude-lab-1"] == (3 * 3.0 + 15.0) / 4  # routing sees it too
    assert snapshot.prices.quote("ds", "deepseek", "deepseek-flash") == Quote(
        ModelPrice(input=0.25, output=1.0), "override"
    )
    assert snapshot.prices.quote("openai", "openai", "gpt-6.2-sol").source == "catalog"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('[prices."ghost/m"]\ninput = 1\noutput = 1', r"prices\.'ghost/m': unknown prefix"),
        (
            '[prices."ds/x"]\ninput = 1\noutput = 1\n[prices."deepseek/x"]\ninput = 2\noutput = 2',
            r"the same model as another entry \('ds/x'\)",
        ),
        (
            '[prices."custom-openai/x"]\ninput = 1\noutput = 1',
            r"unknown prefix 'custom-openai'",
        ),
    ],
)
def test_bad_prices_are_refused(data_dir: Path, extra: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        run_import(data_dir, extra + "\n" + GOOD)
    assert state(data_dir).price_overrides == ()


def test_price_fields_are_checked_by_the_file_format() -> None:
    with pytest.raises(ConfigFileError, match=r"prices\.openai/x\.input: .*greater than or equal"):
        parse_config_text('[prices."openai/x"]\ninput = -1\noutput = 1', fmt="toml")
    with pytest.raises(ConfigFileError, match=r"prices\.nomodel"):
        parse_config_text("[prices.nomodel]\ninput = 1\noutput = 1", fmt="toml")
    with pytest.raises(ConfigFileError, match=r"prices\.openai/x\.output: Field required"):
        parse_config_text('[prices."openai/x"]\ninput = 1', fmt="toml")
