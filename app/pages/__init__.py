"""The page registry: the sidebar shows exactly these pages, in this order.

A page subclasses app.pages.base.Page (a QWidget with class attributes ``page_id`` and
``icon``, a classmethod ``title()`` that is translated), constructed as
``Page(bridge, parent=None)``. Adding a page is one module plus one line here.
"""

from __future__ import annotations

from app.pages.about import AboutPage
from app.pages.base import Page
from app.pages.home import HomePage
from app.pages.settings import SettingsPage

PAGES: list[tuple[str, type[Page]]] = [
    (HomePage.page_id, HomePage),
    (SettingsPage.page_id, SettingsPage),
    (AboutPage.page_id, AboutPage),
]
