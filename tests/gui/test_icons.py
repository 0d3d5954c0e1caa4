"""The app and tray icons: rendered from their SVG sources at every size, opaque where they
should be, legible on light and dark panels, and told apart without colour."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from app.icons import SIZES, TRAY_STATES, IconError, app_icon, render, tray_icon
from gateway.resources import RESOURCES_ENV
from tests.support.icon_sheet import NAMES, icon_sheet

LIGHT_PANEL, DARK_PANEL = QColor("#f2f2f2"), QColor("#2b2b2b")


def luminance(color: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in (color.redF(), color.greenF(), color.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def grey(image: QImage) -> list[int]:
    """Each pixel's grey level (alpha-weighted): what is left without colour."""
    return [
        round(QColor.fromRgba(image.pixel(x, y)).lightness() * image.pixelColor(x, y).alphaF())
        for y in range(image.height())
        for x in range(image.width())
    ]


def test_every_icon_has_a_pixmap_drawn_at_each_size(qapp: object) -> None:
    icons = [app_icon(), *(tray_icon(state) for state in TRAY_STATES)]
    for icon in icons:
        assert sorted(s.width() for s in icon.availableSizes()) == list(SIZES)
        for size in (16, 22, 24, 64):
            assert icon.pixmap(size, size).width() == size
    assert app_icon() is app_icon()  # rendered once


@pytest.mark.parametrize("name", NAMES)
def test_the_tile_is_opaque_with_rounded_corners_and_a_dark_edge(qapp: object, name: str) -> None:
    image = render(name, 16)
    corners = [image.pixelColor(x, y).alpha() for x in (0, 15) for y in (0, 15)]
    assert corners == [0, 0, 0, 0]
    assert image.pixelColor(8, 1).alpha() == 255 and image.pixelColor(1, 8).alpha() == 255
    edge = image.pixelColor(8, 0)
    fill = image.pixelColor(2, 13)  # tile colour, clear of the glyph and the badges
    assert contrast(edge, LIGHT_PANEL) > 10  # the edge carries it on a light panel...
    assert contrast(fill, DARK_PANEL) > 2.5  # ...the fill on a dark one


def test_the_states_differ_in_shape_not_only_in_colour(qapp: object) -> None:
    for size in (16, 22, 64):
        images = {state: grey(render(f"tray-{state}", size)) for state in TRAY_STATES}
        for a, b in itertools.combinations(TRAY_STATES, 2):
            differing = sum(p != q for p, q in zip(images[a], images[b], strict=True))
            assert differing >= size * size // 16, (size, a, b, differing)


def test_unknown_states_and_broken_sources_are_refused(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="unknown tray state 'busy'"):
        tray_icon("busy")  # type: ignore[arg-type]
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "switchboard.svg").write_text("<svg", encoding="utf-8")
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    with pytest.raises(IconError, match=r"switchboard\.svg: missing or not a valid SVG"):
        render("switchboard", 16)


def test_the_contact_sheet_renders(qapp: object, tmp_path: Path) -> None:
    sheet = icon_sheet()
    assert (sheet.width(), sheet.height()) == (8 + 72 * 5, 8 + 72 * 10)
    assert sheet.save(str(tmp_path / "icons.png"))
