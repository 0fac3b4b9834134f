"""Icons drawn from quota: the tray icon (a ring with the number left) and small gauges for menu rows.

Both read on light and dark panels: the ring sits on a dark disc with a light rim, like the app icon.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap

OK = QColor("#2fbf71")
LOW = QColor("#f2a93b")
CRITICAL = QColor("#ef4444")
UNKNOWN = QColor("#9ca3af")
DISC = QColor("#1f2933")
RIM = QColor("#e5e7eb")


def level_color(remaining: float | None, thresholds: tuple[float, ...]) -> QColor:
    """Green above every threshold, amber below the highest one, red below the lowest one."""
    if remaining is None:
        return UNKNOWN
    if thresholds and remaining <= min(thresholds):
        return CRITICAL
    if thresholds and remaining <= max(thresholds):
        return LOW
    return OK


def tray_icon(remaining: float | None, thresholds: tuple[float, ...], stale: bool = False, size: int = 64) -> QIcon:
    """A ring filled to what is left, the number in the middle; dimmed when the data is stale."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if stale:
        painter.setOpacity(0.45)
    margin = size * 0.04
    disc = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    painter.setPen(QPen(RIM, size * 0.04))
    painter.setBrush(DISC)
    painter.drawEllipse(disc)

    ring_width = size * 0.13
    ring = disc.adjusted(ring_width, ring_width, -ring_width, -ring_width)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(_flat_pen(QColor(255, 255, 255, 50), ring_width))
    painter.drawEllipse(ring)
    color = level_color(remaining, thresholds)
    if remaining is not None and remaining > 0:
        painter.setPen(_flat_pen(color, ring_width))
        painter.drawArc(ring, 90 * 16, -round(360 * 16 * min(remaining, 100) / 100))

    text = "?" if remaining is None else str(round(remaining)) if remaining < 100 else "✓"
    font = QFont()
    font.setBold(True)
    font.setPixelSize(round(size * (0.36 if len(text) < 2 else 0.3)))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(disc, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)


def gauge_icon(remaining: float | None, thresholds: tuple[float, ...], size: int = 16) -> QIcon:
    """A small pie of what is left, for a window's row in the menu."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    bounds = QRectF(1, 1, size - 2, size - 2)
    painter.setPen(QPen(UNKNOWN, 1))
    painter.setBrush(QColor(156, 163, 175, 60))
    painter.drawEllipse(bounds)
    if remaining is not None and remaining > 0:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(level_color(remaining, thresholds))
        painter.drawPie(bounds, 90 * 16, -round(360 * 16 * min(remaining, 100) / 100))
    painter.end()
    return QIcon(pixmap)


def _flat_pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen
