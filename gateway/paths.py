"""Where Switchboard keeps its files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "Switchboard"
DATA_DIR_ENV = "SWITCHBOARD_DATA_DIR"


def resolve_data_dir(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The data folder: ``--data-dir`` beats ``SWITCHBOARD_DATA_DIR`` beats the OS default."""
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit)
    elif env.get(DATA_DIR_ENV):
        path = Path(env[DATA_DIR_ENV])
    else:
        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
