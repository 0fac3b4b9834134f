"""The tray icon and its menu."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from core.services import GatewayState
from desktop.icons import app_icon


class TrayController(QObject):
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, state: GatewayState) -> None:
        super().__init__()
        self.menu = QMenu()
        self.gateway_action = QAction(self.menu)
        self.gateway_action.setEnabled(False)  # a status line, not a command
        self.settings_action = QAction("Settings…", self.menu)
        self.settings_action.triggered.connect(self.settings_requested)
        self.quit_action = QAction("Quit", self.menu)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.gateway_action)
        self.menu.addSeparator()
        self.menu.addAction(self.settings_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

        self.icon = QSystemTrayIcon(app_icon())
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.show_gateway_state(state)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def dispose(self) -> None:
        self.icon.hide()
        self.icon.setContextMenu(None)
        self.icon.deleteLater()
        self.menu.deleteLater()
        self.deleteLater()

    def show_gateway_state(self, state: GatewayState) -> None:
        self.gateway_action.setText(state.describe() if state.running else "Gateway stopped — see Settings")
        self.gateway_action.setToolTip(state.describe())
        self.icon.setToolTip(f"Quotagate\n{state.describe()}")

    def notify(self, title: str, message: str, critical: bool = False) -> None:
        kind = QSystemTrayIcon.MessageIcon.Critical if critical else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, message, kind, 15000)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.settings_requested.emit()
