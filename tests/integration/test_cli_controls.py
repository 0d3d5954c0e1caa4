"""The routing controls from the command line: model aliases, provider switches, connection
and key limits, combo prompts and cache.

Each test runs the real ``switchboard`` parser in-process against its own data folder (real
SQLite, the in-memory keyring from conftest) and checks the exact output, then the stored
state as ``config export`` and the gateway's snapshot see it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.config.snapshot import KeyPolicy, Snapshot, build_snapshot
from gateway.providers.catalog import default_catalog
from tests.support.gateway import with_context
from tests.support.memkeyring import MemoryKeyring

pytestmark = pytest.mark.timeout(60)

UPSTREAM_KEY = "sk-proj-Controls-Secret-7f3a90"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Cli:
    """``main([...args, --data-dir D])`` with its output; argparse's exits become codes."""

    def __init__(self, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
        self.capsys = capsys
        self.data_dir = data_dir

    def __call__(self, *args: str) -> Result:
        self.capsys.readouterr()
        try:
            code = main([*args, "--data-dir", str(self.data_dir)])
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.code == 0, result
        if args[:2] not in {("key", "create"), ("key", "add")}:
            assert result.err == "", result
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").out)

    def export(self) -> dict[str, Any]:
        exported: dict[str, Any] = json.loads(self.ok("config", "export", "--format", "json").out)
        return exported

    def refused(self, *args: str, code: int = 1) -> str:
        """Runs a command that must fail and change nothing; returns its stderr."""
        before = self.export()
        result = self(*args)
        assert (result.code, result.out) == (code, ""), result
        assert self.export() == before
        return result.err

    def snapshot(self) -> Snapshot:
        return with_context(
            self.data_dir, lambda ctx: build_snapshot(ctx.store.state(), ctx.catalog, ctx.secrets)
        )


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], data_dir: Path) -> Cli:
    return Cli(capsys, data_dir)


def table(out: str) -> list[list[str]]:
    """A printed table as rows of cells (cells here never contain two spaces)."""
    return [
        [cell.strip() for cell in line.split("  ") if cell.strip()] for line in out.splitlines()
    ]


# --------------------------------------------------------------------------- the commands


