"""The tray icon's digits must be readable: at every size a tray uses, on light and dark panels, fresh or
stale, the digits' colour against the badge's face has a WCAG contrast ratio of at least 4.5:1, measured on
the pixels actually rendered (not on the colours the code meant to use). Staleness is a hollow badge, not a
dimmed number, and the level colours follow the thresholds."""

from __future__ import annotations

import math
import statistics

import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.quota_icons import LEVEL_COLORS, tray_icon

SIZES = (16, 22, 24, 32)
PANELS = {"light": QColor("#f0f0f0"), "dark": QColor("#202124")}
THRESHOLDS = (50.0, 20.0)
CASES = [(85.0, False), (95.0, False), (35.0, False), (8.0, False), (100.0, False), (None, False),
         (62.0, True), (8.0, True)]


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0–255 channels)."""
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = rgb
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def rendered(remaining: float | None, stale: bool, size: int, panel: QColor) -> QImage:
    """The icon as the tray shows it: the QIcon asked for `size`, painted over the panel's colour."""
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(panel)
    painter = QPainter(image)
    painter.drawPixmap(0, 0, tray_icon(remaining, THRESHOLDS, stale=stale).pixmap(size, size))
    painter.end()
    return image


def pixel(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    color = QColor(image.pixel(x, y))
    return color.red(), color.green(), color.blue()


def face_and_ink(image: QImage) -> tuple[list[tuple[int, int, int, float]], list[tuple[int, int, int, float]]]:
    """The badge's inside (rim excluded) split by luminance (Otsu's threshold) into face and ink: the ink
    is the smaller group. Each entry is (x, y, distance from the face's luminance, luminance)."""
    size = image.width()
    rim = max(2, round(size * 0.12))
    points = [(x, y, luminance(pixel(image, x, y))) for y in range(rim, size - rim) for x in range(rim, size - rim)]
    values = sorted(p[2] for p in points)
    best, threshold = -1.0, values[0]
    for candidate in values:
        low = [v for v in values if v <= candidate]
        high = [v for v in values if v > candidate]
        if not low or not high:
            continue
        between = len(low) * len(high) * (statistics.fmean(low) - statistics.fmean(high)) ** 2
        if between > best:
            best, threshold = between, candidate
    dark = [p for p in points if p[2] <= threshold]
    light = [p for p in points if p[2] > threshold]
    face, ink = (dark, light) if len(dark) >= len(light) else (light, dark)
    face_lum = statistics.median(p[2] for p in face)
    return ([(x, y, abs(v - face_lum), v) for x, y, v in face], [(x, y, abs(v - face_lum), v) for x, y, v in ink])


@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("remaining,stale", CASES)
def test_digits_have_at_least_4_5_to_1_contrast_with_their_face(qapp, panel: str, size: int,
                                                                 remaining: float | None, stale: bool) -> None:
    image = rendered(remaining, stale, size, PANELS[panel])
    face, ink = face_and_ink(image)
    face_lum = statistics.median(p[3] for p in face)
    # The solid middle of the strokes (the most distinct half of the ink pixels), not the anti-aliased edges.
    core = sorted(ink, key=lambda p: p[2])[len(ink) // 2:]
    ink_lum = statistics.median(p[3] for p in core)
    assert contrast(face_lum, ink_lum) >= 4.5
    inner = (image.width() - 2 * max(2, round(size * 0.12))) ** 2
    assert len(core) >= 0.06 * inner  # solid strokes, not hairlines


@pytest.mark.parametrize("size", SIZES)
def test_two_digits_fill_most_of_the_height(qapp, size: int) -> None:
    image = rendered(85.0, False, size, PANELS["light"])
    _, ink = face_and_ink(image)
    rows = {y for x, y, distance, _ in ink if distance > 0.1}
    assert max(rows) - min(rows) + 1 >= 0.55 * size  # ~9 px digits at 16 px, where a plain 16 px font gave ~6


@pytest.mark.parametrize("size", SIZES)
def test_85_and_95_read_differently(qapp, size: int) -> None:
    assert rendered(85.0, False, size, PANELS["dark"]) != rendered(95.0, False, size, PANELS["dark"])


@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize("size", SIZES)
def test_the_badge_stands_out_from_the_panel(qapp, panel: str, size: int) -> None:
    for remaining, stale in CASES:
        image = rendered(remaining, stale, size, PANELS[panel])
        edge = pixel(image, size // 2, 0)  # the middle of the top edge: the face, or the stale ring
        panel_rgb = PANELS[panel].red(), PANELS[panel].green(), PANELS[panel].blue()
        assert contrast(luminance(edge), luminance(panel_rgb)) >= 1.5


@pytest.mark.parametrize("remaining,level", [(85.0, "ok"), (50.0, "low"), (35.0, "low"), (20.0, "critical"),
                                             (3.0, "critical"), (None, "unknown")])
def test_the_colour_follows_the_thresholds(qapp, remaining: float | None, level: str) -> None:
    image = rendered(remaining, False, 32, PANELS["light"])
    assert QColor(image.pixel(16, 2)) == LEVEL_COLORS[level]  # the face just inside the top edge


@pytest.mark.parametrize("size", SIZES)
def test_stale_data_is_a_hollow_badge_with_the_number_still_at_full_contrast(qapp, size: int) -> None:
    fresh = rendered(62.0, False, size, PANELS["light"])
    stale = rendered(62.0, True, size, PANELS["light"])
    assert QColor(stale.pixel(size // 2, 0)) == LEVEL_COLORS["ok"]  # the ring keeps the level colour
    just_inside = math.ceil(max(1.5, size * 0.1))  # the first row under the ring
    assert QColor(fresh.pixel(size // 2, just_inside)) == LEVEL_COLORS["ok"]
    assert luminance(pixel(stale, size // 2, just_inside)) < 0.02  # hollow: a dark face inside the ring


def test_every_tray_size_is_drawn_for_its_own_grid(qapp) -> None:
    icon = tray_icon(42.0, THRESHOLDS)
    assert {size.width() for size in icon.availableSizes()} >= set(SIZES)
    assert icon.pixmap(16, 16).size().width() == 16
