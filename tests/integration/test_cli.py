"""The ``switchboard`` command in-process: ``main([...])`` with captured output.

Every test has its own data folder; secrets go to the in-memory keyring that conftest installs,
so a test can check exactly what was stored (``MemoryKeyring.store``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import socket
import stat
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import build_parser, main
from gateway.observe.request_log import INSERT_SQL, LogEntry
from gateway.providers.catalog import default_catalog
from gateway.security.secrets import SERVICE
from gateway.store.db import open_logs_db
from tests.fakes.openai_upstream import DEFAULT_API_KEY, FakeOpenAI
from tests.support.memkeyring import MemoryKeyring

UPSTREAM_KEY = "sk-proj-CliTest-Secret-4b7e21"
OTHER_KEY = "sk-proj-CliTest-Other-8c0d93"
KEY_RE = re.compile(r"sk-sb-[0-9a-f]{32}")


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Cli:
    """Runs ``main([...args, --data-dir D])`` and keeps everything it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
        self.capsys = capsys
        self.data_dir = data_dir
        self.transcript: list[str] = []

    def __call__(self, *args: str, data_dir: Path | None = None) -> Result:
        self.capsys.readouterr()
        code = main([*args, "--data-dir", str(data_dir or self.data_dir)])
        captured = self.capsys.readouterr()
        self.transcript += [captured.out, captured.err]
        return Result(code, captured.out, captured.err)

    def ok(self, *args: str, data_dir: Path | None = None) -> Result:
        result = self(*args, data_dir=data_dir)
        assert result.code == 0, result
        assert result.err == "" or args[:2] in {("key", "create"), ("config", "export")}, result
        return result

    def json(self, *args: str, data_dir: Path | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", data_dir=data_dir).out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], data_dir: Path) -> Cli:
    return Cli(capsys, data_dir)


def data_files(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def assert_secret_nowhere(secret: str, cli: Cli, folder: Path) -> None:
    for text in cli.transcript:
        assert secret not in text
    files = data_files(folder)
    assert files, "the data folder is empty: nothing was checked"
    for path, content in files.items():
        assert secret.encode() not in content, f"secret found in {path.name}"


def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def command_paths() -> list[tuple[str, ...]]:
    """Every command and action of the parser, found by walking its subparsers."""
    paths: list[tuple[str, ...]] = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        paths.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, (*path, name))

    walk(build_parser(), ())
    return paths


COMMAND_PATHS = command_paths()
# A group that is also a command of its own (`switchboard health` shows, `health reset` acts;
# `switchboard quota` shows, `quota set` acts)
# runs without an action instead of printing usage.
RUNNABLE_GROUPS = {("health",), ("quota",)}
GROUPS = sorted({path[:-1] for path in COMMAND_PATHS if len(path) == 2} - RUNNABLE_GROUPS)


# --------------------------------------------------------------------------- help


def test_the_walk_finds_every_documented_command() -> None:
    expected = {
        (),
        ("serve",),
        ("provider",),
        ("provider", "list"),
        ("connection",),
        ("connection", "add"),
        ("connection", "list"),
        ("connection", "remove"),
        ("connection", "test"),
        ("key",),
        ("key", "create"),
        ("key", "list"),
        ("key", "revoke"),
        ("combo",),
        ("combo", "add"),
        ("combo", "list"),
        ("combo", "remove"),
        ("config",),
        ("config", "import"),
        ("config", "export"),
        ("logs",),
        ("health",),
        ("health", "reset"),
    }
    assert expected <= set(COMMAND_PATHS)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "switchboard")
def test_help_exits_0_for_every_command(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"usage: {' '.join(('switchboard', *path))} ")
    assert "--data-dir" in captured.out
    assert captured.err == ""


