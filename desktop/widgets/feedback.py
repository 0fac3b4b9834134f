"""Small building blocks shared by the pages: a status line, a secret field, a confirmation, tables."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from core.i18n import tr

OK_COLOR = "#1a7f37"
ERROR_COLOR = "#b42318"
MUTED_COLOR = "#6b7280"
WARNING_COLOR = "#9a6700"


class StatusLabel(QLabel):
    """One line of feedback under an action: hidden until there is something to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = ""
        self.hide()

    def busy(self, text: str) -> None:
        self._show(text, MUTED_COLOR, "busy")

    def ok(self, text: str) -> None:
        self._show(text, OK_COLOR, "ok")

    def error(self, text: str) -> None:
        self._show(text, ERROR_COLOR, "error")

    def info(self, text: str) -> None:
        self._show(text, MUTED_COLOR, "info")

    def clear(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()

    def _show(self, text: str, color: str, kind: str) -> None:
        self.kind = kind
        self.setText(text)
        self.setStyleSheet(f"color: {color};")
        self.setVisible(bool(text))


class WrappingLabel(QLabel):
    """Text that wraps to the width it is given and is exactly as tall as that takes. (Qt sizes a wrapped
    label for a narrow guess of its width, so in a form it gets lines of empty space, or too few lines.)"""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        natural = super().sizeHint()
        if self.width() <= 20:  # not laid out yet
            return natural
        return QSize(natural.width(), self.heightForWidth(self.width()) if self.text() else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.text() and self.heightForWidth(self.width()) != self.height():
            self.updateGeometry()  # another width, another number of lines


def hint(text: str, parent: QWidget | None = None) -> QLabel:
    """Grey explanatory text that wraps."""
    label = WrappingLabel(text, parent)
    label.setStyleSheet(f"color: {MUTED_COLOR};")
    return label


def empty_state(text: str) -> QLabel:
    """What a list shows when it has nothing yet: what it is for and how to fill it."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setMinimumHeight(64)
    label.setStyleSheet(f"color: {MUTED_COLOR}; border: 1px dashed #c8ccd2; border-radius: 6px; padding: 12px;")
    return label


def title_label(text: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)
    font.setBold(True)
    label.setFont(font)
    return label


def monospace_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class SecretField(QWidget):
    """A password-style line edit with a Show toggle; secrets are hidden unless the user asks."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText(placeholder)
        self.show_toggle = QCheckBox(tr("Show"))
        self.show_toggle.toggled.connect(self._toggle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.show_toggle)

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.edit.setText(text)

    def setPlaceholderText(self, text: str) -> None:  # noqa: N802
        self.edit.setPlaceholderText(text)

    def _toggle(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)


class ConfirmBox(QMessageBox):
    """A non-blocking confirmation (no nested event loop under qasync): `on_confirm` runs only when the
    user presses the confirm button."""

    def __init__(self, parent: QWidget, title: str, text: str, confirm_text: str,
                 on_confirm: Callable[[], Any], informative: str = "") -> None:
        super().__init__(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
        if informative:
            self.setInformativeText(informative)
        self.confirm_button = self.addButton(confirm_text, QMessageBox.ButtonRole.DestructiveRole)
        self.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self._on_confirm = on_confirm
        self.finished.connect(self._done)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def _done(self, _result: int) -> None:
        if self.clickedButton() is self.confirm_button:
            self._on_confirm()


def read_only_table(headers: Sequence[str], stretch: int = 0) -> QTableWidget:
    """A table to look at, select a row of, and double-click; editing happens in dialogs."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 10)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column in range(len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def cell(text: str, data: Any = None, align_right: bool = False, color: str | None = None,
         tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if color:
        item.setForeground(QColor(color))
    if tooltip:
        item.setToolTip(tooltip)
    return item


def fill_table(table: QTableWidget, rows: Sequence[Sequence[QTableWidgetItem]]) -> None:
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            table.setItem(r, c, item)


def show_rows(table: QTableWidget, empty: QWidget, rows: Sequence[Sequence[QTableWidgetItem]],
              select: Any = None) -> None:
    """Fill the table and select the row whose data is `select`, if it is still there. With no rows, the
    empty-state note stands in the table's place."""
    fill_table(table, rows)
    if select is not None:
        select_row_with(table, select)
    table.setVisible(bool(rows))
    empty.setVisible(not rows)


def selected_data(table: QTableWidget) -> Any:
    """The UserRole data of the selected row's first cell, or None."""
    rows = table.selectionModel().selectedRows()
    if not rows:
        return None
    item = table.item(rows[0].row(), 0)
    return item.data(Qt.ItemDataRole.UserRole) if item else None


def select_row_with(table: QTableWidget, data: Any) -> bool:
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == data:
            table.selectRow(row)
            return True
    return False


def tool_button(text: str, tooltip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tooltip)
    button.setAutoRaise(True)
    return button
