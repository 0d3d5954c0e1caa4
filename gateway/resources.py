"""The data files Switchboard ships in ``resources/`` (provider catalog, failure rules, …):
where they are and how they are read, so every loader reports problems the same way."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Final

RESOURCES_ENV: Final = "SWITCHBOARD_RESOURCES"


def resource_path(name: str) -> Path:
    """``resources/<name>`` of this install, or of the ``SWITCHBOARD_RESOURCES`` folder."""
    override = os.environ.get(RESOURCES_ENV, "").strip()
    if override:
        return Path(override).expanduser() / name
    return Path(__file__).resolve().parents[1] / "resources" / name


def read_toml(source: Path, name: str, what: str, error: type[Exception]) -> dict[str, Any]:
    """Parse a TOML resource (``source`` may be a folder holding ``name``); every failure is
    one ``error`` that names the file and says what to do."""
    if source.is_dir():
        source = source / name
    try:
        with source.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(
            f"{source}: {what} not found; reinstall Switchboard or point "
            f"{RESOURCES_ENV} at the folder holding {name}"
        ) from None
    except OSError as exc:
        raise error(f"{source}: cannot read the {what}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None
