"""What every command shares: --data-dir, opening the configuration, printing tables."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from gateway.config.commands import Context
from gateway.config.file_format import format_validation_error
from gateway.config.store import ConfigStore
from gateway.paths import resolve_data_dir
from gateway.providers.catalog import default_catalog
from gateway.security.secrets import open_secrets


class CliError(Exception):
    """A command failed in a way the user can fix; printed as one message, exit code 1."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data folder (default: $SWITCHBOARD_DATA_DIR or the OS user-data folder)",
    )
    return parent


def port_number(text: str) -> int:
    """``--port``: 1-65535, or 0 for any free port (the real one is printed)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port (use 1-65535, or 0 for any free one)"
        )
    return port


def data_dir_of(args: argparse.Namespace) -> Any:
    return resolve_data_dir(getattr(args, "data_dir", None))


@contextlib.contextmanager
def open_context(args: argparse.Namespace) -> Iterator[Context]:
    data_dir = data_dir_of(args)
    store = ConfigStore(data_dir)
    store.open()
    try:
        yield Context(store, default_catalog(), open_secrets(data_dir))
    finally:
        store.close()


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str) -> None:
    if not rows:
        print(empty)
        return
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], values: dict[str, Any], label: str) -> M:
    """``values`` checked by the configuration file's own rules; a CliError naming the field
    (prefixed by ``label``) otherwise, so the CLI accepts exactly what an import accepts."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise CliError(f"{label}: {format_validation_error(exc, values)}") from None
