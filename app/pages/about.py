"""About: which Switchboard this is, where its files are, and whose work it bundles."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.bridge import GatewayBridge
from app.lifecycle.logs import log_dir
from app.pages.base import Page
from app.pages.licences import Component, app_version, components
from app.window.widgets import Card, copy_text, hint_label
from gateway.store.db import CONFIG_DB_NAME, LOGS_DB_NAME

CONTEXT = "AboutPage"


def data_paths(data_dir: Path) -> list[tuple[str, str, Path, bool]]:
    """(id, title, path, is a file) of every place Switchboard keeps something."""
    tr = QCoreApplication.translate
    return [
        ("data", tr(CONTEXT, "Data folder"), data_dir, False),
        ("config", tr(CONTEXT, "Settings and providers"), data_dir / CONFIG_DB_NAME, True),
        ("logs-db", tr(CONTEXT, "Request logs"), data_dir / LOGS_DB_NAME, True),
        ("log-folder", tr(CONTEXT, "Log folder"), log_dir(data_dir), False),
    ]


class AboutPage(Page):
    page_id = "about"
    icon = "about"

    @classmethod
    def title(cls) -> str:
        return QCoreApplication.translate(CONTEXT, "About")

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.setObjectName("page-about")
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.version = app_version()
        self.components = components()

        self.build(
            self.tr("About Switchboard"),
            [self._version_card(), self._paths_card(), self._licences_card()],
        )

    # cards ----------------------------------------------------------------------------------

    def _version_card(self) -> Card:
        card = Card(self.tr("Switchboard"))
        version = self.version or self.tr("unknown (not installed as a package)")
        self.version_label = QLabel(self.tr("Version {version}").format(version=version))
        self.version_label.setObjectName("version")
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        card.body.addWidget(self.version_label)
        card.body.addWidget(
            hint_label(self.tr("A local AI API gateway that lives in your system tray."))
        )
        self.runtime_label = hint_label(self.runtime_line())
        card.body.addWidget(self.runtime_label)
        self.report_label = hint_label(
            self.tr(
                "Found a problem? Report it on the Switchboard issue tracker, with the details "
                "below (Copy details) and the desktop log from the log folder."
            )
        )
        self.report_label.setObjectName("report")
        card.body.addWidget(self.report_label)
        row = QHBoxLayout()
        self.copy_details = QPushButton(self.tr("Copy &details"))
        self.copy_details.clicked.connect(lambda: copy_text(self.details()))
        self.copy_details.setObjectName("copy-details")
        row.addWidget(self.copy_details)
        row.addStretch(1)
        card.body.addLayout(row)
        return card

    def _paths_card(self) -> Card:
        card = Card(self.tr("Where your data is"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        self.path_fields: dict[str, QLineEdit] = {}
        self.open_buttons: dict[str, QPushButton] = {}
        paths = data_paths(self.bridge.service.data_dir)
        for row, (path_id, title, path, is_file) in enumerate(paths):
            label = QLabel(title)
            field = QLineEdit(str(path))
            field.setReadOnly(True)
            field.setCursorPosition(0)
            field.setAccessibleName(title)
            field.setObjectName(f"path-{path_id}")
            field.setToolTip(str(path))
            label.setBuddy(field)
            button = QPushButton(self.tr("Show in folder") if is_file else self.tr("Open"))
            button.setObjectName(f"open-{path_id}")
            button.setAccessibleName(self.tr("Open {what}").format(what=title))
            folder = path.parent if is_file else path  # a file: the folder that holds it
            button.clicked.connect(lambda _=False, f=folder: self.open_folder(f))
            grid.addWidget(label, row, 0)
            grid.addWidget(field, row, 1)
            grid.addWidget(button, row, 2)
            self.path_fields[path_id] = field
            self.open_buttons[path_id] = button
        card.body.addLayout(grid)
        return card

    def _licences_card(self) -> Card:
        card = Card(self.tr("Open-source components"))
        card.body.addWidget(
            hint_label(
                self.tr(
                    "Switchboard is MIT-licensed and bundles these components under their own "
                    "licences (read from the installed packages where they declare one)."
                )
            )
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(2, 1)
        self.licence_labels: dict[str, QLabel] = {}
        headers = (self.tr("Component"), self.tr("Version"), self.tr("Licence"))
        for col, header in enumerate(headers):
            label = QLabel(header)
            font = label.font()
            font.setBold(True)
            label.setFont(font)
            grid.addWidget(label, 0, col)
        for row, component in enumerate(self.components, start=1):
            name = QLabel(component.name)
            version = hint_label(component.version or self.tr("not installed"))
            version.setWordWrap(False)
            licence = QLabel(component.licence)
            licence.setWordWrap(True)
            licence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            licence.setObjectName(f"licence-{component.distribution}")
            grid.addWidget(name, row, 0)
            grid.addWidget(version, row, 1)
            grid.addWidget(licence, row, 2)
            self.licence_labels[component.distribution] = licence
        card.body.addLayout(grid)
        return card

    # actions --------------------------------------------------------------------------------

    @staticmethod
    def runtime_line() -> str:
        return QCoreApplication.translate(
            CONTEXT, "Python {python}, Qt {qt}, PySide6 {pyside}"
        ).format(python=platform.python_version(), qt=qVersion(), pyside=pyside_version)

    def details(self) -> str:
        """What a problem report needs: versions and platform (no paths, no secrets)."""
        lines = [
            f"Switchboard {self.version or 'unknown'}",
            self.runtime_line(),
            f"{platform.system()} {platform.release()} ({platform.machine()})",
            f"Gateway loop: {self.bridge.loop_mode}",
        ]
        lines += [f"{c.distribution} {c.version or '-'}" for c in self.components]
        return "\n".join(lines)

    def open_folder(self, folder: Path) -> None:
        self.open_url(QUrl.fromLocalFile(str(folder)))

    def component(self, distribution: str) -> Component:
        return next(c for c in self.components if c.distribution == distribution)