@pytest.mark.parametrize("group", GROUPS, ids=" ".join)
def test_a_group_without_action_prints_usage_and_exits_2(
    group: tuple[str, ...], capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    try:
        code = main([*group, "--data-dir", str(data_dir)])
    except SystemExit as exc:  # argparse's own "required" error
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith(f"usage: switchboard {' '.join(group)} ")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"switchboard {__version__}\n"


# --------------------------------------------------------------------------- provider


def test_provider_list_table(cli: Cli) -> None:
    lines = cli.ok("provider", "list").out.splitlines()
    assert lines[0].split() == ["ID", "PREFIX", "DIALECT", "TIER", "BASE", "URL", "MODELS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    catalog = default_catalog()
    assert list(rows) == [p.id for p in catalog.providers]
    openai = catalog.get("openai")
    assert openai is not None
    assert rows["openai"] == [
        "openai",
        "openai",
        "openai",
        "api-key",
        openai.base_url,
        str(len(openai.models)),
    ]
    assert rows["anthropic"][2] == "anthropic"
    assert rows["gemini"][2] == "gemini"
    assert rows["ollama"][:5] == [
        "ollama",
        "ollama",
        "openai",
        "local",
        "http://127.0.0.1:11434/v1",
    ]


def test_provider_list_json(cli: Cli) -> None:
    providers = cli.json("provider", "list")
    ids = [p["id"] for p in providers]
    assert ids == [p.id for p in default_catalog().providers]
    assert {"openai", "anthropic", "gemini", "ollama"} <= set(ids)
    ollama = next(p for p in providers if p["id"] == "ollama")
    assert ollama["dialect"] == "openai"
    assert ollama["key_required"] is False


# --------------------------------------------------------------------------- connection


def keyring_values() -> dict[tuple[str, str], str]:
    return dict(MemoryKeyring.store)


def test_connection_add_with_api_key_stores_it_in_the_keyring_only(
    cli: Cli, data_dir: Path
) -> None:
    result = cli.ok("connection", "add", "work", "--provider", "openai", "--api-key", UPSTREAM_KEY)
    assert result.out.startswith("Added connection 'work' (OS keyring (")

    [(service, username)] = keyring_values()
    assert service == SERVICE
    assert username.startswith("connection/")
    assert MemoryKeyring.store[(service, username)] == UPSTREAM_KEY

    listed = cli.json("connection", "list")
    assert listed == [
        {
            "name": "work",
            "provider": "openai",
            "dialect": None,
            "alias": None,
            "base_url": None,
            "priority": 100,
            "enabled": True,
            "has_api_key": True,
            "models": [],
        }
    ]
    table = cli.ok("connection", "list").out.splitlines()
    assert table[0].split() == [
        "NAME",
        "PROVIDER",
        "PREFIX",
        "BASE",
        "URL",
        "PRIORITY",
        "ENABLED",
        "KEY",
    ]
    assert table[1].split() == ["work", "openai", "-", "-", "100", "yes", "stored"]
    assert len(table) == 2
    assert_secret_nowhere(UPSTREAM_KEY, cli, data_dir)


def test_connection_add_with_api_key_env(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_UPSTREAM_KEY", UPSTREAM_KEY)
    cli.ok("connection", "add", "work", "--provider", "openai", "--api-key-env", "MY_UPSTREAM_KEY")
    assert list(MemoryKeyring.store.values()) == [UPSTREAM_KEY]
    assert [c["has_api_key"] for c in cli.json("connection", "list")] == [True]
    assert_secret_nowhere(UPSTREAM_KEY, cli, data_dir)


def test_connection_add_with_an_unset_env_var_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    result = cli(
        "connection", "add", "work", "--provider", "openai", "--api-key-env", "NOT_SET_ANYWHERE"
    )
    assert result.code == 1
    assert result.err == (
        "switchboard: environment variable NOT_SET_ANYWHERE is empty or not set\n"
    )
    assert cli.json("connection", "list") == []


def test_connection_add_with_api_key_stdin(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(UPSTREAM_KEY + "\n"))
    cli.ok("connection", "add", "work", "--provider", "openai", "--api-key-stdin")
    assert list(MemoryKeyring.store.values()) == [UPSTREAM_KEY]
    assert_secret_nowhere(UPSTREAM_KEY, cli, data_dir)


def test_connection_add_without_a_required_key_names_the_field(cli: Cli) -> None:
    result = cli("connection", "add", "work", "--provider", "openai")
    assert result.code == 1
    assert result.err == "switchboard: connection.api_key: OpenAI needs an API key\n"
    assert cli.json("connection", "list") == []


def test_connection_add_keyless_provider(cli: Cli) -> None:
    result = cli.ok("connection", "add", "local", "--provider", "ollama", "--model", "qwen3")
    assert result.out == "Added connection 'local'.\n"
    assert MemoryKeyring.store == {}
    [row] = cli.json("connection", "list")
    assert (row["name"], row["has_api_key"], row["models"]) == ("local", False, ["qwen3"])


def test_connection_duplicate_name_is_refused(cli: Cli) -> None:
    cli.ok("connection", "add", "work", "--provider", "openai", "--api-key", UPSTREAM_KEY)
    result = cli("connection", "add", "work", "--provider", "openai", "--api-key", OTHER_KEY)
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "switchboard: a connection named 'work' already exists (remove it first, or choose "
        "another name)\n"
    )
    assert list(MemoryKeyring.store.values()) == [UPSTREAM_KEY]


def test_connection_replace(cli: Cli, data_dir: Path) -> None:
    cli.ok("connection", "add", "work", "--provider", "openai", "--api-key", UPSTREAM_KEY)
    cli.ok(
        "connection",
        "add",
        "work",
        "--provider",
        "openai",
        "--api-key",
        OTHER_KEY,
        "--priority",
        "5",
        "--base-url",
        "http://127.0.0.1:9/v1/",
        "--replace",
    )
    [row] = cli.json("connection", "list")
    assert (row["priority"], row["base_url"], row["has_api_key"]) == (
        5,
        "http://127.0.0.1:9/v1",
        True,
    )
    assert list(MemoryKeyring.store.values()) == [OTHER_KEY]
    assert_secret_nowhere(UPSTREAM_KEY, cli, data_dir)
    assert_secret_nowhere(OTHER_KEY, cli, data_dir)


def test_connection_unknown_provider_names_the_known_ones(cli: Cli) -> None:
    result = cli("connection", "add", "work", "--provider", "nope", "--api-key", UPSTREAM_KEY)
    assert result.code == 1
    known = sorted(p.id for p in default_catalog().providers if not p.custom)
    assert result.err == (
        "switchboard: connection.provider: unknown provider 'nope' "
        f'(use "custom" or one of: {", ".join(known)})\n'
    )
    assert MemoryKeyring.store == {}


def test_custom_connection_without_alias_names_the_field(cli: Cli) -> None:
    result = cli(
        "connection",
        "add",
        "mine",
        "--provider",
        "custom",
        "--dialect",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
    )
    assert result.code == 1
    assert result.err == "switchboard: connection.alias: required for a custom provider\n"
    assert cli.json("connection", "list") == []


def test_custom_connection_with_alias(cli: Cli) -> None:
    cli.ok(
        "connection",
        "add",
        "mine",
        "--provider",
        "custom",
        "--dialect",
        "anthropic",
        "--alias",
        "lab",
        "--base-url",
        "http://127.0.0.1:9",
        "--model",
        "m1",
    )
    [row] = cli.json("connection", "list")
    assert (row["provider"], row["dialect"], row["alias"], row["models"]) == (
        "custom",
        "anthropic",
        "lab",
        ["m1"],
    )


def test_connection_name_is_validated_with_the_field_named(cli: Cli) -> None:
    result = cli("connection", "add", "bad name", "--provider", "ollama")
    assert result.code == 1
    assert result.err.startswith("switchboard: name: String should match pattern")


def test_connection_remove_deletes_its_secret(cli: Cli) -> None:
    cli.ok("connection", "add", "work", "--provider", "openai", "--api-key", UPSTREAM_KEY)
    cli.ok("connection", "add", "other", "--provider", "openai", "--api-key", OTHER_KEY)
    assert sorted(MemoryKeyring.store.values()) == sorted([UPSTREAM_KEY, OTHER_KEY])
    assert cli.ok("connection", "remove", "work").out == "Removed connection 'work'.\n"
    assert list(MemoryKeyring.store.values()) == [OTHER_KEY]
    assert [c["name"] for c in cli.json("connection", "list")] == ["other"]
    cli.ok("connection", "remove", "other")
    assert MemoryKeyring.store == {}
    assert cli.ok("connection", "list").out == (
        "No connections yet. Add one with `switchboard connection add`.\n"
    )


def test_connection_remove_unknown(cli: Cli) -> None:
    result = cli("connection", "remove", "ghost")
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "switchboard: no connection named 'ghost' (see `switchboard connection list`)\n"
    )


# --------------------------------------------------------------------------- connection test


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def test_connection_test_ok(cli: Cli, fake: FakeOpenAI) -> None:
    cli.ok(
        "connection",
        "add",
        "work",
        "--provider",
        "openai",
        "--api-key",
        DEFAULT_API_KEY,
        "--base-url",
        fake.base_url,
        "--model",
        "gpt-4o-mini",
    )
    # The command runs its own asyncio.run: call it off this loop, which serves the fake.
    result = await asyncio.to_thread(cli, "connection", "test", "work")
    assert result.code == 0, result
    assert re.fullmatch(r"ok: model gpt-4o-mini answered in \d+ ms\n", result.out)
    assert result.err == ""
    [request] = fake.state.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert request.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
    }


