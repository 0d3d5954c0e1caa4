"""The ``switchboard`` command: argument parsing and dispatch to one module per command group."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway import __version__
from gateway.cli import (
    config_cmd,
    desktop,
    health_cmd,
    logs_cmd,
    manage,
    price_cmd,
    quota_cmd,
    serve,
    usage_cmd,
)
from gateway.cli.common import CliError, common_options, port_number
from gateway.config.commands import ConfigError
from gateway.config.file_format import ConfigFileError
from gateway.providers.catalog import CatalogError
from gateway.security.secrets import SecretStoreError


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="switchboard",
        parents=[common],
        description="Switchboard: a local AI API gateway. With no command, starts Switchboard.",
    )
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    parser.add_argument(
        "--port", type=port_number, help="gateway port (default: the port setting, 20128)"
    )
    desktop.register_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve.register(commands, common)
    manage.register(commands, common)
    config_cmd.register(commands, common)
    logs_cmd.register(commands, common)
    health_cmd.register(commands, common)
    usage_cmd.register(commands, common)
    price_cmd.register(commands, common)
    quota_cmd.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return desktop.run_default(args)
        result: int = handler(args)
        return result
    except CliError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ConfigError, ConfigFileError, SecretStoreError, CatalogError) as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "main"]
