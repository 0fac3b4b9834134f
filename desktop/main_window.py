"""The settings window: a list of pages on the left, the chosen page on the right."""

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

    def add_page(self, title: str, page: QWidget) -> None:
        self.navigation.addItem(title)
        self.pages.addWidget(page)
        if self.navigation.currentRow() < 0:
            self.navigation.setCurrentRow(0)

    def page_titles(self) -> list[str]:
        return [self.navigation.item(i).text() for i in range(self.navigation.count())]

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
