"""The tray icon drawn from quota: a rounded badge with the number left, legible from 16 px up.

Fresh data: a solid badge in the level's colour (green, amber, red) with near-black digits. Stale data: a
hollow badge — a ring in the level's colour around a dark face — with white digits. Either way the digits
keep full contrast (WCAG ≥ 4.5:1 against their face); staleness is the hollow ring, never a greyed number.
Each size is drawn on its own pixel grid, so 16 px gets digits as tall as 16 px allows.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPainterPathStroker, QPen, QPixmap, QTransform

from core.quota.cards import Level, level

ICON_SIZES = (16, 22, 24, 32, 48, 64)
LEVEL_COLORS: dict[Level, QColor] = {
    "ok": QColor("#2fbf71"), "low": QColor("#f2a93b"), "critical": QColor("#ef4444"), "unknown": QColor("#9ca3af"),
}
INK = QColor("#111418")         # digits on a solid badge; also the face of a hollow one
PAPER = QColor("#ffffff")       # digits on a hollow badge
MAX_CONDENSE = 1.45             # digits may be drawn up to this much taller than wide, never more


def level_color(remaining: float | None, thresholds: tuple[float, ...]) -> QColor:
    return LEVEL_COLORS[level(remaining, thresholds)]


def badge_text(remaining: float | None) -> str:
    """What the badge says: the rounded % left, "?" when unknown; a full quota gets a check mark ("")."""
    if remaining is None:
        return "?"
    rounded = round(remaining)
    return "" if rounded >= 100 else str(rounded)


def badge_pixmap(remaining: float | None, thresholds: tuple[float, ...], stale: bool, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = level_color(remaining, thresholds)
    radius = size * 0.22
    if stale:
        ring = max(1.5, size * 0.1)
        face = QRectF(ring / 2, ring / 2, size - ring, size - ring)
        painter.setPen(QPen(color, ring))
        painter.setBrush(INK)
        painter.drawRoundedRect(face, radius, radius)
        ink, inset = PAPER, ring
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(0, 0, size, size), radius, radius)
        ink, inset = INK, max(1.0, size * 0.06)
    text = badge_text(remaining)
    box = QRectF(inset, inset, size - 2 * inset, size - 2 * inset)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(ink)
    painter.drawPath(_check_path(box) if not text else _text_path(text, box, size))
    painter.end()
    return pixmap


def tray_icon(remaining: float | None, thresholds: tuple[float, ...], stale: bool = False) -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(badge_pixmap(remaining, thresholds, stale, size))
    return icon


def _text_path(text: str, box: QRectF, size: int) -> QPainterPath:
    """The digits as a filled outline scaled to fill the box: as tall as fits, condensed (within limits)
    when two digits would otherwise be too wide — a bold 16 px font alone would give ~7 px digits."""
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(100)  # drawn large, then scaled: the outline keeps its shape at any size
    path = QPainterPath()
    path.addText(0, 0, font, text)
    bounds = path.boundingRect()
    height = box.height() * (0.78 if size < 24 else 0.7)
    scale_y = height / bounds.height()
    scale_x = min(box.width() / bounds.width(), scale_y)
    scale_y = min(scale_y, scale_x * MAX_CONDENSE)
    transform = QTransform()
    transform.translate(box.center().x(), box.center().y())
    transform.scale(scale_x, scale_y)
    transform.translate(-bounds.center().x(), -bounds.center().y())
    return transform.map(path)


def _check_path(box: QRectF) -> QPainterPath:
    """A check mark for a full quota (a glyph might be missing from the font; a path never is)."""
    line = QPainterPath()
    line.moveTo(box.left() + box.width() * 0.2, box.top() + box.height() * 0.52)
    line.lineTo(box.left() + box.width() * 0.42, box.top() + box.height() * 0.74)
    line.lineTo(box.left() + box.width() * 0.8, box.top() + box.height() * 0.28)
    stroker = QPainterPathStroker()
    stroker.setWidth(max(2.0, box.width() * 0.16))
    stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
    stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return stroker.createStroke(line)
