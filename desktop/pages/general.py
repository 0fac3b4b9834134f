"""General settings: the gateway's port, the data folder, start at login."""

from __future__ import annotations

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
from desktop.widgets.commit import CommitBar, field_refusal
from desktop.widgets.feedback import ERROR_COLOR, OK_COLOR, hint
from desktop.widgets.field_error import FieldError, with_error
from desktop.widgets.tasks import PageTasks

log = logging.getLogger(__name__)

PortChanger = Callable[[int], Awaitable[GatewayState]]


class GeneralPage(QWidget):
    """The port and start-at-login are committed together with the page's Save; the data folder is only shown."""

    def __init__(self, state: GatewayState, data_folder: Path, change_port: PortChanger,
                 save_start_at_login: Callable[[bool], None]) -> None:
        super().__init__()
        self._change_port = change_port
        self._save_start_at_login = save_start_at_login
        self.data_folder = data_folder
        self.tasks = PageTasks("General page")
        self._current_port = state.port
        self._saved_start = autostart.is_enabled()

        # Gateway
        self.gateway_status = QLabel()
        self.gateway_status.setWordWrap(True)
        self.port_input = QSpinBox()
        self.port_input.setRange(1, 65535)
        self.port_input.setValue(state.port)
        self.port_error = FieldError()
        gateway_form = QFormLayout()
        gateway_form.addRow(tr("Status:"), self.gateway_status)
        gateway_form.addRow(tr("Port:"), with_error(self.port_input, self.port_error))
        env_port = settings.port_from_environment_or_none()
        if env_port is not None:
            gateway_form.addRow("", hint(tr("{name}={port} is set: it wins over this setting at the next start.",
                                            name=settings.PORT_ENV, port=env_port)))
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
        data_layout = QVBoxLayout()
        data_layout.addLayout(folder_row)
        data_layout.addWidget(hint(tr("Set {name} before starting Quotagate to use another folder.",
                                      name=paths.DATA_DIR_ENV)))
        data_box = QGroupBox(tr("Data folder"))
        data_box.setLayout(data_layout)

        # Startup
        self.start_at_login = QCheckBox(tr("Start Quotagate when I log in"))
        self.start_at_login.setChecked(self._saved_start)
        if not sys.platform.startswith("linux"):
            self.start_at_login.setEnabled(False)
            self.start_at_login.setToolTip(tr("Available on Linux desktops for now."))
        self.start_error = FieldError()
        startup_layout = QVBoxLayout()
        startup_layout.addWidget(self.start_at_login)
        startup_layout.addWidget(self.start_error)
        startup_box = QGroupBox(tr("Startup"))
        startup_box.setLayout(startup_layout)

        self.commit = CommitBar(self.tasks, self._form_state, self._show_form_state, self._save)
        self.commit.add_field(settings.KEY_PORT, self.port_input, self.port_error, self.port_input.valueChanged)
        self.commit.add_field(settings.KEY_START_AT_LOGIN, self.start_at_login, self.start_error,
                              self.start_at_login.toggled)

        layout = QVBoxLayout(self)
        layout.addWidget(gateway_box)
        layout.addWidget(data_box)
        layout.addWidget(startup_box)
        layout.addStretch(1)
        layout.addWidget(self.commit)
        self.show_gateway_state(state)
        self.commit.reset()

    def show_gateway_state(self, state: GatewayState) -> None:
        if state.running:
            self._current_port = state.port
            if not self.commit.dirty and not self.commit.saving():  # moved elsewhere (the API): follow it
                self.port_input.setValue(state.port)
                self.commit.reset()
        if state.running:
            self.gateway_status.setText(tr("Listening on {url}", url=state.url))
            self.gateway_status.setStyleSheet(f"color: {OK_COLOR};")
        else:
            self.gateway_status.setText(state.describe())
            self.gateway_status.setStyleSheet(f"color: {ERROR_COLOR};")

    def open_data_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_folder)))

    # -- the form ----------------------------------------------------------------------------------
    def _form_state(self) -> tuple[int, bool]:
        return self.port_input.value(), self.start_at_login.isChecked()

    def _show_form_state(self, state: tuple[int, bool]) -> None:
        self.port_input.setValue(state[0])
        self.start_at_login.setChecked(state[1])

    async def _save(self) -> str | None:
        port, start = self._form_state()
        if start != self._saved_start:
            try:
                self._save_start_at_login(start)
            except OSError as exc:
                raise field_refusal(settings.KEY_START_AT_LOGIN,
                                    tr("Could not change the autostart entry: {error}", error=exc)) from exc
            self._saved_start = start
        if port == self._current_port:
            return None
        self.commit.status.busy(tr("Moving the gateway to port {port}…", port=port))
        state = await self._change_port(port)
        if not state.running:
            raise field_refusal(settings.KEY_PORT, state.error or tr("The gateway could not listen there."))
        return tr("Saved. The gateway now listens on {url}.", url=state.url)