async def test_connection_test_without_a_model_lists_models(cli: Cli, fake: FakeOpenAI) -> None:
    cli.ok(
        "connection",
        "add",
        "lab",
        "--provider",
        "custom",
        "--dialect",
        "openai",
        "--alias",
        "lab",
        "--base-url",
        fake.base_url,
        "--api-key",
        DEFAULT_API_KEY,
    )
    result = await asyncio.to_thread(cli, "connection", "test", "lab")
    assert result.code == 0, result
    assert re.fullmatch(r"ok: GET /models answered in \d+ ms\n", result.out)
    [request] = fake.state.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"


async def test_connection_test_with_a_wrong_key(cli: Cli, fake: FakeOpenAI) -> None:
    cli.ok(
        "connection",
        "add",
        "work",
        "--provider",
        "openai",
        "--api-key",
        UPSTREAM_KEY,
        "--base-url",
        fake.base_url,
        "--model",
        "gpt-4o-mini",
    )
    result = await asyncio.to_thread(cli, "connection", "test", "work", "--model", "gpt-4o")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("failed: model gpt-4o: HTTP 401: Incorrect API key provided: ")
    assert result.err.endswith(
        "You can find your API key at https://platform.openai.com/account/api-keys.\n"
    )
    assert UPSTREAM_KEY not in result.err  # the upstream masks it; the CLI adds nothing
    assert len(fake.state.requests) == 1


