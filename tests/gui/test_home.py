"""Every control of the Home page, against a real gateway (thread mode unless stated)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PySide6.QtGui import QGuiApplication

from app.desktop import Desktop
from app.pages.home import HomePage, format_cost
from app.pages.snippets import KEY_PLACEHOLDER
from gateway.config import commands
from gateway.observe.today import TodaySummary
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gui.support import DesktopFactory, click, get_status, open_box, refused, until, wait_box
from tests.support.gateway import basic_config, import_toml, with_context

Run = Callable[..., Any]
AGENTS = ("claude-code", "codex", "gemini-cli", "cursor", "cline", "opencode")


def home_of(desktop: Desktop) -> HomePage:
    assert desktop.window is not None
    page = desktop.window.page(HomePage.page_id)
    assert isinstance(page, HomePage)
    return page


async def opened(desktop: Desktop) -> HomePage:
    await desktop.open()
    assert await desktop.start()
    home = home_of(desktop)
    await until(lambda: home.endpoint_field.value() == desktop.service.endpoint, "the endpoint")
    return home


async def chat(endpoint: str, key: str, model: str, text: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{endpoint}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": model, "messages": [{"role": "user", "content": text}]},
        ) as response,
    ):
        await response.read()
        return response.status


def key_names(data_dir: Path) -> list[str]:
    return [k.name for k in with_context(data_dir, lambda ctx: ctx.store.state().api_keys)]


def test_endpoint_and_first_key_are_shown_and_copied(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        home = await opened(desktop)
        key = desktop.service.created_key
        assert key is not None and key.startswith("sk-sb-")
        await until(lambda: home.key_field.value() == key, "the key")
        assert home.key_field.isVisibleTo(home)
        home.endpoint_field.button.click()
        assert QGuiApplication.clipboard().text() == desktop.service.endpoint
        assert home.endpoint_field.button.text() == "Copied"
        home.key_field.button.click()
        assert QGuiApplication.clipboard().text() == key
        # The copied key really opens the gateway (no upstream: 4xx from routing, not 401).
        status = await chat(desktop.service.endpoint, key, "nowhere/model", "hi")
        assert status not in (401, 403)
        assert await chat(desktop.service.endpoint, "sk-sb-wrong", "nowhere/model", "hi") == 401

    run(scenario())


def test_without_a_known_key_the_page_offers_a_new_one(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    with_context(data_dir, lambda ctx: commands.create_key(ctx, "existing"))
    desktop = desktops.make()

    async def scenario() -> None:
        home = await opened(desktop)
        assert desktop.service.created_key is None
        assert not home.key_field.isVisibleTo(home)
        assert "cannot be shown again" in home.key_hint.text()
        assert home.new_key_button.isEnabled()
        assert KEY_PLACEHOLDER in home.snippet_text("claude-code")

    run(scenario())


def test_create_new_key_confirms_keeps_the_old_one_and_never_blocks(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        home = await opened(desktop)
        old = desktop.service.created_key
        assert old is not None
        home.new_key_button.click()
        box = await wait_box("create-key")
        assert "keep working unless you also revoke them" in box.informativeText()
        # The dialog is open and the loop still runs: the gateway answers meanwhile.
        assert await get_status(f"{desktop.service.endpoint}/health") == 200
        click(box, "Cancel")
        await until(lambda: open_box("create-key") is None, "the dialog to close")
        assert key_names(data_dir) == ["default"]

        home.new_key_button.click()
        click(await wait_box("create-key"), "Create key")
        await until(lambda: desktop.service.created_key != old, "the new key")
        new = desktop.service.created_key
        assert new is not None and new.startswith("sk-sb-")
        await until(lambda: home.key_field.value() == new, "the new key on the page")
        names = key_names(data_dir)
        assert len(names) == 2 and names[0] == "default" and names[1].startswith("desktop-")
        for key in (old, new):  # both valid
            assert await chat(desktop.service.endpoint, key, "nowhere/model", "hi") != 401
        await until(lambda: new in home.snippet_text("codex"), "the snippets with the new key")

    run(scenario())


@pytest.mark.parametrize("mode", ["thread", "shared"])
def test_the_switch_really_stops_and_starts_the_gateway(
    mode: str, desktops: DesktopFactory, run: Run
) -> None:
    desktop = desktops.make(mode)  # type: ignore[arg-type]

    async def scenario() -> None:
        home = await opened(desktop)
        health = f"{desktop.service.endpoint}/health"
        assert home.switch.isChecked() and home.status_label.text() == "Running"
        home.switch.click()
        await until(lambda: desktop.bridge.state == "stopped", "the gateway to stop")
        assert await refused(health)
        await until(lambda: home.status_label.text() == "Stopped", "the stopped status")
        assert not home.switch.isChecked()
        assert not home.new_key_button.isEnabled()
        home.switch.click()
        await until(lambda: desktop.bridge.state == "running", "the gateway to start")
        health = f"{desktop.service.endpoint}/health"
        assert await get_status(health) == 200
        await until(lambda: home.status_label.text() == "Running", "the running status")
        assert home.switch.isChecked()

    run(scenario())


def test_today_figures_follow_the_request_log(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        async with FakeOpenAI() as fake:
            import_toml(data_dir, basic_config(fake.base_url))
            home = await opened(desktop)
            assert (home.requests_value.text(), home.cost_value.text()) == ("0", "$0.00")
            endpoint, key = desktop.service.endpoint, "sk-sb-0123456789abcdef0123456789abcdef"
            # The fake counts words: 3 in ("one two three"), 4 out ("Echo: one two three").
            for _ in range(3):
                assert await chat(endpoint, key, "openai/gpt-6.2-sol", "one two three") == 200
            assert await chat(endpoint, key, "openai/unpriced-model", "one two three") == 200
            await desktop.service.flush_logs()
            expected = TodaySummary(4, 12, 16, round(3 * (3 * 2.0 + 4 * 10.0) / 1e6, 6), 1)
            await until(lambda: desktop.live.summary == expected, "today's figures")
            await until(lambda: home.requests_value.text() == "4", "the requests figure")
            assert home.tokens_value.text() == "28"
            assert home.cost_value.text() == format_cost(expected.cost_usd) == "< $0.01"
            assert home.unpriced_hint.text().startswith("1 requests used models without")

    run(scenario())


def test_snippets_carry_the_real_endpoint_key_and_a_model_the_user_has(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    import_toml(data_dir, basic_config("http://127.0.0.1:9/v1"))
    desktop = desktops.make()

    async def scenario() -> None:
        home = await opened(desktop)
        with_context(data_dir, lambda ctx: commands.create_key(ctx, "later"))
        endpoint = desktop.service.endpoint
        assert [home.snippet_tabs.tabText(i) for i in range(home.snippet_tabs.count())] == [
            "Claude Code",
            "Codex CLI",
            "Gemini CLI",
            "Cursor",
            "Cline",
            "OpenCode",
        ]
        await until(lambda: endpoint in home.snippet_text("cline"), "the snippets")
        texts = {agent: home.snippet_text(agent) for agent in AGENTS}
        assert f"export ANTHROPIC_BASE_URL={endpoint}\n" in texts["claude-code"]
        assert f'base_url = "{endpoint}/v1"' in texts["codex"]
        assert f"export GOOGLE_GEMINI_BASE_URL={endpoint}\n" in texts["gemini-cli"]
        assert f"Override OpenAI Base URL:  {endpoint}/v1\n" in texts["cursor"]
        assert f"Base URL:  {endpoint}/v1\n" in texts["cline"]
        assert f'"baseURL": "{endpoint}/v1"' in texts["opencode"]
        # No key was created at this start (the imported one exists): a placeholder.
        assert all(KEY_PLACEHOLDER in text for text in texts.values())
        # The model is one the user's connection serves (its first catalog model).
        assert "export ANTHROPIC_MODEL=openai/gpt-6.2-sol\n" in texts["claude-code"]
        for index, agent in enumerate(AGENTS):
            home.snippet_tabs.setCurrentIndex(index)
            assert home.snippet_view.toPlainText() == texts[agent]
            home.snippet_copy.click()
            assert QGuiApplication.clipboard().text() == texts[agent]
            assert home.snippet_where.text() != ""
            assert home.snippet_view.verticalScrollBar().maximum() == 0  # all of it shows

    run(scenario())


def test_repaints_are_coalesced(desktops: DesktopFactory, run: Run) -> None:
    desktop = desktops.make()
    calls: list[int] = []

    async def scenario() -> None:
        home = await opened(desktop)
        await until(lambda: not home._repaint.isActive(), "a quiet page")
        original = home.refresh
        home.refresh = lambda: (calls.append(1), original())  # type: ignore[method-assign]
        home._repaint.timeout.disconnect()
        home._repaint.timeout.connect(home.refresh)
        for _ in range(100):
            desktop.live.changed.emit()
        assert calls == []  # nothing repainted synchronously
        await until(lambda: calls == [1], "one repaint")
        assert not home._repaint.isActive()

    run(scenario())
