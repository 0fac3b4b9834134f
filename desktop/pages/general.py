"""General settings: the gateway's port, the data folder, start at login."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Awaitable, Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import autostart, paths, settings
from core.i18n import tr
from core.services import GatewayState

log = logging.getLogger(__name__)

PortChanger = Callable[[int], Awaitable[GatewayState]]


class GeneralPage(QWidget):
    def __init__(self, state: GatewayState, data_folder: Path, change_port: PortChanger,
                 save_start_at_login: Callable[[bool], None]) -> None:
        super().__init__()
        self._change_port = change_port
        self._save_start_at_login = save_start_at_login
        self.data_folder = data_folder
        self.apply_task: asyncio.Task[None] | None = None

        # Gateway
        self.gateway_status = QLabel()
        self.gateway_status.setWordWrap(True)
        self.port_input = QSpinBox()
        self.port_input.setRange(1, 65535)
        self.port_input.setValue(state.port)
        self.apply_button = QPushButton(tr("Apply"))
        self.apply_button.clicked.connect(self._on_apply_clicked)
        self.port_feedback = QLabel()
        self.port_feedback.setWordWrap(True)
        self.port_feedback.hide()  # shown once there is something to say
        self._current_port = state.port
        self.port_input.valueChanged.connect(self._update_apply_enabled)
        port_row = QHBoxLayout()
        port_row.addWidget(self.port_input)
        port_row.addWidget(self.apply_button)
        port_row.addStretch(1)
        gateway_form = QFormLayout()
        gateway_form.addRow(tr("Status:"), self.gateway_status)
        gateway_form.addRow(tr("Port:"), port_row)
        gateway_form.addRow(self.port_feedback)
        env_port = settings.port_from_environment_or_none()
        if env_port is not None:
            note = QLabel(tr("{name}={port} is set: it wins over this setting at the next start.",
                         name=settings.PORT_ENV, port=env_port))
            note.setWordWrap(True)
            gateway_form.addRow("", note)
        gateway_box = QGroupBox(tr("Gateway"))
        gateway_box.setLayout(gateway_form)

        # Data folder
        self.folder_field = QLineEdit(str(data_folder))
        self.folder_field.setReadOnly(True)
        self.open_folder_button = QPushButton(tr("Open folder"))
        self.open_folder_button.clicked.connect(self.open_data_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_field, 1)
        folder_row.addWidget(self.open_folder_button)
        folder_hint = QLabel(tr("Set {name} before starting Quotagate to use another folder.", name=paths.DATA_DIR_ENV))
        folder_hint.setWordWrap(True)
        data_layout = QVBoxLayout()
        data_layout.addLayout(folder_row)
        data_layout.addWidget(folder_hint)
        data_box = QGroupBox(tr("Data folder"))
        data_box.setLayout(data_layout)

        # Startup
        self.start_at_login = QCheckBox(tr("Start Quotagate when I log in"))
        self.start_at_login.setChecked(autostart.is_enabled())
        if not sys.platform.startswith("linux"):
            self.start_at_login.setEnabled(False)
            self.start_at_login.setToolTip(tr("Available on Linux desktops for now."))
        self.start_at_login.toggled.connect(self._on_start_at_login_toggled)
        startup_layout = QVBoxLayout()
        startup_layout.addWidget(self.start_at_login)
        startup_box = QGroupBox(tr("Startup"))
        startup_box.setLayout(startup_layout)

        layout = QVBoxLayout(self)
        layout.addWidget(gateway_box)
        layout.addWidget(data_box)
        layout.addWidget(startup_box)
        layout.addStretch(1)
        self.show_gateway_state(state)

    def show_gateway_state(self, state: GatewayState) -> None:
        if state.running:
            self._current_port = state.port
        self._update_apply_enabled()
        if state.running:
            self.gateway_status.setText(tr("Listening on {url}", url=state.url))
            self.gateway_status.setStyleSheet("color: #1a7f37;")
        else:
            self.gateway_status.setText(state.describe())
            self.gateway_status.setStyleSheet("color: #b42318;")

    def open_data_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_folder)))

    def _update_apply_enabled(self) -> None:
        busy = self.apply_task is not None and not self.apply_task.done()
        self.apply_button.setEnabled(not busy and self.port_input.value() != self._current_port)

    def _show_feedback(self, text: str) -> None:
        self.port_feedback.setText(text)
        self.port_feedback.setVisible(bool(text))

    def _on_apply_clicked(self) -> None:
        self.apply_task = asyncio.ensure_future(self._apply_port(self.port_input.value()))

    async def _apply_port(self, port: int) -> None:
        self.apply_button.setEnabled(False)
        self._show_feedback(tr("Moving the gateway to port {port}…", port=port))
        try:
            state = await self._change_port(port)
        except Exception as exc:  # shown to the user; details go to the log
            log.exception("Changing the port failed")
            self._show_feedback(tr("Could not change the port: {error}", error=exc))
        else:
            if state.running:
                self._show_feedback(tr("Saved. The gateway now listens on {url}.", url=state.url))
            else:
                self._show_feedback(tr("Not saved: {error}", error=state.error))
        finally:
            self.apply_task = None
            self._update_apply_enabled()

    def _on_start_at_login_toggled(self, checked: bool) -> None:
        try:
            self._save_start_at_login(checked)
        except OSError as exc:
            self.start_at_login.blockSignals(True)
            self.start_at_login.setChecked(not checked)
            self.start_at_login.blockSignals(False)
            self.start_at_login.setToolTip(tr("Could not change the autostart entry: {error}", error=exc))