def test_every_control_has_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    for path, usage in [
        (("alias", "add"), "usage: switchboard alias add [-h] [--data-dir DIR] [--replace]"),
        (("alias", "list"), "usage: switchboard alias list [-h] [--data-dir DIR] [--json]"),
        (("alias", "remove"), "usage: switchboard alias remove [-h] [--data-dir DIR] name"),
        (("provider", "enable"), "usage: switchboard provider enable [-h] [--data-dir DIR] id"),
        (("provider", "disable"), "usage: switchboard provider disable [-h] [--data-dir DIR] id"),
        (("provider", "hide"), "usage: switchboard provider hide [-h] [--data-dir DIR] id"),
        (("provider", "show"), "usage: switchboard provider show [-h] [--data-dir DIR] id"),
        (("connection", "limits"), "usage: switchboard connection limits [-h] [--data-dir DIR]"),
        (("key", "add"), "usage: switchboard key add [-h] [--data-dir DIR]"),
        (("key", "limits"), "usage: switchboard key limits [-h] [--data-dir DIR]"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main([*path, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(usage), out
    for path, flags in [
        (("connection", "add"), ["--rpm N", "--min-gap-ms N", "--max-concurrent N"]),
        (("connection", "limits"), ["--no-rpm", "--no-min-gap-ms", "--no-max-concurrent"]),
        (("key", "create"), ["--models PATTERN,...", "--rpm N", "--per-day N"]),
        (("key", "limits"), ["--all-models", "--no-rpm", "--no-per-day"]),
        (("combo", "add"), ["--system-prompt TEXT", "--cache, --no-cache"]),
    ]:
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        out = capsys.readouterr().out
        for flag in flags:
            assert flag in out, (path, flag)


# --------------------------------------------------------------------------- alias


def test_alias_add_list_remove(cli: Cli) -> None:
    added = cli.ok("alias", "add", "fast", "openai/gpt-4o-mini")
    assert added.out == "Added model alias 'fast' → openai/gpt-4o-mini.\n"
    cli.ok("combo", "add", "coding", "openai/gpt-4o")
    cli.ok("alias", "add", "best", "coding")

    assert cli.ok("alias", "list").out.splitlines() == [
        "NAME  TARGET",
        "best  coding",
        "fast  openai/gpt-4o-mini",
    ]
    assert cli.json("alias", "list") == [
        {"name": "best", "target": "coding"},
        {"name": "fast", "target": "openai/gpt-4o-mini"},
    ]
    assert cli.export()["model_aliases"] == {"best": "coding", "fast": "openai/gpt-4o-mini"}
    assert dict(cli.snapshot().model_aliases) == {"best": "coding", "fast": "openai/gpt-4o-mini"}

    assert cli.ok("alias", "remove", "fast").out == "Removed model alias 'fast'.\n"
    assert cli.ok("alias", "remove", "best").out == "Removed model alias 'best'.\n"
    assert cli.ok("alias", "list").out == (
        "No model aliases yet. Add one with `switchboard alias add NAME TARGET`.\n"
    )
    assert cli.json("alias", "list") == []
    assert "model_aliases" not in cli.export()


def test_alias_add_refuses_an_existing_name_unless_replace(cli: Cli) -> None:
    cli.ok("alias", "add", "fast", "openai/gpt-4o-mini")
    err = cli.refused("alias", "add", "fast", "anthropic/claude-haiku-5-5")
    assert err == "switchboard: a model alias named 'fast' already exists\n"

    replaced = cli.ok("alias", "add", "fast", "anthropic/claude-haiku-5-5", "--replace")
    assert replaced.out == "Added model alias 'fast' → anthropic/claude-haiku-5-5.\n"
    assert cli.export()["model_aliases"] == {"fast": "anthropic/claude-haiku-5-5"}
    # --replace also adds a new one
    cli.ok("alias", "add", "other", "openai/gpt-4o", "--replace")
    assert cli.json("alias", "list") == [
        {"name": "fast", "target": "anthropic/claude-haiku-5-5"},
        {"name": "other", "target": "openai/gpt-4o"},
    ]


@pytest.mark.parametrize(
    ("name", "target", "error"),
    [
        pytest.param(
            "fast",
            "nope/model-x",
            "alias.fast: 'nope/model-x': no provider or custom connection has the prefix 'nope'",
            id="unknown-prefix",
        ),
        pytest.param(
            "fast", "ghost", "alias.fast: 'ghost' is neither alias/model nor a combo", id="no-combo"
        ),
        pytest.param(
            "fast",
            "openai/gpt 4",
            "alias 'fast': 'openai/gpt 4' is not a model name (no spaces)",
            id="space",
        ),
        pytest.param("fast", "openai/*", "alias.fast: 'openai/*' must name one model", id="star"),
        pytest.param(
            "my/fast",
            "openai/gpt-4o",
            "alias 'my/fast': 1 to 128 letters, digits, '.', '_', ':' or '-', no '/'",
            id="slash-in-name",
        ),
        pytest.param(
            "daily",
            "openai/gpt-4o",
            "alias.daily: a combo has that name; choose another",
            id="combo-name",
        ),
    ],
)
def test_alias_add_checks_name_and_target(cli: Cli, name: str, target: str, error: str) -> None:
    cli.ok("combo", "add", "daily", "openai/gpt-4o-mini")
    assert cli.refused("alias", "add", name, target) == f"switchboard: {error}\n"
    assert cli.json("alias", "list") == []


def test_alias_remove_is_refused_while_a_combo_uses_it(cli: Cli) -> None:
    cli.ok("alias", "add", "fast", "openai/gpt-4o-mini")
    cli.ok("combo", "add", "daily", "fast", "openai/gpt-4o")
    err = cli.refused("alias", "remove", "fast")
    assert err == "switchboard: alias 'fast' is a target of daily; remove it there first\n"
    cli.ok("combo", "remove", "daily")
    cli.ok("alias", "remove", "fast")
    err = cli.refused("alias", "remove", "fast")
    assert err == "switchboard: no model alias named 'fast' (see `switchboard alias list`)\n"


# --------------------------------------------------------------------------- provider


def test_provider_switches(cli: Cli) -> None:
    plain = table(cli.ok("provider", "list").out)
    assert plain[0] == ["ID", "PREFIX", "DIALECT", "TIER", "BASE URL", "MODELS"]

    assert cli.ok("provider", "disable", "groq").out == (
        "Provider 'groq' disabled: none of its connections is used.\n"
    )
    assert cli.ok("provider", "hide", "openrouter").out == (
        "Provider 'openrouter' hidden: left out of the model lists, still routable.\n"
    )
    assert cli.export()["providers"] == {
        "groq": {"enabled": False, "hidden": False},
        "openrouter": {"enabled": True, "hidden": True},
    }
    assert cli.snapshot().hidden_providers == frozenset({"openrouter"})

    rows = table(cli.ok("provider", "list").out)
    assert rows[0] == [*plain[0], "ENABLED", "HIDDEN"]
    by_id = {row[0]: row for row in rows[1:]}
    assert list(by_id) == [p.id for p in default_catalog().providers]
    assert by_id["groq"][-2:] == ["no", "no"]
    assert by_id["openrouter"][-2:] == ["yes", "yes"]
    assert by_id["openai"][-2:] == ["yes", "no"]
    assert by_id["openai"][:-2] == plain[1]

    listed = {p["id"]: (p["enabled"], p["hidden"]) for p in cli.json("provider", "list")}
    assert listed["groq"] == (False, False)
    assert listed["openrouter"] == (True, True)
    assert set(listed.values()) == {(False, False), (True, True), (True, False)}

    assert cli.ok("provider", "enable", "groq").out == (
        "Provider 'groq' enabled: its connections are used.\n"
    )
    assert cli.ok("provider", "show", "openrouter").out == (
        "Provider 'openrouter' shown: listed in the model lists again.\n"
    )
    assert "providers" not in cli.export()  # back to the defaults: nothing stored
    assert table(cli.ok("provider", "list").out) == plain
    assert {(p["enabled"], p["hidden"]) for p in cli.json("provider", "list")} == {(True, False)}


def test_a_disabled_provider_serves_nothing(cli: Cli) -> None:
    cli.ok("connection", "add", "fast", "--provider", "groq", "--api-key", UPSTREAM_KEY)
    assert [u.connection for u in cli.snapshot().upstreams] == ["fast"]
    cli.ok("provider", "disable", "groq")
    assert cli.snapshot().upstreams == ()
    cli.ok("provider", "hide", "groq")  # hiding keeps it disabled
    assert cli.export()["providers"] == {"groq": {"enabled": False, "hidden": True}}
    cli.ok("provider", "enable", "groq")
    assert cli.export()["providers"] == {"groq": {"enabled": True, "hidden": True}}
    assert [u.connection for u in cli.snapshot().upstreams] == ["fast"]


@pytest.mark.parametrize("action", ["enable", "disable", "hide", "show"])
@pytest.mark.parametrize("provider", ["nope", "custom"])
def test_provider_switch_of_an_unknown_provider_is_refused(
    cli: Cli, action: str, provider: str
) -> None:
    err = cli.refused("provider", action, provider)
    assert err == (
        f"switchboard: provider.{provider}: unknown provider (see `switchboard provider list`)\n"
    )


# --------------------------------------------------------------------------- connection


def test_connection_add_with_limits(cli: Cli) -> None:
    result = cli.ok(
        "connection",
        "add",
        "work",
        "--provider",
        "openai",
        "--api-key",
        UPSTREAM_KEY,
        "--rpm",
        "60",
        "--min-gap-ms",
        "250",
        "--max-concurrent",
        "4",
    )
    assert result.out.startswith("Added connection 'work' (")
    cli.ok("connection", "add", "local", "--provider", "ollama", "--max-concurrent", "1")

    [local, work] = cli.json("connection", "list")  # by priority, then name
    assert (work["rpm"], work["min_gap_ms"], work["max_concurrent"]) == (60, 250, 4)
    assert local["max_concurrent"] == 1
    assert "rpm" not in local and "min_gap_ms" not in local
    assert table(cli.ok("connection", "list").out) == [
        [
            "NAME",
            "PROVIDER",
            "PREFIX",
            "BASE URL",
            "PRIORITY",
            "ENABLED",
            "KEY",
            "RPM",
            "MIN GAP MS",
            "MAX CONCURRENT",
        ],
        ["local", "ollama", "-", "-", "100", "yes", "-", "-", "-", "1"],
        ["work", "openai", "-", "-", "100", "yes", "stored", "60", "250", "4"],
    ]
    exported = cli.export()["connections"]
    assert exported[1] == {
        "name": "work",
        "provider": "openai",
        "priority": 100,
        "enabled": True,
        "rpm": 60,
        "min_gap_ms": 250,
        "max_concurrent": 4,
    }
    assert exported[0]["max_concurrent"] == 1 and "rpm" not in exported[0]
    limits = {
        u.connection: (u.rpm, u.min_gap_ms, u.max_concurrent) for u in cli.snapshot().upstreams
    }
    assert limits == {"work": (60, 250, 4), "local": (None, None, 1)}


def test_connection_list_without_limits_has_no_limit_columns(cli: Cli) -> None:
    cli.ok("connection", "add", "local", "--provider", "ollama")
    assert table(cli.ok("connection", "list").out)[0] == [
        "NAME",
        "PROVIDER",
        "PREFIX",
        "BASE URL",
        "PRIORITY",
        "ENABLED",
        "KEY",
    ]
    [listed] = cli.json("connection", "list")
    assert not {"rpm", "min_gap_ms", "max_concurrent"} & set(listed)


def test_connection_limits_changes_only_what_is_given_and_keeps_the_key(cli: Cli) -> None:
    cli.ok(
        "connection",
        "add",
        "work",
        "--provider",
        "openai",
        "--api-key",
        UPSTREAM_KEY,
        "--priority",
        "7",
        "--model",
        "gpt-4o-mini",
        "--rpm",
        "60",
        "--max-concurrent",
        "4",
    )
    stored = dict(MemoryKeyring.store)
    [before] = cli.json("connection", "list")

    changed = cli.ok("connection", "limits", "work", "--rpm", "30", "--min-gap-ms", "100")
    assert changed.out == "Connection 'work': rpm 30; min gap 100 ms; max concurrent 4.\n"
    cleared = cli.ok("connection", "limits", "work", "--no-rpm", "--no-max-concurrent")
    assert cleared.out == "Connection 'work': min gap 100 ms.\n"
    shown = cli.ok("connection", "limits", "work")
    assert shown.out == "Connection 'work': min gap 100 ms.\n"

    assert MemoryKeyring.store == stored  # the same stored key, not re-entered or copied
    [after] = cli.json("connection", "list")
    assert after == {
        **{k: v for k, v in before.items() if k not in {"rpm", "max_concurrent"}},
        "min_gap_ms": 100,
    }
    exported = cli("config", "export", "--with-secrets", "--format", "json")
    with_secrets = json.loads(exported.out)
    assert with_secrets["connections"][0]["api_key"] == UPSTREAM_KEY
    [upstream] = cli.snapshot().upstreams
    assert upstream.headers["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert (upstream.rpm, upstream.min_gap_ms, upstream.max_concurrent) == (None, 100, None)

    everything = cli.ok("connection", "limits", "work", "--no-min-gap-ms")
    assert everything.out == "Connection 'work': no limits.\n"


def test_connection_limits_of_a_custom_connection_without_a_key(cli: Cli) -> None:
    cli.ok(
        "connection",
        "add",
        "lab",
        "--provider",
        "custom",
        "--dialect",
        "anthropic",
        "--alias",
        "lab",
        "--base-url",
        "http://127.0.0.1:9",
    )
    result = cli.ok("connection", "limits", "lab", "--max-concurrent", "2")
    assert result.out == "Connection 'lab': max concurrent 2.\n"
    assert cli.export()["connections"] == [
        {
            "name": "lab",
            "provider": "custom",
            "dialect": "anthropic",
            "alias": "lab",
            "base_url": "http://127.0.0.1:9",
            "priority": 100,
            "enabled": True,
            "max_concurrent": 2,
        }
    ]
    assert MemoryKeyring.store == {}


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        pytest.param(
            ["--rpm", "0"],
            1,
            "switchboard: --rpm: Input should be greater than or equal to 1\n",
            id="rpm-0",
        ),
        pytest.param(
            ["--min-gap-ms", "3600001"],
            1,
            "switchboard: --min-gap-ms: Input should be less than or equal to 3600000\n",
            id="gap-too-long",
        ),
        pytest.param(
            ["--max-concurrent", "-1"],
            1,
            "switchboard: --max-concurrent: Input should be greater than or equal to 1\n",
            id="negative",
        ),
        pytest.param(["--rpm", "ten"], 2, "argument --rpm: invalid int value: 'ten'", id="text"),
        pytest.param(
            ["--rpm", "5", "--no-rpm"],
            2,
            "argument --no-rpm: not allowed with argument --rpm",
            id="set-and-clear",
        ),
    ],
)
def test_connection_limits_refuses_bad_values(
    cli: Cli, args: list[str], code: int, error: str
) -> None:
    cli.ok("connection", "add", "local", "--provider", "ollama", "--rpm", "60")
    err = cli.refused("connection", "limits", "local", *args, code=code)
    if code == 1:
        assert err == error
    else:
        assert err.startswith("usage: switchboard connection limits ")
        assert err.endswith(f"switchboard connection limits: error: {error}\n")


def test_connection_add_refuses_bad_limits(cli: Cli) -> None:
    err = cli.refused("connection", "add", "local", "--provider", "ollama", "--rpm", "0")
    assert err == "switchboard: --rpm: Input should be greater than or equal to 1\n"
    assert cli.json("connection", "list") == []


def test_connection_limits_of_an_unknown_connection(cli: Cli) -> None:
    err = cli.refused("connection", "limits", "ghost", "--rpm", "5")
    assert err == "switchboard: no connection named 'ghost' (see `switchboard connection list`)\n"


# --------------------------------------------------------------------------- key


def test_key_create_with_limits(cli: Cli) -> None:
    created = cli.ok(
        "key", "create", "ci", "--models", "openai/*, coding", "--rpm", "30", "--per-day", "1000"
    )
    assert created.out.startswith("sk-sb-") and created.out.count("\n") == 1
    assert created.err == (
        "Key 'ci' created (models openai/*, coding; rpm 30; 1000 per day). "
        "It is shown only now; Switchboard keeps only its hash.\n"
    )
    added = cli.ok("key", "add", "laptop")
    assert added.err == (
        "Key 'laptop' created. It is shown only now; Switchboard keeps only its hash.\n"
    )

    [ci, laptop] = cli.json("key", "list")
    assert (ci["allowed_models"], ci["rpm"], ci["requests_per_day"]) == (
        ["openai/*", "coding"],
        30,
        1000,
    )
    assert set(laptop) == {"name", "prefix", "created_at"}
    rows = table(cli.ok("key", "list").out)
    assert rows[0] == ["NAME", "KEY", "CREATED", "MODELS", "RPM", "PER DAY"]
    assert [rows[1][0], *rows[1][3:]] == ["ci", "openai/*, coding", "30", "1000"]
    assert [rows[2][0], *rows[2][3:]] == ["laptop", "all", "-", "-"]
    assert cli.export()["api_keys"] == [
        {
            "name": "ci",
            "allowed_models": ["openai/*", "coding"],
            "rpm": 30,
            "requests_per_day": 1000,
        },
        {"name": "laptop"},
    ]
    assert dict(cli.snapshot().key_policies) == {"ci": KeyPolicy(("openai/*", "coding"), 30, 1000)}


def test_key_list_without_limits_has_no_limit_columns(cli: Cli) -> None:
    cli.ok("key", "create", "laptop")
    assert table(cli.ok("key", "list").out)[0] == ["NAME", "KEY", "CREATED"]


def test_key_limits_changes_only_what_is_given(cli: Cli) -> None:
    cli.ok("key", "create", "ci", "--models", "openai/*", "--per-day", "1000")
    assert cli.ok("key", "limits", "ci").out == "Key 'ci': models openai/*; 1000 per day.\n"
    assert cli.ok("key", "limits", "ci", "--rpm", "10").out == (
        "Key 'ci': models openai/*; rpm 10; 1000 per day.\n"
    )
    assert cli.ok("key", "limits", "ci", "--models", "fast,coding").out == (
        "Key 'ci': models fast, coding; rpm 10; 1000 per day.\n"
    )
    assert cli.snapshot().key_policies["ci"] == KeyPolicy(("fast", "coding"), 10, 1000)
    assert cli.ok("key", "limits", "ci", "--all-models", "--no-per-day").out == (
        "Key 'ci': all models; rpm 10.\n"
    )
    assert cli.export()["api_keys"] == [{"name": "ci", "rpm": 10}]
    assert cli.ok("key", "limits", "ci", "--no-rpm").out == "Key 'ci': all models.\n"
    assert cli.export()["api_keys"] == [{"name": "ci"}]
    assert dict(cli.snapshot().key_policies) == {}


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        pytest.param(
            ["--rpm", "0"],
            1,
            "switchboard: --rpm: Input should be greater than or equal to 1\n",
            id="rpm-0",
        ),
        pytest.param(
            ["--per-day", "100000001"],
            1,
            "switchboard: --per-day: Input should be less than or equal to 100000000\n",
            id="per-day-too-many",
        ),
        pytest.param(
            ["--models", "a" * 201],
            1,
            "switchboard: --models[0]: String should have at most 200 characters\n",
            id="pattern-too-long",
        ),
        pytest.param(
            ["--models", "openai/*,,coding"],
            2,
            "argument --models: empty pattern in 'openai/*,,coding'",
            id="empty-pattern",
        ),
        pytest.param(
            ["--models", "openai/gpt 4"],
            2,
            "argument --models: 'openai/gpt 4' is not a model pattern (no spaces)",
            id="space",
        ),
        pytest.param(
            ["--models", "x", "--all-models"],
            2,
            "argument --all-models: not allowed with argument --models",
            id="both",
        ),
    ],
)
def test_key_limits_refuses_bad_values(cli: Cli, args: list[str], code: int, error: str) -> None:
    cli.ok("key", "create", "ci", "--rpm", "5")
    err = cli.refused("key", "limits", "ci", *args, code=code)
    if code == 1:
        assert err == error
    else:
        assert err.startswith("usage: switchboard key limits ")
        assert err.endswith(f"switchboard key limits: error: {error}\n")
    if "--all-models" not in args:  # the same rules when a key is created: then none is
        err = cli.refused("key", "create", "other", *args, code=code)
        assert err == error if code == 1 else err.endswith(f"key create: error: {error}\n")
    assert [k["name"] for k in cli.json("key", "list")] == ["ci"]


def test_key_limits_of_an_unknown_or_revoked_key(cli: Cli) -> None:
    cli.ok("key", "create", "old")
    cli.ok("key", "revoke", "old")
    for name in ("ghost", "old"):
        err = cli.refused("key", "limits", name, "--rpm", "5")
        assert err == f"switchboard: no active key named {name!r} (see `switchboard key list`)\n"


# --------------------------------------------------------------------------- combo


def test_combo_add_with_system_prompt_and_cache(cli: Cli) -> None:
    prompt = "Answer briefly.\nUse British spelling, and never apologise for anything."
    added = cli.ok(
        "combo", "add", "brief", "openai/gpt-4o-mini", "--system-prompt", prompt, "--cache"
    )
    assert added.out == "Added combo 'brief': openai/gpt-4o-mini.\n"
    cli.ok("combo", "add", "fresh", "openai/gpt-4o", "--no-cache")
    cli.ok("combo", "add", "plain", "openai/gpt-4o")

    assert cli.json("combo", "list") == [
        {
            "name": "brief",
            "strategy": "priority",
            "targets": ["openai/gpt-4o-mini"],
            "enabled": True,
            "system_prompt": prompt,
            "cache": True,
        },
        {
            "name": "fresh",
            "strategy": "priority",
            "targets": ["openai/gpt-4o"],
            "enabled": True,
            "cache": False,
        },
        {"name": "plain", "strategy": "priority", "targets": ["openai/gpt-4o"], "enabled": True},
    ]
    assert table(cli.ok("combo", "list").out) == [
        ["NAME", "STRATEGY", "ENABLED", "CACHE", "SYSTEM PROMPT", "TARGETS"],
        [
            "brief",
            "priority",
            "yes",
            "yes",
            "Answer briefly. Use British spelling, a…",
            "openai/gpt-4o-mini",
        ],
        ["fresh", "priority", "yes", "no", "-", "openai/gpt-4o"],
        ["plain", "priority", "yes", "-", "-", "openai/gpt-4o"],
    ]
    exported = cli.export()["combos"]
    assert (exported[0]["system_prompt"], exported[0]["cache"]) == (prompt, True)
    assert exported[1]["cache"] is False and "system_prompt" not in exported[1]
    assert not {"cache", "system_prompt"} & set(exported[2])
    combos = cli.snapshot().combos
    assert (combos["brief"].system_prompt, combos["brief"].cache) == (prompt, True)
    assert (combos["plain"].system_prompt, combos["plain"].cache) == (None, None)

    # listed by name; --replace replaces the whole combo: what is not given is cleared
    cli.ok("combo", "add", "brief", "openai/gpt-4o-mini", "--replace")
    assert table(cli.ok("combo", "list").out)[0] == [
        "NAME",
        "STRATEGY",
        "ENABLED",
        "CACHE",
        "TARGETS",
    ]
    assert cli.json("combo", "list")[0] == {
        "name": "brief",
        "strategy": "priority",
        "targets": ["openai/gpt-4o-mini"],
        "enabled": True,
    }


def test_combo_list_without_controls_has_no_control_columns(cli: Cli) -> None:
    cli.ok("combo", "add", "plain", "openai/gpt-4o")
    assert table(cli.ok("combo", "list").out)[0] == ["NAME", "STRATEGY", "ENABLED", "TARGETS"]


def test_combo_add_refuses_an_empty_system_prompt(cli: Cli) -> None:
    err = cli.refused("combo", "add", "terse", "openai/gpt-4o", "--system-prompt", " ")
    assert err == "switchboard: --system-prompt: String should have at least 1 character\n"
    assert cli.json("combo", "list") == []


def test_combo_add_names_the_rule_a_combination_of_options_breaks(cli: Cli) -> None:
    args = ("combo", "add", "w", "openai/a", "openai/b", "--strategy", "weighted")
    err = cli.refused(*args, "--weights", "1")
    assert err == "switchboard: weights: 1 given for 2 targets (one weight per target)\n"
    cli.ok(*args, "--weights", "3,1", "--no-cache")
    assert cli.export()["combos"][0]["weights"] == [3.0, 1.0]
