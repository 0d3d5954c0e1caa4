"""Licences of the components Switchboard bundles, read from the installed packages' metadata.

The metadata is the truth for what is installed (a dependency may change licence between
versions); the table's licence is used only where the metadata says nothing specific (apsw
declares "any-OSI"), and for a component that is not installed here (uvloop on Windows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from importlib.metadata import PackageMetadata

# (shown name, distribution name, licence when the metadata does not say)
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    ("Qt / PySide6", "PySide6", "LGPL-3.0-only"),
    ("aiohttp", "aiohttp", "Apache-2.0"),
    ("apsw (SQLite)", "apsw", "zlib-like (apsw licence); SQLite: public domain"),
    ("keyring", "keyring", "MIT"),
    ("platformdirs", "platformdirs", "MIT"),
    ("pydantic", "pydantic", "MIT"),
    ("orjson", "orjson", "Apache-2.0 OR MIT"),
    ("qasync", "qasync", "BSD-2-Clause"),
    ("jeepney", "jeepney", "MIT"),
    ("uvloop", "uvloop", "MIT OR Apache-2.0"),
    ("cryptography", "cryptography", "Apache-2.0 OR BSD-3-Clause"),
)
# License fields that name no licence.
_VAGUE = {"", "unknown", "any-osi", "other/proprietary license", "dual license"}
_LONG = 80  # some packages put the whole licence text in the License field


@dataclass(frozen=True)
class Component:
    name: str
    distribution: str
    version: str | None  # None: not installed here
    licence: str
    from_metadata: bool  # False: from the table above


def _first(meta: PackageMetadata, key: str) -> str:
    values = meta.get_all(key) or []
    return str(values[0]).strip() if values else ""


def licence_from(meta: PackageMetadata) -> str | None:
    """The licence a package's metadata declares, most precise first: License-Expression
    (PEP 639), the License classifiers, the License field when it is short and specific."""
    expression = _first(meta, "License-Expression")
    if expression:
        return expression
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    if classifiers:
        return " / ".join(classifiers)
    field = _first(meta, "License")
    if field.lower() not in _VAGUE and len(field) <= _LONG and "\n" not in field:
        return field
    return None


def components(read: Callable[[str], PackageMetadata] = metadata.metadata) -> list[Component]:
    found = []
    for name, distribution, fallback in COMPONENTS:
        try:
            meta = read(distribution)
        except metadata.PackageNotFoundError:
            found.append(Component(name, distribution, None, fallback, False))
            continue
        declared = licence_from(meta)
        found.append(
            Component(
                name,
                distribution,
                _first(meta, "Version") or None,
                declared or fallback,
                declared is not None,
            )
        )
    return found


def app_version() -> str | None:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:
        return None
