"""The About page: version, data paths with working open buttons, licences from metadata."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from app.bridge import GatewayBridge
from app.pages.about import AboutPage
from app.pages.licences import COMPONENTS, components, licence_from
from gateway.service import GatewayService


@pytest.fixture
def about(qapp: Any, data_dir: Path) -> Iterator[AboutPage]:
    bridge = GatewayBridge(GatewayService(data_dir, port=0))
    page = AboutPage(bridge)
    yield page
    page.deleteLater()
    bridge.close()


def meta(**fields: str | list[str]) -> Message:
    message = Message()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            message[key.replace("_", "-")] = item
    return message


def test_shows_the_installed_version(about: AboutPage) -> None:
    version = metadata.version("switchboard")
    assert about.version_label.text() == f"Version {version}"
    details = about.details()
    assert details.splitlines()[0] == f"Switchboard {version}"
    assert "Gateway loop: thread" in details
    about.copy_details.click()
    assert QGuiApplication.clipboard().text() == details


def test_shows_every_data_path_and_opens_its_folder(about: AboutPage, data_dir: Path) -> None:
    assert {key: field.text() for key, field in about.path_fields.items()} == {
        "data": str(data_dir),
        "config": str(data_dir / "switchboard.db"),
        "logs-db": str(data_dir / "logs.db"),
        "log-folder": str(data_dir / "logs"),
    }
    assert all(field.isReadOnly() for field in about.path_fields.values())
    opened: list[QUrl] = []
    about.open_url = opened.append
    for key in ("data", "config", "logs-db", "log-folder"):
        about.open_buttons[key].click()
    folder = QUrl.fromLocalFile(str(data_dir))
    assert opened == [folder, folder, folder, QUrl.fromLocalFile(str(data_dir / "logs"))]
    assert about.open_buttons["config"].text() == "Show in folder"
    assert about.open_buttons["data"].text() == "Open"


def test_licences_come_from_the_installed_metadata(about: AboutPage) -> None:
    shown = {d: label.text() for d, label in about.licence_labels.items()}
    assert list(shown) == [distribution for _, distribution, _ in COMPONENTS]
    # Read at runtime: what the installed packages declare, not the table.
    assert shown["aiohttp"] == metadata.metadata("aiohttp")["License-Expression"]
    assert shown["PySide6"] == "LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only"
    assert about.component("aiohttp").from_metadata
    # apsw declares only "any-OSI": the table says which licence that is.
    assert shown["apsw"].startswith("zlib-like") and not about.component("apsw").from_metadata
    for component in about.components:
        assert component.version == metadata.version(component.distribution)
    assert "Report it on the Switchboard issue tracker" in about.report_label.text()


def test_licence_from_prefers_the_most_precise_field() -> None:
    assert licence_from(meta(License_Expression="MIT", License="BSD")) == "MIT"
    classifiers = [
        "License :: OSI Approved :: MIT License",
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python",
    ]
    assert (
        licence_from(meta(Classifier=classifiers, License="whatever"))
        == "MIT License / Apache Software License"
    )
    assert licence_from(meta(License="BSD-3-Clause")) == "BSD-3-Clause"
    assert licence_from(meta(License="any-OSI")) is None
    assert licence_from(meta(License="Copyright (c) 2020 someone\n\nPermission is...")) is None
    assert licence_from(meta()) is None


def test_a_missing_package_is_listed_with_the_known_licence() -> None:
    def read(name: str) -> Message:
        if name == "uvloop":
            raise metadata.PackageNotFoundError(name)
        return meta(Version="1.0", License_Expression="MIT")

    found = {c.distribution: c for c in components(read)}  # type: ignore[arg-type]
    assert found["uvloop"].version is None and found["uvloop"].licence == "MIT OR Apache-2.0"
    assert not found["uvloop"].from_metadata
    assert found["aiohttp"].version == "1.0" and found["aiohttp"].licence == "MIT"
