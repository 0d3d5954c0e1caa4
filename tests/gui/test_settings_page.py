"""The Settings page against a real gateway: every control is stored, Revert, inline
validation, moving the gateway to a new port (and back when that fails), live theme,
persistence across a restart, start at login."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from app.desktop import Desktop
from app.pages.setting_fields import SettingField, Value
from app.pages.settings import SettingsPage, notification_settings, sections
from app.pages.settings_apply import Outcome
from app.window.widgets import Switch
from gateway.config.settings import SETTINGS, SETTINGS_BY_NAME
from gateway.config.snapshot import Settings
from tests.gui.support import DesktopFactory, get_status, refused, until

Run = Callable[..., Any]
NETWORK = ("host", "port")
DARK_WINDOW = "#202124"  # app/theme.py's dark Window colour


def page_of(desktop: Desktop) -> SettingsPage:
    assert desktop.window is not None
    page = desktop.window.page(SettingsPage.page_id)
    assert isinstance(page, SettingsPage)
    return page


async def opened(desktop: Desktop) -> SettingsPage:
    await desktop.open()
    assert await desktop.start()
    page = page_of(desktop)
    await page.reload()
    return page


async def stored(desktop: Desktop) -> Settings:
    return await asyncio.to_thread(desktop.service.read_settings)


async def apply(page: SettingsPage) -> Outcome:
    """Click Apply and wait for its outcome."""
    before = page.last_outcome
    assert page.apply_button.isEnabled()
    page.apply_button.click()
    await until(lambda: page.last_outcome is not before, "the outcome of Apply")
    assert page.last_outcome is not None
    return page.last_outcome


def change(field: SettingField) -> Value:
    """Change the field through its widget, as a user would; returns the new value."""
    editor = field.editor
    if isinstance(editor, Switch):
        editor.click()
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        index = (editor.currentIndex() + 1) % editor.count()
        editor.setCurrentIndex(index)
        value: Value = editor.itemData(index)
        return value
    if isinstance(editor, QSpinBox | QDoubleSpinBox):
        target = (
            editor.minimum() + 7 if editor.value() != editor.minimum() + 7 else editor.maximum()
        )
        editor.setValue(target)
        return editor.value()
    raise AssertionError(f"no way to change {field.name} ({type(editor).__name__})")


def type_into(field: SettingField, text: str) -> None:
    editor = field.editor
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    editor.insert(text)  # emits textEdited, like typing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_sections_hold_every_desktop_setting_once() -> None:
    names = [name for _, group in sections() for name in group]
    assert len(names) == len(set(names))
    assert names[:3] == ["port", "host", "require_api_key"]
    for name in ("start_minimized", "close_to_tray", "theme", "language", "log_retention_days"):
        assert name in names
    assert set(notification_settings()) == {
        spec.name for spec in SETTINGS if spec.name.startswith("notify_")
    }
    assert all(name in SETTINGS_BY_NAME for name in names)


def test_every_control_changes_the_stored_setting(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        assert not page.apply_button.isEnabled() and not page.revert_button.isEnabled()
        expected = {
            name: change(field) for name, field in page.fields.items() if name not in NETWORK
        }
        assert expected["language"] == "en" and expected["theme"] == "light"
        assert page.apply_button.isEnabled() and page.status.text() == "Unsaved changes."
        outcome = await apply(page)
        assert outcome.ok and outcome.written == expected and not outcome.restarted
        assert page.status.text() == "Saved. The language changes when Switchboard restarts."
        settings = await stored(desktop)
        for name, value in expected.items():
            assert getattr(settings, name) == value, name
        assert not page.is_dirty() and not page.apply_button.isEnabled()
        # The running gateway took them too (the page wrote through it, then it reloaded).
        assert desktop.service.snapshot.settings == settings

    run(scenario())


def test_revert_restores_the_stored_values_and_writes_nothing(
    desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        before = await stored(desktop)
        shown = {name: field.raw_value() for name, field in page.fields.items()}
        for name, field in page.fields.items():
            if name not in NETWORK:
                change(field)
        type_into(page.fields["port"], "70000")  # even an invalid value
        page.revert_button.click()
        assert {name: field.raw_value() for name, field in page.fields.items()} == shown
        assert not page.is_dirty()
        assert not page.apply_button.isEnabled() and not page.revert_button.isEnabled()
        assert page.status.text() == ""
        assert await stored(desktop) == before

    run(scenario())


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("port", "70000", "Must be at most 65535, got 70000"),
        ("port", "0", "Must be at least 1, got 0"),
        ("port", "http", "Expected an integer, got 'http'"),
        ("host", "", "Expected a non-empty string, got ''"),
        ("host", "no-such-host.invalid", "Cannot listen on no-such-host.invalid:"),
    ],
)
def test_an_invalid_port_or_host_shows_the_error_inline_and_writes_nothing(
    name: str, text: str, message: str, desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        before = await stored(desktop)
        endpoint = desktop.service.endpoint
        change(page.fields["start_minimized"])  # a valid change in the same Apply
        type_into(page.fields[name], text)
        outcome = await apply(page)
        assert list(outcome.errors) == [name] and not outcome.written
        error = page.fields[name].error
        assert error.isVisibleTo(page) and error.text().startswith(message)
        assert page.status.text() == "Some settings were not applied: see the messages above."
        assert page.fields[name].editor.hasFocus() or not page.isActiveWindow()
        assert await stored(desktop) == before
        assert desktop.service.endpoint == endpoint
        assert await get_status(f"{endpoint}/health") == 200
        # Editing the field again clears its error.
        type_into(page.fields[name], "1")
        assert not error.isVisibleTo(page)

    run(scenario())


def test_a_network_address_without_keys_is_refused_inline(
    desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        before = await stored(desktop)
        page.fields["require_api_key"].editor.click()
        type_into(page.fields["host"], "0.0.0.0")
        outcome = await apply(page)
        assert list(outcome.errors) == ["host"]
        assert page.fields["host"].error.text() == (
            "Binding to 0.0.0.0 (reachable from the network) requires client API keys: set "
            "require_api_key = true, or bind to 127.0.0.1."
        )
        assert await stored(desktop) == before

    run(scenario())


@pytest.mark.parametrize("mode", ["thread", "shared"])
def test_applying_a_new_port_really_moves_the_gateway(
    mode: str, desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make(mode)  # type: ignore[arg-type]

    async def scenario() -> None:
        page = await opened(desktop)
        old = desktop.service.endpoint
        new_port = free_port()
        type_into(page.fields["port"], str(new_port))
        outcome = await apply(page)
        assert outcome.ok and outcome.restarted and outcome.written == {"port": new_port}
        new = f"http://127.0.0.1:{new_port}"
        assert desktop.service.endpoint == new and desktop.bridge.state == "running"
        assert page.status.text() == f"Saved. The gateway now listens on {new}."
        assert await get_status(f"{new}/health") == 200
        assert await refused(f"{old}/health")
        assert (await stored(desktop)).port == new_port
        assert page.fields["port"].loaded == new_port and not page.is_dirty()

    run(scenario())


def test_a_port_in_use_is_reported_and_the_gateway_stays_where_it_was(
    taken_port: int, desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        endpoint = desktop.service.endpoint
        before = await stored(desktop)
        type_into(page.fields["port"], str(taken_port))
        outcome = await apply(page)
        assert not outcome.restarted and not outcome.written
        assert page.fields["port"].error.text() == (
            f"Cannot listen on 127.0.0.1:{taken_port}: Address already in use. Switchboard "
            f"keeps running on {endpoint}."
        )
        assert desktop.service.endpoint == endpoint and desktop.bridge.state == "running"
        assert await get_status(f"{endpoint}/health") == 200
        assert await stored(desktop) == before
        assert page.fields["port"].raw_value() == str(taken_port)  # kept, to correct it

    run(scenario())


def test_when_starting_on_the_new_port_fails_the_gateway_goes_back_to_the_old_one(
    taken_port: int, desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        page.applier.probe = lambda host, port: None  # the port is taken after the check
        old_port = desktop.service.port
        before = await stored(desktop)
        change(page.fields["close_to_tray"])
        type_into(page.fields["port"], str(taken_port))
        outcome = await apply(page)
        assert not outcome.restarted and outcome.written == {"close_to_tray": False}
        endpoint = f"http://127.0.0.1:{old_port}"
        assert page.fields["port"].error.text() == (
            f"Could not listen on 127.0.0.1:{taken_port}: another program uses that port. "
            f"Switchboard is running on {endpoint} again."
        )
        assert desktop.bridge.state == "running" and desktop.service.endpoint == endpoint
        assert await get_status(f"{endpoint}/health") == 200
        after = await stored(desktop)
        assert after.port == before.port and after.close_to_tray is False

    run(scenario())


def test_theme_applies_live(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    def window_colour() -> str:
        return QApplication.palette().color(QPalette.ColorRole.Window).name()

    async def scenario() -> None:
        page = await opened(desktop)
        theme = page.fields["theme"].editor
        assert isinstance(theme, QComboBox)
        theme.setCurrentIndex(theme.findData("dark"))
        assert (await apply(page)).ok
        assert window_colour() == DARK_WINDOW and desktop.theme.dark
        theme.setCurrentIndex(theme.findData("light"))
        assert (await apply(page)).ok
        assert window_colour() != DARK_WINDOW and not desktop.theme.dark

    run(scenario())


def test_settings_persist_across_a_restart(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    first = desktops.make()
    port = free_port()

    async def scenario() -> None:
        page = await opened(first)
        type_into(page.fields["port"], str(port))
        page.fields["close_to_tray"].editor.click()
        retention = page.fields["log_retention_days"].editor
        assert isinstance(retention, QSpinBox)
        retention.setValue(90)
        theme = page.fields["theme"].editor
        assert isinstance(theme, QComboBox)
        theme.setCurrentIndex(theme.findData("dark"))
        assert (await apply(page)).ok
        first.quit()
        await first.closed()

        second = desktops.make(port=None)  # no --port: the stored one
        page = await opened(second)
        assert second.service.port == port
        assert await get_status(f"http://127.0.0.1:{port}/health") == 200
        assert page.fields["port"].raw_value() == str(port)
        assert page.fields["close_to_tray"].raw_value() is False
        assert page.fields["log_retention_days"].raw_value() == 90
        assert page.fields["theme"].raw_value() == "dark" and second.theme.dark
        assert not page.is_dirty()

    run(scenario())


def test_the_data_folder_is_shown_and_opened(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        opened_urls: list[QUrl] = []
        page.open_url = opened_urls.append
        assert page.data_path.text() == str(data_dir) and page.data_path.isReadOnly()
        page.open_data_button.click()
        assert opened_urls == [QUrl.fromLocalFile(str(data_dir))]

    run(scenario())


def test_keyboard_tab_order_and_mnemonics(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        page = await opened(desktop)
        chain = [field.editor for field in page.fields.values()]
        chain += [page.data_path, page.open_data_button, page.revert_button, page.apply_button]
        for first, second in itertools.pairwise(chain):
            assert next_tab_stop(first) is second, (first.objectName(), second.objectName())
        mnemonics = [
            field.label.text() for field in page.fields.values() if "&" in field.label.text()
        ]
        mnemonics += [page.apply_button.text(), page.revert_button.text()]
        mnemonics += [page.open_data_button.text()]
        letters = [text[text.index("&") + 1].lower() for text in mnemonics]
        assert len(letters) == len(set(letters)), letters
        assert letters[:3] == ["p", "b", "k"] and {"a", "r", "o"} <= set(letters)
        for field in page.fields.values():
            assert field.label.buddy() is field.editor

    run(scenario())


def next_tab_stop(widget: QWidget) -> QWidget:
    """Where Tab goes from ``widget``: the next widget in the chain that takes Tab focus
    (labels and a spin box's own line edit are in the chain but not stops)."""
    current = widget.nextInFocusChain()
    while not (current.focusPolicy() & Qt.FocusPolicy.TabFocus) or current.parent() is widget:
        current = current.nextInFocusChain()
    return current


def test_start_at_login_writes_and_removes_the_autostart_entry(
    desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make()
    entry = Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "switchboard.desktop"

    async def scenario() -> None:
        page = await opened(desktop)
        if "start_at_login" not in SETTINGS_BY_NAME:
            # This build declares no start_at_login setting: the page shows no such switch.
            assert "start_at_login" not in page.fields
            return
        switch = page.fields["start_at_login"].editor
        switch.click()
        assert (await apply(page)).written == {"start_at_login": True}
        assert entry.is_file() and "Exec=" in entry.read_text(encoding="utf-8")
        assert dataclasses.asdict(await stored(desktop))["start_at_login"] is True
        switch.click()
        assert (await apply(page)).written == {"start_at_login": False}
        assert not entry.exists()

    run(scenario())
