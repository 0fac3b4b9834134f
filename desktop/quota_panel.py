"""The quota panel: what a left click on the tray icon opens. One card per account — provider, identity,
plan, a bar per window with % left, the reset countdown and the pace, when it was updated, and a one-line
error whose details are in its tooltip — over Refresh and Settings buttons.

It is a frameless popup anchored to the tray icon (closed by Esc or a click elsewhere), or, where there is
no tray, a small always-on-top window. Its widgets are made once per account and window and then only
change their texts and values, so it can stay open through ticks and refreshes without flicker or losing
keyboard focus. Colours come from the palette, so it follows light and dark themes.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFocusEvent,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QPainter,
    QPalette,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.i18n import tr
from core.quota.cards import AccountCard, Level, WindowLine
from core.quota.model import utc_now
from desktop.quota_icons import LEVEL_COLORS
from desktop.widgets.format import ago

PANEL_WIDTH = 360
SCREEN_MARGIN = 8  # kept free between the panel and the screen's edges
ANCHOR_GAP = 4     # between the tray icon and the panel
TOGGLE_SECONDS = 0.3  # a click on the icon this soon after the panel closed was the click that closed it


def anchored_position(size: QSize, anchor: QRect | None, cursor: QPoint | None, area: QRect) -> QPoint:
    """Where a panel of `size` goes: next to the tray icon (below it on a top panel, above it on a bottom
    one), else next to the cursor, else the top-right corner; always inside `area` (the available screen)."""
    target = anchor if anchor is not None and anchor.isValid() and not anchor.isEmpty() else (
        QRect(cursor, QSize(1, 1)) if cursor is not None else None)
    if target is None:
        x, y = area.right() + 1 - SCREEN_MARGIN - size.width(), area.top() + SCREEN_MARGIN
    else:
        x = target.center().x() - size.width() // 2
        below = target.center().y() < area.center().y()
        y = target.bottom() + 1 + ANCHOR_GAP if below else target.top() - ANCHOR_GAP - size.height()
    x = max(area.left() + SCREEN_MARGIN, min(x, area.right() + 1 - SCREEN_MARGIN - size.width()))
    y = max(area.top() + SCREEN_MARGIN, min(y, area.bottom() + 1 - SCREEN_MARGIN - size.height()))
    return QPoint(x, y)


def secondary_color(palette: QPalette) -> QColor:
    """Text colour for secondary lines: the text colour moved towards the background, still readable."""
    text, back = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
    mix = 0.32
    return QColor(round(text.red() * (1 - mix) + back.red() * mix), round(text.green() * (1 - mix) + back.green() * mix),
                  round(text.blue() * (1 - mix) + back.blue() * mix))


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def error_color(palette: QPalette) -> QColor:
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b3261e")


def _discard(layout: QVBoxLayout, widget: QWidget) -> None:
    layout.removeWidget(widget)
    widget.hide()
    widget.deleteLater()


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)
    label.setVisible(bool(text))


class QuotaBar(QWidget):
    """A horizontal bar of what is left, in the level's colour, over a track drawn from the palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.remaining: float | None = None
        self.level: Level = "unknown"
        self.setFixedHeight(8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, remaining: float | None, level: Level) -> None:
        if (remaining, level) != (self.remaining, self.level):
            self.remaining, self.level = remaining, level
            self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        track = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        track.setAlphaF(0.14)
        bounds = QRectF(self.rect())
        radius = bounds.height() / 2
        painter.setBrush(track)
        painter.drawRoundedRect(bounds, radius, radius)
        if self.remaining is not None and self.remaining > 0:
            filled = QRectF(bounds.left(), bounds.top(), max(bounds.height(), bounds.width() * min(self.remaining, 100) / 100),
                            bounds.height())
            painter.setBrush(LEVEL_COLORS[self.level])
            painter.drawRoundedRect(filled, radius, radius)
        painter.end()


