"""The docs stay true: the example imports as written, every setting and command is documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from gateway.cli import build_parser
from gateway.config.file_format import parse_config_text
from gateway.config.settings import SETTINGS
from gateway.config.snapshot import build_snapshot
from gateway.config.transfer import import_config
from gateway.routing.resolve import resolve
from gateway.security.api_keys import hash_key
from tests.support.gateway import with_context

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = DOCS.parent / "README.md"


def config_example() -> str:
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    match = re.search(r"## A complete example.*?```toml\n(.*?)```", text, re.S)
    assert match, "docs/config.md lost its complete example"
    return match.group(1)


def test_config_example_imports_and_means_what_it_says(data_dir: Path) -> None:
    config = parse_config_text(config_example(), fmt="toml")
    with_context(data_dir, lambda ctx: import_config(ctx, config))
    snapshot = with_context(
        data_dir, lambda ctx: build_snapshot(ctx.store.state(), ctx.catalog, ctx.secrets)
    )
    assert snapshot.settings.require_api_key is True
    assert snapshot.key_names_by_hash == {
        hash_key("sk-sb-0123456789abcdef0123456789abcdef"): "laptop"
    }
    coding = [
        (t.upstream.connection, t.upstream.dialect, t.upstream.base_url, t.model)
        for t in resolve(snapshot, "coding")
    ]
    assert coding == [
        ("work-openai", "openai", "http://127.0.0.1:9000/v1", "gpt-4o-mini"),
        ("lab", "anthropic", "http://127.0.0.1:9001", "claude-lab-1"),
    ]
    lab = next(u for u in snapshot.upstreams if u.connection == "lab")
    assert lab.headers["x-api-key"] == "lab-key"
    work = next(u for u in snapshot.upstreams if u.connection == "work-openai")
    assert work.headers["Authorization"] == "Bearer sk-test"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    for spec in SETTINGS:
        row = re.search(rf"^\| `{spec.name}` \| (\w+) \| `([^`]*)` \|", text, re.M)
        assert row, f"setting {spec.name} is not in docs/config.md"
        default = row.group(2).strip('"')
        assert default in (
            str(spec.default).lower(),
            str(spec.default),
            f"{spec.default:g}" if isinstance(spec.default, float) else str(spec.default),
        ), spec.name


def _commands() -> list[str]:
    found = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append(f"{prefix} {name}")
                    walk(sub, f"{prefix} {name}")

    walk(build_parser(), "switchboard")
    return found


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = _commands()
    assert "switchboard connection test" in commands and len(commands) > 15
    for command in commands:
        assert f"`{command}" in text, f"{command} is not in docs/cli.md"


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert blocks[0].strip().splitlines() == ["make run"]
    assert blocks[1].strip().splitlines() == ["make test"]


def test_unsupported_cells_are_documented() -> None:
    from tests.integration.conformance.test_matrix import UNSUPPORTED

    text = " ".join((DOCS / "dialects.md").read_text(encoding="utf-8").split())
    for reason in UNSUPPORTED.values():
        assert " ".join(reason.split()) in text, reason


def test_every_dialect_has_its_mapping_page() -> None:
    text = (DOCS / "dialects.md").read_text(encoding="utf-8")
    for dialect in ("openai", "anthropic", "gemini", "responses"):
        assert f"(dialects/{dialect}.md)" in text
        assert (DOCS / "dialects" / f"{dialect}.md").is_file()
