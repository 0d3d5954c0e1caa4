"""The desktop's notifications wiring: gateway events → the policy → the notifier the desktop
made, a failed start told once, clicks opening a page (Home for pages this build lacks), and
the notifier closed on quit. A recording notifier stands in for D-Bus (test_tray_xvfb.py
drives the real one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from app.notify import RecordingNotifier
from app.pages.about import AboutPage
from app.pages.home import HomePage
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gui.support import DesktopFactory, until, wait_box
from tests.support.gateway import CLIENT_KEY, basic_config, import_toml

Run = Callable[..., Any]
QUOTA = '[[quotas]]\nconnection = "primary"\nwindow = "5h"\nlimit = 10\nunit = "requests"\n'


async def chat(endpoint: str, http_post: Callable[..., Any]) -> int:
    async with http_post(
        f"{endpoint}/v1/chat/completions",
        headers={"Authorization": f"Bearer {CLIENT_KEY}"},
        json={"model": "openai/gpt-6.2-sol", "messages": [{"role": "user", "content": "hi"}]},
    ) as response:
        return int(response.status)


def test_a_real_quota_event_is_one_notification_and_its_click_opens_home(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        async with FakeOpenAI() as fake, aiohttp.ClientSession() as http:
            import_toml(data_dir, basic_config(fake.base_url) + QUOTA)
            await desktop.open()
            assert await desktop.start()
            (notifier,) = desktops.notifiers
            # 80 % at the 8th; the 9th is the same window: no new note. The forecast that the
            # burst earns at 40 % is off by default.
            for _ in range(9):
                assert await chat(desktop.service.endpoint, http.post) == 200
            await until(lambda: len(notifier.notes) == 1, "the quota notification")
            await desktop.service.flush_logs()
            (note,) = notifier.notes
            assert (note.kind, note.title, note.page_id) == (
                "quota_warning",
                "Quota almost used up",
                "usage",
            )
            # the tracker names the window after its connection: "primary", not "primary (primary)"
            assert note.body.startswith("primary: 5-hour window at 80 % — resets in ")
            assert desktop.window is not None
            desktop.window.show_page(AboutPage.page_id)
            notifier.click(note)  # no Usage page yet: Home
            assert desktop.window.current_page_id() == HomePage.page_id
            assert desktop.window.isVisible()
            assert await chat(desktop.service.endpoint, http.post) == 200  # the 10th: 100 %
            await until(lambda: len(notifier.notes) == 2, "the quota used up")
            assert notifier.notes[1].kind == "quota_exhausted"

    run(scenario())


def test_a_switched_off_kind_is_not_shown(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    desktop = desktops.make()

    async def scenario() -> None:
        async with FakeOpenAI() as fake, aiohttp.ClientSession() as http:
            import_toml(data_dir, basic_config(fake.base_url) + QUOTA)
            import_toml(data_dir, "[settings]\nnotify_quota_warning = false\n")
            await desktop.open()
            assert await desktop.start()
            (notifier,) = desktops.notifiers
            for _ in range(10):
                assert await chat(desktop.service.endpoint, http.post) == 200
            await until(lambda: len(notifier.notes) == 1, "the quota used-up note")
            assert [n.kind for n in notifier.notes] == ["quota_exhausted"]

    run(scenario())


def test_a_failed_start_is_told_and_quit_closes_the_notifier(
    desktops: DesktopFactory, data_dir: Path, run: Run
) -> None:
    import_toml(data_dir, '[settings]\nhost = "203.0.113.7"\n')  # not an address of this machine
    desktop = desktops.make()

    async def scenario() -> None:
        await desktop.open()
        assert await desktop.start() is False
        (notifier,) = desktops.notifiers
        box = await wait_box("")
        message = box.text()
        assert [(n.kind, n.title, n.body, n.page_id) for n in notifier.notes] == [
            ("gateway_failed", "Switchboard could not start", message, "home")
        ]
        box.close()
        assert await desktop.start() is False  # the same failure within a minute: no repeat
        assert len(notifier.notes) == 1
        desktop.quit()
        assert await desktop.closed() == 0
        assert isinstance(notifier, RecordingNotifier) and notifier.closed

    run(scenario())
