"""``switchboard`` with no command: the desktop app where there is a screen, else the headless
gateway. The desktop (``app/``, Qt) is imported only here and only when it will run."""

from __future__ import annotations

import argparse
import importlib

from gateway.cli import serve
from gateway.cli.display import display_available

LOOP_MODES = ("thread", "shared")
NO_DISPLAY_LINE = "No display found: running the headless gateway (see `switchboard serve`)."


def register_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gateway-loop",
        choices=LOOP_MODES,
        default="thread",
        help="desktop app: run the gateway on its own loop thread (default) or on the GUI's loop",
    )


def run_default(args: argparse.Namespace) -> int:
    if not display_available():
        print(NO_DISPLAY_LINE, flush=True)
        args.host = None
        return serve.run_serve(args)
    # By name, so that importing the CLI (and type-checking gateway/) never pulls in Qt.
    desktop = importlib.import_module("app.main")
    result: int = desktop.run_desktop(args)
    return result
