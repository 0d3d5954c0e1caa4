"""``switchboard config import FILE`` and ``config export``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import orjson
import tomli_w

from gateway.cli.common import CliError, open_context
from gateway.config.commands import ConfigError
from gateway.config.file_format import ConfigFileError, read_config_file
from gateway.config.transfer import export_config, import_config


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "config", parents=[common], help="import or export the whole configuration (docs/config.md)"
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        parents=[common],
        help="import a TOML or JSON file",
        description="Import a configuration file. Entries replace those of "
        "the same name; an invalid file changes nothing.",
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(handler=config_import)
    exp = sub.add_parser(
        "export",
        parents=[common],
        help="print the configuration",
        description="Export the configuration in the import format. Client "
        "API keys are exported by name only.",
    )
    exp.add_argument(
        "--with-secrets",
        action="store_true",
        help="include connection API keys (keep the file private)",
    )
    exp.add_argument(
        "--format", choices=("toml", "json"), help="default: from -o's extension, else toml"
    )
    exp.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    exp.set_defaults(handler=config_export)


def config_import(args: argparse.Namespace) -> int:
    try:
        config = read_config_file(args.file)
    except ConfigFileError as exc:
        raise CliError(f"{args.file}: nothing was imported:\n{exc}") from None
    with open_context(args) as ctx:
        try:
            report = import_config(ctx, config)
        except ConfigError as exc:
            raise CliError(f"{args.file}: nothing was imported:\n{exc}") from None
    print(
        f"Imported {report.connections} connection(s), {report.combos} combo(s), "
        f"{report.api_keys} API key(s), {report.settings} setting(s)"
        + (f", {report.model_aliases} model alias(es)" if report.model_aliases else "")
        + (f", {report.providers} provider switch(es)" if report.providers else "")
        + (f", {report.prices} price(s)" if report.prices else "")
        + "."
    )
    for name, plaintext in report.generated_keys:
        print(f"New client API key {name!r} (shown only now): {plaintext}")
    return 0


def config_export(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        data = export_config(ctx, with_secrets=args.with_secrets)
    fmt = args.format or ("json" if args.output and args.output.suffix == ".json" else "toml")
    text = render(data, fmt)
    if args.output:
        try:
            _write_output(args.output, text, private=args.with_secrets)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"Wrote {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.with_secrets:
        print("The export contains API keys: keep it private.", file=sys.stderr)
    return 0


def _write_output(path: Path, text: str, *, private: bool) -> None:
    """Write the export; with secrets, the file is owner-only before any byte is written."""
    if not private:
        path.write_text(text, encoding="utf-8")
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):  # POSIX: an existing file keeps its mode; tighten it first
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(text)
    finally:
        if fd != -1:
            os.close(fd)


def render(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    return tomli_w.dumps(data)
