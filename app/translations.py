"""Loading the user interface's translation (i18n/switchboard_<lang>.qm) for the language
setting. English is the source language: it needs no file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLocale, QObject, QTranslator
from PySide6.QtWidgets import QApplication

I18N_DIR = Path(__file__).resolve().parents[1] / "i18n"


def language_code(setting: str) -> str:
    """ "system" means the desktop's language (e.g. de_DE)."""
    return QLocale.system().name() if setting == "system" else setting


def install_translator(app: QApplication, setting: str, parent: QObject) -> QTranslator | None:
    """Install the best translation for ``setting``; None when English (or none exists)."""
    code = language_code(setting)
    if code.split("_")[0].split("-")[0] == "en":
        return None
    translator = QTranslator(parent)
    if translator.load(QLocale(code), "switchboard", "_", str(I18N_DIR)):
        app.installTranslator(translator)
        return translator
    return None
