"""How every page of the settings window is framed: the same heading, at the same place, with the same margins.

The window builds the frame (`PageFrame`) around each page it shows, so a page lays out only its own content:
its outer layout's margins are the frame's business and are set to zero here."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.widgets.commit import CommitBar
from desktop.widgets.feedback import title_label

# left, top, right, bottom: the space between the window's page area and every page's heading and content
PAGE_MARGINS = (16, 10, 16, 12)
HEADING_SPACING = 8


class PageFrame(QWidget):
    """A page under its heading. `dirty_changed` follows the page's commit bar (when it has one), so the
    window can mark pages with unsaved changes in its list."""

    dirty_changed = Signal(bool)

    def __init__(self, title: str, page: QWidget) -> None:
        super().__init__()
        self.page = page
        self.heading = title_label(title)
        self.heading.setObjectName("pageHeading")
        own = page.layout()
        if own is not None:
            own.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*PAGE_MARGINS)
        layout.setSpacing(HEADING_SPACING)
        layout.addWidget(self.heading)
        layout.addWidget(page, 1)
        for bar in page.findChildren(CommitBar):
            bar.dirty_changed.connect(lambda _dirty: self.dirty_changed.emit(self.dirty()))

    def dirty(self) -> bool:
        return any(bar.dirty for bar in self.page.findChildren(CommitBar))