class WindowRow(QWidget):
    """One quota window: its label and % left, the bar, then the reset and the pace in small print."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.left = QLabel()
        self.left.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.bar = QuotaBar()
        self.details = QLabel()
        self.details.setObjectName("secondary")
        self.label.setWordWrap(True)  # long labels and details wrap instead of widening the panel
        self.details.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.label, 1)
        top.addWidget(self.left)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.details)

    def show_line(self, line: WindowLine) -> None:
        _set_text(self.label, line.label)
        _set_text(self.left, line.left)
        self.bar.set_value(line.remaining_percent, line.level)
        _set_text(self.details, " · ".join(part for part in (line.resets, line.pace) if part))


class AccountCardWidget(QFrame):
    """One account. Focusable, so that Tab walks through the accounts and a screen reader reads each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.provider = QLabel()
        bold = QFont(self.provider.font())
        bold.setBold(True)
        self.provider.setFont(bold)
        self.plan = QLabel()
        self.plan.setObjectName("secondary")
        self.identity = QLabel()
        self.identity.setObjectName("secondary")
        self.identity.setWordWrap(True)
        self.updated = QLabel()
        self.updated.setObjectName("secondary")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.rows: dict[str, WindowRow] = {}
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.provider)
        header.addStretch(1)
        header.addWidget(self.plan)
        self.rows_box = QVBoxLayout()
        self.rows_box.setContentsMargins(0, 4, 0, 0)
        self.rows_box.setSpacing(4)
        who = QHBoxLayout()  # identity on the left, "updated 2 min ago" on the right: one line for both
        who.setContentsMargins(0, 0, 0, 0)
        who.addWidget(self.identity, 1)
        who.addWidget(self.updated, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 9, 12, 10)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addLayout(who)
        layout.addLayout(self.rows_box)
        layout.addWidget(self.error)
        self.card: AccountCard | None = None

    def paintEvent(self, event: object) -> None:
        """A rounded card in the palette's base colour; a highlight-coloured border while focused."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        if self.hasFocus():
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
        else:
            border = QColor(palette.color(QPalette.ColorRole.WindowText))
            border.setAlphaF(0.16)
            pen = QPen(border, 1)
        painter.setPen(pen)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        inset = pen.widthF() / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(inset, inset, -inset, -inset), 8, 8)
        painter.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def show_card(self, card: AccountCard, now: datetime) -> None:
        self.card = card
        _set_text(self.provider, card.provider)
        _set_text(self.plan, card.plan)
        _set_text(self.identity, card.identity if card.identity != card.provider else "")
        ids = [line.id for line in card.lines]
        for window_id in [k for k in self.rows if k not in ids]:
            _discard(self.rows_box, self.rows.pop(window_id))
        for index, line in enumerate(card.lines):
            row = self.rows.get(line.id)
            if row is None:
                row = self.rows[line.id] = WindowRow(self)
            if self.rows_box.indexOf(row) != index:
                self.rows_box.insertWidget(index, row)
            row.show_line(line)
        self._show_error(card)
        when = ago(card.fetched_at.timestamp(), now.timestamp())
        # A failure with no numbers at all was only tried then: "updated" would claim data that is not there.
        _set_text(self.updated, tr("tried {ago}", ago=when) if card.error and not card.lines
                  else tr("updated {ago}", ago=when))
        self.setAccessibleName(card.title)
        self.setAccessibleDescription("; ".join(
            [f"{line.label}: {line.left} {line.resets} {line.pace}".strip() for line in card.lines]
            + ([card.error] if card.error else [])))

    def _show_error(self, card: AccountCard) -> None:
        text = f"⚠ {card.error}" if card.error else ""
        width = max(60, PANEL_WIDTH - 80)
        _set_text(self.error, self.error.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width))
        self.error.setToolTip(card.error_details)


class QuotaPanel(QFrame):
    refresh_requested = Signal()
    settings_requested = Signal()
    visibility_changed = Signal(bool)

    def __init__(self, as_window: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.as_window = as_window
        if as_window:  # no tray: a small window that stays above the others
            self.setWindowFlags(Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
            self.setWindowTitle(tr("Quotagate — quota"))
        else:  # a popup closes itself when the user clicks elsewhere
            self.setWindowFlags(Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(PANEL_WIDTH)

        self.heading = QLabel()
        heading_font = QFont(self.heading.font())
        heading_font.setBold(True)
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.15)
        self.heading.setFont(heading_font)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setObjectName("secondary")
        self.cards: dict[str, AccountCardWidget] = {}
        self.cards_box = QVBoxLayout()
        self.cards_box.setContentsMargins(0, 0, 0, 0)
        self.cards_box.setSpacing(8)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 4, 0)
        content_layout.addWidget(self.empty)
        content_layout.addLayout(self.cards_box)
        content_layout.addStretch(1)
        self.content = content
        self.scroll = QScrollArea()
        self.scroll.setWidget(content)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.settings_button = QPushButton()
        self.settings_button.clicked.connect(self._open_settings)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.settings_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)
        self._refreshing = False
        self._anchor: QRect | None = None
        self._hidden_at = float("-inf")
        self.retranslate()
        self._apply_palette()

    def retranslate(self) -> None:
        self.heading.setText(tr("Quota"))
        self.settings_button.setText(tr("Settings…"))
        self.empty.setText(tr("No subscriptions found yet. Sign in with Codex, Claude Code, OpenCode or Gemini CLI, "
                              "or add a key in Settings › Providers."))
        self.set_refreshing(self._refreshing)

    # -- content, changed in place --------------------------------------------------------------------
    def show_cards(self, cards: list[AccountCard], now: datetime | None = None) -> None:
        """Show `cards` in this order; existing cards and rows are updated, not replaced."""
        now = now or utc_now()
        keys = [card.key for card in cards]
        for key in [k for k in self.cards if k not in keys]:
            _discard(self.cards_box, self.cards.pop(key))
        for index, card in enumerate(cards):
            widget = self.cards.get(card.key)
            if widget is None:
                widget = self.cards[card.key] = AccountCardWidget(self.content)
            if self.cards_box.indexOf(widget) != index:
                self.cards_box.insertWidget(index, widget)
            widget.show_card(card, now)
        self.empty.setVisible(not cards)
        self._apply_palette()
        self._chain_focus()
        if self.isVisible():
            self.fit(self._anchor)

    def set_refreshing(self, refreshing: bool) -> None:
        self._refreshing = refreshing
        self.refresh_button.setEnabled(not refreshing)
        self.refresh_button.setText(tr("Refreshing…") if refreshing else tr("Refresh"))

    def card_widgets(self) -> list[AccountCardWidget]:
        """The cards in the order shown."""
        items = (self.cards_box.itemAt(i).widget() for i in range(self.cards_box.count()))
        return [widget for widget in items if isinstance(widget, AccountCardWidget)]

    # -- showing --------------------------------------------------------------------------------------
    def popup(self, anchor: QRect | None = None) -> None:
        """Show next to `anchor` (the tray icon), sized to the screen, with the first card focused."""
        self._anchor = anchor
        self.fit(anchor)
        self.show()
        self.raise_()
        self.activateWindow()
        first = self.card_widgets()[:1] or [self.refresh_button]
        first[0].setFocus(Qt.FocusReason.PopupFocusReason)

    def fit(self, anchor: QRect | None) -> None:
        """As tall as the cards need and the screen allows (the cards scroll beyond that), placed at the
        anchor, the cursor or the top-right corner."""
        anchored = anchor is not None and anchor.isValid() and not anchor.isEmpty()
        cursor = None if anchored or self.as_window else QCursor.pos()  # a click on a tray that hides its geometry
        point = anchor.center() if anchored and anchor is not None else cursor
        screen = (QGuiApplication.screenAt(point) if point is not None else None) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        chrome = self.height() - self.scroll.viewport().height() if self.isVisible() else self._chrome_height()
        margins = self.layout().contentsMargins()
        width = PANEL_WIDTH - margins.left() - margins.right() - 2 * self.frameWidth()
        # Wrapped labels are as tall as the panel's width makes them, not as their width-less size hint says.
        content = self.content.heightForWidth(width) if self.content.hasHeightForWidth() else -1
        wanted = chrome + (content if content > 0 else self.content.sizeHint().height())
        height = min(wanted, area.height() - 2 * SCREEN_MARGIN)
        self.resize(PANEL_WIDTH, height)
        if not self.as_window or not self.isVisible():  # a window the user moved stays where they put it
            self.move(anchored_position(QSize(PANEL_WIDTH, height), anchor, cursor, area))

    def _chrome_height(self) -> int:
        """Everything but the scrolled cards: heading, buttons, margins and spacing."""
        margins = self.layout().contentsMargins()
        spacing = self.layout().spacing()
        return (margins.top() + margins.bottom() + self.heading.sizeHint().height()
                + self.refresh_button.sizeHint().height() + 2 * spacing + 2 * self.frameWidth())

    def _chain_focus(self) -> None:
        """Tab goes through the cards in their order, then Refresh, then Settings."""
        chain = [*self.card_widgets(), self.refresh_button, self.settings_button]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    def _open_settings(self) -> None:
        self.hide()
        self.settings_requested.emit()

    # -- events ---------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.visibility_changed.emit(True)

    def hideEvent(self, event: object) -> None:
        super().hideEvent(event)  # type: ignore[arg-type]
        self._hidden_at = time.monotonic()
        self.visibility_changed.emit(False)

    def just_closed(self) -> bool:
        """Closed a moment ago — as a popup is by the very click on the tray icon that would reopen it."""
        return time.monotonic() - self._hidden_at < TOGGLE_SECONDS

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        """Secondary and error texts get colours derived from the current palette (light or dark); the
        cards and bars read the palette when they paint."""
        palette = self.palette()
        colors = {"secondary": secondary_color(palette), "error": error_color(palette)}
        for label in self.findChildren(QLabel):
            color = colors.get(label.objectName())
            if color is not None and label.palette().color(QPalette.ColorRole.WindowText) != color:
                tinted = label.palette()
                tinted.setColor(QPalette.ColorRole.WindowText, color)
                label.setPalette(tinted)
