"""The desktop app's settings: declared with the others, validated, read while stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import commands
from gateway.config.settings import SettingError, coerce_setting
from gateway.config.snapshot import Settings
from gateway.service import GatewayService
from tests.support.gateway import with_context


def test_defaults() -> None:
    settings = Settings()
    assert (settings.start_minimized, settings.close_to_tray) == (False, True)
    assert (settings.theme, settings.language) == ("system", "system")


@pytest.mark.parametrize("value", ["system", "light", "dark"])
def test_themes(value: str) -> None:
    assert coerce_setting("theme", value) == value


def test_an_unknown_theme_is_refused() -> None:
    with pytest.raises(SettingError, match=r"settings.theme: must be one of system, light, dark"):
        coerce_setting("theme", "solarized")


@pytest.mark.parametrize("value", ["system", "en", "de", "pt_BR", "zh-Hant", "fil"])
def test_language_codes(value: str) -> None:
    assert coerce_setting("language", value) == value


@pytest.mark.parametrize("value", ["English", "e", "en US", "../../etc", ""])
def test_what_is_not_a_language_code(value: str) -> None:
    with pytest.raises(SettingError, match=r"settings.language: expected"):
        coerce_setting("language", value)


def test_read_settings_while_stopped(data_dir: Path) -> None:
    service = GatewayService(data_dir)
    assert service.read_settings() == Settings()  # no database yet: defaults
    assert not (data_dir / "switchboard.db").exists()  # and reading created none
    with_context(
        data_dir,
        lambda ctx: commands.set_settings(
            ctx, {"theme": "dark", "close_to_tray": False, "language": "de"}
        ),
    )
    stored = service.read_settings()
    assert (stored.theme, stored.close_to_tray, stored.language) == ("dark", False, "de")
