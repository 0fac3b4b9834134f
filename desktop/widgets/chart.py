"""A time-series chart drawn with QPainter (QtCharts is not part of PySide6-Essentials).

Uniform time buckets on the x axis; each series is bars or a line on the left or right value axis, so two
quantities of different scale (requests and cost, or used percent and a limit) share one chart. Hovering
shows a bucket's values. Used by the dashboard; meant for the quota history as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Literal, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from core.i18n import tr

Axis = Literal["left", "right"]
_TICKS = 4


def _plain(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: Sequence[float | None]  # one per bucket; None leaves a gap in a line
    color: str
    style: Literal["bars", "line"] = "bars"
    axis: Axis = "left"
    format: Callable[[float], str] = _plain
    describe: Callable[[float], str] | None = None  # the hover text of a value, when it says more than `format`


def nice_ceiling(value: float, ticks: int = _TICKS) -> float:
    """The smallest 'round' axis maximum >= value that splits into `ticks` round steps."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * ticks >= value - 1e-12:
            return step * ticks
    return 10 * magnitude * ticks


def bucket_label(start: float, bucket_seconds: float) -> str:
    moment = datetime.fromtimestamp(start)
    if bucket_seconds >= 86400:
        return moment.strftime(tr("%b %d"))
    if moment.hour == 0 and moment.minute == 0:
        return moment.strftime(tr("%b %d"))
    return moment.strftime("%H:%M")


