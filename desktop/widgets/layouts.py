"""Layout pieces the pages share, so that their rows of buttons and their table boxes look alike."""

from __future__ import annotations

from typing import Iterable

from PySide6.QtWidgets import QBoxLayout, QDialogButtonBox, QGroupBox, QHBoxLayout, QLayout, QVBoxLayout, QWidget


def add_items(layout: QBoxLayout, items: Iterable[QWidget | QLayout]) -> None:
    """Add widgets and nested layouts alike, in order."""
    for item in items:
        if isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)


def button_row(*left: QWidget, right: QWidget | None = None) -> QHBoxLayout:
    """Buttons packed on the left; `right` (e.g. a Test button) sits apart at the far end."""
    row = QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    if right is not None:
        row.addWidget(right)
    return row


def table_section(title: str, table: QWidget, empty: QWidget, *below: QWidget | QLayout) -> QGroupBox:
    """A titled box: a table and its empty-state note (the page shows one of them; either takes the spare
    height), then what goes under them, top to bottom (buttons, status lines, hints)."""
    layout = QVBoxLayout()
    layout.addWidget(table, 1)
    layout.addWidget(empty, 1)
    add_items(layout, below)
    box = QGroupBox(title)
    box.setLayout(layout)
    return box


def dialog_step(*content: QWidget | QLayout, buttons: QDialogButtonBox) -> QWidget:
    """One step of a dialog that goes through several (in a QStackedWidget): its content at the top, its
    buttons at the bottom."""
    layout = QVBoxLayout()
    add_items(layout, content)
    layout.addStretch(1)
    layout.addWidget(buttons)
    page = QWidget()
    page.setLayout(layout)
    return page