async def test_connection_test_unreachable(cli: Cli) -> None:
    port = closed_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    cli.ok(
        "connection",
        "add",
        "work",
        "--provider",
        "openai",
        "--api-key",
        UPSTREAM_KEY,
        "--base-url",
        base_url,
    )
    result = await asyncio.to_thread(cli, "connection", "test", "work", "--timeout", "10")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(f"failed: {base_url} cannot connect (")
    assert UPSTREAM_KEY not in result.err


def test_connection_test_unknown(cli: Cli) -> None:
    result = cli("connection", "test", "ghost")
    assert result.code == 1
    assert result.err == (
        "switchboard: no connection named 'ghost' (see `switchboard connection list`)\n"
    )


# --------------------------------------------------------------------------- key


def test_key_create_list_revoke(cli: Cli, data_dir: Path) -> None:
    created = cli.ok("key", "create", "laptop")
    assert KEY_RE.fullmatch(created.out.rstrip("\n"))
    assert created.out.count("\n") == 1
    key = created.out.strip()
    assert created.err == (
        "Key 'laptop' created. It is shown only now; Switchboard keeps only its hash.\n"
    )

    table = cli.ok("key", "list").out
    lines = table.splitlines()
    assert lines[0].split() == ["NAME", "KEY", "CREATED"]
    assert lines[1].split()[:2] == ["laptop", key[:10] + "…"]
    assert len(lines) == 2
    assert key not in table
    [listed] = cli.json("key", "list")
    assert (listed["name"], listed["prefix"]) == ("laptop", key[:10] + "…")

    assert cli.ok("key", "revoke", "laptop").out == "Revoked key 'laptop'.\n"
    assert cli.ok("key", "list").out == (
        "No active keys. Create one with `switchboard key create`.\n"
    )
    assert cli.json("key", "list") == []
    # The plaintext was printed once and is stored nowhere.
    assert sum(text.count(key) for text in cli.transcript) == 1
    for path, content in data_files(data_dir).items():
        assert key.encode() not in content, path.name


def test_key_duplicate_active_name_is_refused(cli: Cli) -> None:
    cli.ok("key", "create", "laptop")
    result = cli("key", "create", "laptop")
    assert result.code == 1
    assert result.out == ""
    assert result.err == "switchboard: an active key named 'laptop' already exists\n"
    cli.ok("key", "revoke", "laptop")
    again = cli.ok("key", "create", "laptop")  # a revoked name can be reused
    assert KEY_RE.fullmatch(again.out.strip())
    assert [k["name"] for k in cli.json("key", "list")] == ["laptop"]


def test_key_revoke_unknown(cli: Cli) -> None:
    result = cli("key", "revoke", "ghost")
    assert result.code == 1
    assert result.err == ("switchboard: no active key named 'ghost' (see `switchboard key list`)\n")


# --------------------------------------------------------------------------- combo


