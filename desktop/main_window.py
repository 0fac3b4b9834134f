"""The settings window: a list of pages on the left, the chosen page on the right under its heading. Pages
with unsaved changes are marked in the list."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.icons import app_icon
from desktop.widgets.page import PageFrame

UNSAVED_MARK = " •"


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(self, quit_on_close: bool = False) -> None:
        super().__init__()
        self.quit_on_close = quit_on_close
        self.setWindowTitle("Quotagate")
        self.setWindowIcon(app_icon())
        self.resize(1000, 680)

        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "QLabel#notice { background: #fff4ce; color: #5c4400; border: 1px solid #e0c36a;"
            " border-radius: 4px; padding: 8px; }"
        )
        self.notice.hide()

        self.navigation = QListWidget()
        self.navigation.setFixedWidth(180)
        self.navigation.setFrameShape(QFrame.Shape.NoFrame)
        self.navigation.setStyleSheet("QListWidget::item { padding: 7px 10px; }")
        self.pages = QStackedWidget()
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)

        body = QHBoxLayout()
        body.addWidget(self.navigation)
        body.addWidget(self.pages, 1)
        outer = QVBoxLayout()
        outer.addWidget(self.notice)
        outer.addLayout(body, 1)
        central = QWidget()
        central.setLayout(outer)
        self.setCentralWidget(central)

    def add_page(self, title: str, page: QWidget) -> PageFrame:
        """Every page is framed alike: its title as the heading, the same margins."""
        self.navigation.addItem(title)
        item = self.navigation.item(self.navigation.count() - 1)
        item.setData(Qt.ItemDataRole.UserRole, title)
        frame = PageFrame(title, page)
        frame.dirty_changed.connect(lambda dirty: item.setText(title + UNSAVED_MARK if dirty else title))
        self.pages.addWidget(frame)
        if self.navigation.currentRow() < 0:
            self.navigation.setCurrentRow(0)
        return frame

    def page_titles(self) -> list[str]:
        return [self.navigation.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.navigation.count())]

    def frames(self) -> list[PageFrame]:
        return [self.pages.widget(i) for i in range(self.pages.count())]  # type: ignore[misc]

    def current_page(self) -> QWidget | None:
        frame = self.pages.currentWidget()
        return frame.page if isinstance(frame, PageFrame) else None

    def show_page(self, title: str) -> None:
        self.navigation.setCurrentRow(self.page_titles().index(title))

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        # With a tray, closing only hides the window; without one the window *is* the app.
        if self.quit_on_close:
            self.quit_requested.emit()
        super().closeEvent(event)