class TimeSeriesChart(QWidget):
    def __init__(self, parent: QWidget | None = None, empty_text: str | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.empty_text = tr("No data yet.") if empty_text is None else empty_text
        self.starts: list[float] = []
        self.bucket_seconds = 3600.0
        self.series: list[ChartSeries] = []
        self._fixed_range: dict[Axis, float | None] = {"left": None, "right": None}
        self._hover: int | None = None

    # -- data --------------------------------------------------------------------------------------
    def set_data(self, starts: Sequence[float], bucket_seconds: float, series: Sequence[ChartSeries]) -> None:
        for one in series:
            if len(one.values) != len(starts):
                raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(starts)} buckets")
        self.starts = list(starts)
        self.bucket_seconds = float(bucket_seconds)
        self.series = list(series)
        self._hover = None
        self.update()

    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self.update()

    def set_axis_maximum(self, axis: Axis, maximum: float | None) -> None:
        """Fix an axis' top (e.g. 100 for percentages); None scales it to the data."""
        self._fixed_range[axis] = maximum
        self.update()

    def has_data(self) -> bool:
        return any(v for one in self.series for v in one.values if v)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 200)

    # -- geometry ----------------------------------------------------------------------------------
    def _axis_max(self, axis: Axis) -> float:
        fixed = self._fixed_range[axis]
        if fixed is not None:
            return fixed
        values = [v for one in self.series if one.axis == axis for v in one.values if v is not None]
        return nice_ceiling(max(values, default=0.0))

    def _axis_format(self, axis: Axis) -> Callable[[float], str]:
        return next((one.format for one in self.series if one.axis == axis), _plain)

    def _has_axis(self, axis: Axis) -> bool:
        return any(one.axis == axis for one in self.series)

    def _plot_rect(self) -> QRectF:
        metrics = self.fontMetrics()
        left_w = right_w = 8.0
        for axis in ("left", "right"):
            if self._has_axis(axis):  # type: ignore[arg-type]
                top = self._axis_max(axis)  # type: ignore[arg-type]
                fmt = self._axis_format(axis)  # type: ignore[arg-type]
                widest = max(metrics.horizontalAdvance(fmt(top * i / _TICKS)) for i in range(_TICKS + 1))
                if axis == "left":
                    left_w = widest + 10
                else:
                    right_w = widest + 10
        legend_h = metrics.height() + 10
        bottom_h = metrics.height() + 8
        return QRectF(left_w, legend_h, max(10.0, self.width() - left_w - right_w),
                      max(10.0, self.height() - legend_h - bottom_h))

    def bucket_at(self, x: float) -> int | None:
        if not self.starts:
            return None
        plot = self._plot_rect()
        if not plot.left() <= x <= plot.right():
            return None
        index = int((x - plot.left()) / (plot.width() / len(self.starts)))
        return min(index, len(self.starts) - 1)

    # -- painting ----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        muted = QColor(text_color)
        muted.setAlpha(150)
        if not self.starts or not self.has_data():
            painter.setPen(muted)
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
            painter.end()
            return
        plot = self._plot_rect()
        self._draw_legend(painter, text_color)
        self._draw_grid(painter, plot, muted)
        slot = plot.width() / len(self.starts)
        if self._hover is not None:
            highlight = QColor(text_color)
            highlight.setAlpha(22)
            painter.fillRect(QRectF(plot.left() + self._hover * slot, plot.top(), slot, plot.height()), highlight)
        bars = [one for one in self.series if one.style == "bars"]
        for position, one in enumerate(bars):
            self._draw_bars(painter, plot, one, position, len(bars))
        for one in self.series:
            if one.style == "line":
                self._draw_line(painter, plot, one)
        self._draw_x_labels(painter, plot, muted)
        painter.end()

    def _y(self, plot: QRectF, value: float, axis: Axis) -> float:
        top = self._axis_max(axis) or 1.0
        return plot.bottom() - min(value, top) / top * plot.height()

    def _draw_legend(self, painter: QPainter, text_color: QColor) -> None:
        metrics = self.fontMetrics()
        x = 8.0
        y = 4.0
        size = metrics.height() * 0.7
        for one in self.series:
            color = QColor(one.color)
            if one.style == "bars":
                painter.fillRect(QRectF(x, y + (metrics.height() - size) / 2, size, size), color)
            else:
                painter.setPen(QPen(color, 2))
                middle = y + metrics.height() / 2
                painter.drawLine(QPointF(x, middle), QPointF(x + size, middle))
            x += size + 5
            painter.setPen(text_color)
            label = (tr("{name}  (right axis)", name=one.name) if one.axis == "right" and self._has_axis("left")
                     else one.name)
            painter.drawText(QPointF(x, y + metrics.ascent()), label)
            x += metrics.horizontalAdvance(label) + 16

    def _draw_grid(self, painter: QPainter, plot: QRectF, muted: QColor) -> None:
        metrics = self.fontMetrics()
        grid = QColor(muted)
        grid.setAlpha(40)
        for i in range(_TICKS + 1):
            y = plot.bottom() - plot.height() * i / _TICKS
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            for axis in ("left", "right"):
                if not self._has_axis(axis):  # type: ignore[arg-type]
                    continue
                text = self._axis_format(axis)(self._axis_max(axis) * i / _TICKS)  # type: ignore[arg-type]
                width = metrics.horizontalAdvance(text)
                x = plot.left() - width - 6 if axis == "left" else plot.right() + 6
                painter.drawText(QPointF(x, y + metrics.ascent() / 2 - 1), text)

    def _draw_bars(self, painter: QPainter, plot: QRectF, one: ChartSeries, position: int, count: int) -> None:
        slot = plot.width() / len(self.starts)
        gap = min(6.0, slot * 0.2)
        width = max(1.0, (slot - gap) / count)
        color = QColor(one.color)
        for index, value in enumerate(one.values):
            if not value:
                continue
            y = self._y(plot, value, one.axis)
            x = plot.left() + index * slot + gap / 2 + position * width
            painter.fillRect(QRectF(x, y, width, plot.bottom() - y), color)

    def _draw_line(self, painter: QPainter, plot: QRectF, one: ChartSeries) -> None:
        slot = plot.width() / len(self.starts)
        color = QColor(one.color)
        path = QPainterPath()
        drawing = False
        points: list[QPointF] = []
        for index, value in enumerate(one.values):
            if value is None:
                drawing = False
                continue
            point = QPointF(plot.left() + (index + 0.5) * slot, self._y(plot, value, one.axis))
            points.append(point)
            if drawing:
                path.lineTo(point)
            else:
                path.moveTo(point)
                drawing = True
        painter.setPen(QPen(color, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        if slot >= 8:
            painter.setBrush(color)
            for point in points:
                painter.drawEllipse(point, 2.5, 2.5)

    def _draw_x_labels(self, painter: QPainter, plot: QRectF, muted: QColor) -> None:
        metrics = self.fontMetrics()
        slot = plot.width() / len(self.starts)
        label_width = max(metrics.horizontalAdvance(bucket_label(s, self.bucket_seconds)) for s in self.starts) + 12
        every = max(1, math.ceil(label_width / slot))
        painter.setPen(muted)
        y = plot.bottom() + metrics.ascent() + 4
        last = len(self.starts) - 1
        for index in range(0, len(self.starts), every):
            text = bucket_label(self.starts[index], self.bucket_seconds)
            center = plot.left() + (index + 0.5) * slot
            width = metrics.horizontalAdvance(text)
            x = min(max(center - width / 2, 0), self.width() - width)
            if index != 0 and index + every > last and x + width > self.width() - 2:
                break
            painter.drawText(QPointF(x, y), text)

    # -- hover -------------------------------------------------------------------------------------
    def describe_bucket(self, index: int) -> str:
        start = self.starts[index]
        end = start + self.bucket_seconds
        if self.bucket_seconds >= 86400:
            when = datetime.fromtimestamp(start).strftime(tr("%a %b %d"))
        else:
            when = (f"{datetime.fromtimestamp(start).strftime(tr('%b %d, %H:%M'))}–"
                    f"{datetime.fromtimestamp(end).strftime('%H:%M')}")
        lines = [when]
        for one in self.series:
            value = one.values[index]
            shown = "—" if value is None else (one.describe or one.format)(value)
            lines.append(tr("{name}: {value}", name=one.name, value=shown))
        return "\n".join(lines)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.bucket_at(event.position().x()) if self.has_data() else None
        if index != self._hover:
            self._hover = index
            self.update()
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPosition().toPoint(), self.describe_bucket(index), self)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self._hover = None
        QToolTip.hideText()
        self.update()
        super().leaveEvent(event)