def test_combo_add_list_remove(cli: Cli) -> None:
    added = cli.ok("combo", "add", "daily", "openai/gpt-4o-mini", "anthropic/claude-haiku-5-5")
    assert added.out == "Added combo 'daily': openai/gpt-4o-mini → anthropic/claude-haiku-5-5.\n"
    assert cli.json("combo", "list") == [
        {
            "name": "daily",
            "strategy": "priority",
            "targets": ["openai/gpt-4o-mini", "anthropic/claude-haiku-5-5"],
            "enabled": True,
        }
    ]
    lines = cli.ok("combo", "list").out.splitlines()
    assert lines[0].split() == ["NAME", "STRATEGY", "ENABLED", "TARGETS"]
    assert lines[1].split() == [
        "daily",
        "priority",
        "yes",
        "openai/gpt-4o-mini,",
        "anthropic/claude-haiku-5-5",
    ]
    assert cli.ok("combo", "remove", "daily").out == "Removed combo 'daily'.\n"
    assert cli.json("combo", "list") == []
    result = cli("combo", "remove", "daily")
    assert result.code == 1
    assert result.err == "switchboard: no combo named 'daily' (see `switchboard combo list`)\n"


def test_combo_duplicate_name_is_refused(cli: Cli) -> None:
    cli.ok("combo", "add", "daily", "openai/gpt-4o-mini")
    result = cli("combo", "add", "daily", "openai/gpt-4o")
    assert result.code == 1
    assert result.err == "switchboard: a combo named 'daily' already exists\n"
    cli.ok("combo", "add", "daily", "openai/gpt-4o", "--replace")
    assert [c["targets"] for c in cli.json("combo", "list")] == [["openai/gpt-4o"]]


def test_combo_with_an_unknown_prefix_is_refused(cli: Cli) -> None:
    result = cli("combo", "add", "daily", "openai/gpt-4o-mini", "nope/model-x")
    assert result.code == 1
    assert result.err == (
        "switchboard: combo.targets[1]: 'nope/model-x': no provider or custom connection has "
        "the prefix 'nope'\n"
    )
    assert cli.json("combo", "list") == []


def test_combo_custom_alias_prefix_is_accepted_once_a_connection_has_it(cli: Cli) -> None:
    assert cli("combo", "add", "daily", "lab/qwen3").code == 1
    cli.ok(
        "connection",
        "add",
        "mine",
        "--provider",
        "custom",
        "--dialect",
        "openai",
        "--alias",
        "lab",
        "--base-url",
        "http://127.0.0.1:9/v1",
    )
    cli.ok("combo", "add", "daily", "lab/qwen3")


def test_combo_cycle_is_refused(cli: Cli) -> None:
    cli.ok("combo", "add", "b", "openai/gpt-4o-mini")
    cli.ok("combo", "add", "a", "b")
    result = cli("combo", "add", "b", "a", "--replace")
    assert result.code == 1
    assert result.err == (
        "switchboard: combo.targets: combos may not contain themselves (b → a → b)\n"
    )
    assert cli.json("combo", "list") == [
        {"name": "a", "strategy": "priority", "targets": ["b"], "enabled": True},
        {"name": "b", "strategy": "priority", "targets": ["openai/gpt-4o-mini"], "enabled": True},
    ]


def test_combo_unknown_combo_target_is_refused(cli: Cli) -> None:
    result = cli("combo", "add", "a", "ghost")
    assert result.code == 1
    assert (
        result.err
        == "switchboard: combo.targets[0]: 'ghost' is neither a combo nor a model alias\n"
    )


def test_removing_a_combo_used_by_another_is_refused(cli: Cli) -> None:
    cli.ok("combo", "add", "b", "openai/gpt-4o-mini")
    cli.ok("combo", "add", "a", "b")
    result = cli("combo", "remove", "b")
    assert result.code == 1
    assert result.err == "switchboard: combo 'b' is a target of a; remove it there first\n"
    assert [c["name"] for c in cli.json("combo", "list")] == ["a", "b"]
    cli.ok("combo", "remove", "a")
    cli.ok("combo", "remove", "b")


# --------------------------------------------------------------------------- config import


IMPORT_TOML = """
[settings]
port = 20200
upstream_read_timeout_s = 120.0

[[api_keys]]
name = "laptop"
key = "sk-sb-imported-key-0001"

[[api_keys]]
name = "ci"

[[connections]]
name = "work"
provider = "openai"
api_key = "sk-proj-CliTest-Secret-4b7e21"
priority = 10
models = ["gpt-4o-mini"]

[[connections]]
name = "lab"
provider = "custom"
dialect = "openai"
alias = "lab"
base_url = "http://127.0.0.1:9/v1/"
models = ["qwen3"]

[[combos]]
name = "daily"
targets = ["openai/gpt-4o-mini", "lab/qwen3"]
"""

