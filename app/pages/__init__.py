"""The page registry: the sidebar shows exactly these pages, in this order.

A page is a QWidget subclass with class attributes ``page_id`` and ``icon`` (an icon name), a
classmethod ``title()`` (translated), constructed as ``Page(bridge, parent=None)``. Adding a
page is one module plus one line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from PySide6.QtWidgets import QWidget

from app.pages.about import AboutPage
from app.pages.home import HomePage
from app.pages.settings import SettingsPage

if TYPE_CHECKING:
    from app.bridge import GatewayBridge


class PageFactory(Protocol):
    page_id: ClassVar[str]
    icon: ClassVar[str]

    @classmethod
    def title(cls) -> str: ...

    def __call__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> QWidget: ...


PAGES: list[tuple[str, PageFactory]] = [
    (HomePage.page_id, HomePage),
    (SettingsPage.page_id, SettingsPage),
    (AboutPage.page_id, AboutPage),
]
