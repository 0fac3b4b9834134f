"""The message under one input. Its line is reserved from the start, so showing or clearing a message never
moves the rest of the form; a longer message wraps onto more lines instead of being cut."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from desktop.widgets.feedback import ERROR_COLOR, WrappingLabel


class FieldError(WrappingLabel):
    def __init__(self, lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet(f"color: {ERROR_COLOR};")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # the form gives the width
        self.setText("X")  # what one line takes, as the label measures it
        self._reserved = self.heightForWidth(400) + self.fontMetrics().lineSpacing() * (lines - 1)
        self.setText("")
        self.kind = ""

    def error(self, text: str) -> None:
        self.kind = "error" if text else ""
        self.setText(text)
        self.setToolTip(text)
        self.updateGeometry()

    def clear(self) -> None:
        self.error("")

    def shown(self) -> bool:
        return bool(self.kind)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        needed = self.heightForWidth(self.width() if self.width() > 20 else 400) if self.text() else 0
        return QSize(self.width(), max(self._reserved, needed))


def with_error(field: QWidget, error: FieldError) -> QWidget:
    """A form's field with its message line right under it (one form row, so the form's row spacing does
    not push the two apart)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(1)
    layout.addWidget(field)
    layout.addWidget(error)
    return box