# What `config export --format json` prints after importing IMPORT_TOML.
EXPECTED_EXPORT: dict[str, Any] = {
    "settings": {"port": 20200, "upstream_read_timeout_s": 120.0},
    "api_keys": [{"name": "laptop"}, {"name": "ci"}],
    "connections": [
        {
            "name": "work",
            "provider": "openai",
            "priority": 10,
            "enabled": True,
            "models": ["gpt-4o-mini"],
        },
        {
            "name": "lab",
            "provider": "custom",
            "dialect": "openai",
            "alias": "lab",
            "base_url": "http://127.0.0.1:9/v1",
            "priority": 100,
            "enabled": True,
            "models": ["qwen3"],
        },
    ],
    "combos": [
        {
            "name": "daily",
            "strategy": "priority",
            "targets": ["openai/gpt-4o-mini", "lab/qwen3"],
            "enabled": True,
        }
    ],
}


def write_config(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def check_imported(cli: Cli, result: Result, data_dir: Path) -> None:
    lines = result.out.splitlines()
    assert lines[0] == "Imported 2 connection(s), 1 combo(s), 2 API key(s), 2 setting(s)."
    assert len(lines) == 2
    prefix = "New client API key 'ci' (shown only now): "
    assert lines[1].startswith(prefix)
    generated = lines[1][len(prefix) :]
    assert KEY_RE.fullmatch(generated)
    assert json.loads(cli.ok("config", "export", "--format", "json").out) == EXPECTED_EXPORT
    assert list(MemoryKeyring.store.values()) == [UPSTREAM_KEY]
    keys = cli.json("key", "list")
    assert [(k["name"], k["prefix"]) for k in keys] == [
        ("laptop", "sk-sb-impo…"),
        ("ci", generated[:10] + "…"),
    ]
    assert_secret_nowhere(UPSTREAM_KEY, cli, data_dir)


def test_config_import_toml(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path, "switchboard.toml", IMPORT_TOML)
    check_imported(cli, cli.ok("config", "import", str(path)), data_dir)


def test_config_import_json(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    as_json = json.dumps(tomllib.loads(IMPORT_TOML))
    path = write_config(tmp_path, "switchboard.json", as_json)
    check_imported(cli, cli.ok("config", "import", str(path)), data_dir)


def test_config_import_twice_changes_nothing_the_second_time(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    path = write_config(tmp_path, "switchboard.toml", IMPORT_TOML)
    cli.ok("config", "import", str(path))
    keys_before = cli.json("key", "list")
    again = cli.ok("config", "import", str(path))
    # 'ci' exists now, so no new key is generated; 'laptop' is the same key again.
    assert again.out == "Imported 2 connection(s), 1 combo(s), 1 API key(s), 2 setting(s).\n"
    assert cli.json("key", "list") == keys_before
    assert list(MemoryKeyring.store.values()) == [UPSTREAM_KEY]


BAD_SCHEMA = (
    IMPORT_TOML
    + """
[[connections]]
name = "bad"
provider = "custom"
dialect = "openai"
alias = "Not An Alias"
base_url = "http://127.0.0.1:9/v1"
"""
)

BAD_MEANING = (
    IMPORT_TOML.replace('"lab/qwen3"]', '"lab/qwen3", "nope/x"]')
    + """
[[connections]]
name = "bad"
provider = "nope"
api_key = "sk-proj-CliTest-Other-8c0d93"
"""
)


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param(
            BAD_SCHEMA,
            ["connections[2] ('bad').alias: String should match pattern "],
            id="schema",
        ),
        pytest.param(
            BAD_MEANING,
            [
                "connections[2] ('bad').provider: unknown provider 'nope' (use \"custom\" or ",
                "combos[0] ('daily').targets[2]: 'nope/x': no provider or custom connection has "
                "the prefix 'nope'",
            ],
            id="meaning",
        ),
    ],
)
def test_config_import_of_an_invalid_file_changes_nothing(
    cli: Cli, data_dir: Path, tmp_path: Path, text: str, problems: list[str]
) -> None:
    path = write_config(tmp_path, "broken.toml", text)
    result = cli("config", "import", str(path))
    assert result.code == 1
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines[0] == f"switchboard: {path}: nothing was imported:"
    assert len(lines) == 1 + len(problems)
    for line, problem in zip(lines[1:], problems, strict=True):
        assert line.startswith(problem), line
    assert cli.ok("connection", "list").out.startswith("No connections yet.")
    assert cli.json("combo", "list") == []
    assert cli.json("key", "list") == []
    assert json.loads(cli.ok("config", "export", "--format", "json").out)["settings"] == {}
    assert MemoryKeyring.store == {}
    assert_secret_nowhere(UPSTREAM_KEY, cli, data_dir)


def test_config_import_of_unparseable_toml(cli: Cli, tmp_path: Path) -> None:
    path = write_config(tmp_path, "broken.toml", "[[connections]\nname = 1\n")
    result = cli("config", "import", str(path))
    assert result.code == 1
    assert result.err.startswith(f"switchboard: {path}: nothing was imported:\nnot valid TOML: ")


def test_config_import_of_a_missing_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    result = cli("config", "import", str(path))
    assert result.code == 1
    assert result.err == (
        f"switchboard: {path}: nothing was imported:\ncannot read {path}: "
        "No such file or directory\n"
    )


# --------------------------------------------------------------------------- config export


@pytest.fixture
def configured(cli: Cli, tmp_path: Path) -> Cli:
    cli.ok("config", "import", str(write_config(tmp_path, "in.toml", IMPORT_TOML)))
    return cli


@pytest.fixture
def fresh_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "fresh"
    path.mkdir()
    yield path


def test_config_export_toml_is_the_default(configured: Cli) -> None:
    text = configured.ok("config", "export").out
    assert tomllib.loads(text) == EXPECTED_EXPORT
    assert UPSTREAM_KEY not in text
    assert "api_key =" not in text


def test_config_export_with_secrets(configured: Cli) -> None:
    result = configured.ok("config", "export", "--with-secrets", "--format", "json")
    data = json.loads(result.out)
    assert [c.get("api_key") for c in data["connections"]] == [UPSTREAM_KEY, None]
    assert result.err == "The export contains API keys: keep it private.\n"


def test_config_export_to_a_json_file(configured: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = configured.ok("config", "export", "-o", str(target))
    assert result.out == ""
    assert result.err == f"Wrote {target}.\n"
    text = target.read_text(encoding="utf-8")
    assert text == configured.ok("config", "export", "--format", "json").out
    assert json.loads(text) == EXPECTED_EXPORT


def test_config_export_with_secrets_to_a_file_is_private(configured: Cli, tmp_path: Path) -> None:
    target = tmp_path / "secret.toml"
    target.write_text("old content\n", encoding="utf-8")
    target.chmod(0o644)
    result = configured.ok("config", "export", "--with-secrets", "-o", str(target))
    assert result.err == (f"Wrote {target}.\nThe export contains API keys: keep it private.\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert tomllib.loads(target.read_text(encoding="utf-8"))["connections"][0]["api_key"] == (
        UPSTREAM_KEY
    )


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_config_export_round_trips(
    configured: Cli, fresh_dir: Path, tmp_path: Path, fmt: str
) -> None:
    first = configured.ok("config", "export", "--with-secrets", "--format", fmt).out
    path = write_config(tmp_path, f"exported.{fmt}", first)
    configured.ok("config", "import", str(path), data_dir=fresh_dir)
    second = configured.ok(
        "config", "export", "--with-secrets", "--format", fmt, data_dir=fresh_dir
    ).out
    assert second == first
    without = configured.ok("config", "export", "--format", fmt, data_dir=fresh_dir).out
    assert without == configured.ok("config", "export", "--format", fmt).out
    assert UPSTREAM_KEY not in without


# --------------------------------------------------------------------------- logs


def log_entry(n: int, **changes: Any) -> LogEntry:
    values: dict[str, Any] = {
        "ts": 1_750_000_000.0 + n * 61,
        "request_id": f"req-{n}",
        "client_dialect": "openai",
        "key_name": "laptop",
        "requested_model": "openai/gpt-4o-mini",
        "provider": "openai",
        "connection": "work",
        "upstream_model": "gpt-4o-mini",
        "status": 200,
        "latency_ms": 10.0 + n,
        "ttfb_ms": 5.0,
        "tokens_in": 3 * n,
        "tokens_out": 4 * n,
    }
    values.update(changes)
    return LogEntry(**values)


def write_logs(data_dir: Path, entries: list[LogEntry]) -> None:
    conn = open_logs_db(data_dir)
    try:
        with conn:
            for entry in entries:
                conn.execute(INSERT_SQL, entry.row())
    finally:
        conn.close()


def test_logs_when_empty(cli: Cli, data_dir: Path) -> None:
    assert cli.ok("logs").out == f"No requests logged yet ({data_dir / 'logs.db'}).\n"
    assert cli.ok("logs", "--json").out == ""


ENTRIES = [
    log_entry(1),
    log_entry(2, status=429, error="upstream 429: slow down", tokens_in=None, tokens_out=None),
    log_entry(
        3,
        key_name=None,
        provider=None,
        connection=None,
        upstream_model=None,
        requested_model="nope/x",
        status=404,
        error="model 'nope/x' is not available",
        tokens_in=None,
        tokens_out=None,
        stream=True,
    ),
]


def stamp(entry: LogEntry) -> str:
    return datetime.fromtimestamp(entry.ts).strftime("%Y-%m-%d %H:%M:%S")


def test_logs_tail_prints_the_newest_oldest_first(cli: Cli, data_dir: Path) -> None:
    write_logs(data_dir, ENTRIES)
    out = cli.ok("logs", "--tail", "2").out
    assert out.splitlines() == [
        f"{stamp(ENTRIES[1])}  429      12.0 ms  openai    openai/gpt-4o-mini → "
        "openai/gpt-4o-mini [work]  -  key=laptop  id=req-2  upstream 429: slow down",
        f"{stamp(ENTRIES[2])}  404      13.0 ms  openai    nope/x → - [-]  -  key=-  id=req-3"
        "  model 'nope/x' is not available",
    ]
    everything = cli.ok("logs").out.splitlines()
    assert len(everything) == 3
    assert everything[0] == (
        f"{stamp(ENTRIES[0])}  200      11.0 ms  openai    openai/gpt-4o-mini → "
        "openai/gpt-4o-mini [work]  3→4 tok  key=laptop  id=req-1"
    )


def test_logs_tail_0_with_rows_does_not_claim_the_log_is_empty(cli: Cli, data_dir: Path) -> None:
    write_logs(data_dir, ENTRIES)
    assert cli.ok("logs", "--tail", "0").out == ""


def test_logs_json_is_one_object_per_line(cli: Cli, data_dir: Path) -> None:
    write_logs(data_dir, ENTRIES)
    lines = cli.ok("logs", "--json", "--tail", "2").out.splitlines()
    assert len(lines) == 2
    rows = [json.loads(line) for line in lines]
    assert rows[0] == {
        "id": 2,
        "ts": ENTRIES[1].ts,
        "request_id": "req-2",
        "key_name": "laptop",
        "client_dialect": "openai",
        "requested_model": "openai/gpt-4o-mini",
        "provider": "openai",
        "connection": "work",
        "upstream_model": "gpt-4o-mini",
        "status": 429,
        "latency_ms": 12.0,
        "ttfb_ms": 5.0,
        "tokens_in": None,
        "tokens_out": None,
        "error": "upstream 429: slow down",
        "stream": False,
        "replay": None,
        "cached_tokens": None,
        "cache_write_tokens": None,
        "reasoning_tokens": None,
        "estimated": False,
        "cost_usd": None,
        "price_source": None,
    }
    assert (rows[1]["id"], rows[1]["request_id"], rows[1]["stream"]) == (3, "req-3", True)


def test_config_export_to_a_missing_folder(configured: Cli, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.toml"
    result = configured("config", "export", "-o", str(target))
    assert result.code == 1
    assert result.out == ""
    assert result.err == f"switchboard: cannot write {target}: No such file or directory\n"


# --------------------------------------------------------------------------- serve arguments


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
@pytest.mark.parametrize("where", ["serve", "top-level"])
def test_an_impossible_port_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], data_dir: Path, port: str, where: str
) -> None:
    argv = ["serve", "--port", port] if where == "serve" else ["--port", port]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--data-dir", str(data_dir)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "argument --port: " in captured.err
    assert list(data_dir.iterdir()) == []


@pytest.mark.parametrize("name", ["", "bad name!", ".dot-first"])
def test_key_create_validates_the_name_like_the_import_file(
    cli: Cli, data_dir: Path, name: str
) -> None:
    result = cli("key", "create", name)
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("switchboard: name: String should match pattern ")
    assert cli.json("key", "list") == []


def test_combo_weights_from_the_cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "--data-dir",
        str(data_dir),
        "combo",
        "add",
        "w",
        "openai/a",
        "openai/b",
        "--strategy",
        "weighted",
    ]
    assert main([*base, "--weights", "3,1"]) == 0
    assert main(["--data-dir", str(data_dir), "config", "export", "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert exported["combos"][0]["weights"] == [3.0, 1.0]
    assert main([*base, "--weights", "3,x", "--replace"]) == 1
    assert "--weights: expected numbers" in capsys.readouterr().err
    assert main([*base, "--weights", "1", "--replace"]) == 1
    assert "one weight per target" in capsys.readouterr().err
