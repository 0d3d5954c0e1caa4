"""The settings table and the typed Settings agree, and the desktop switches read as declared."""

from __future__ import annotations

import dataclasses

from gateway.config.settings import NOTIFICATION_KINDS, SETTINGS, defaults
from gateway.config.snapshot import Settings


def test_every_declared_setting_is_a_settings_field_with_its_default() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(Settings)}
    assert fields == defaults()
    assert len(fields) == len(SETTINGS)  # no name declared twice


def test_each_notification_kind_has_its_switch_and_start_at_login_is_off() -> None:
    assert list(NOTIFICATION_KINDS) == [
        "quota_warning",
        "quota_exhausted",
        "quota_reset",
        "quota_forecast",
        "budget_crossed",
        "provider_down",
        "provider_recovered",
        "login_needed",
        "gateway_failed",
    ]
    settings = Settings.from_stored({"notify_provider_down": "false", "start_at_login": "yes"})
    switches = {kind: getattr(settings, f"notify_{kind}") for kind in NOTIFICATION_KINDS}
    off = {"provider_down", "quota_forecast"}  # switched off, and off by default
    assert switches == {kind: kind not in off for kind in NOTIFICATION_KINDS}
    assert settings.start_at_login is True
    assert Settings().start_at_login is False
