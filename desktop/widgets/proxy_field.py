"""A proxy address entry: scheme://host:port, with the sign-in kept in separate fields so that a proxy
password is masked like every other secret."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from core.i18n import tr
from core.net.proxies import join_credentials, proxy_url, split_credentials
from core.settings import SettingError
from desktop.widgets.feedback import SecretField
from desktop.widgets.field_error import FieldError


def proxy_placeholder() -> str:
    return tr("http://127.0.0.1:8080 or socks5://127.0.0.1:1080")


class ProxyField(QWidget):
    """Address plus optional sign-in. `url()` returns the full URL (or None when empty) or raises the core's
    `SettingError` (the one proxy rule, `core.net.proxies.proxy_url`) with `key` set to this field's `key`; the
    message is also shown under the field, in a line kept for it."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, optional_hint: str = "", key: str = "proxy") -> None:
        super().__init__(parent)
        self.key = key
        self.address = QLineEdit()
        self.address.setPlaceholderText(optional_hint or proxy_placeholder())
        self.address.editingFinished.connect(self._lift_credentials)
        self.user = QLineEdit()
        self.user.setPlaceholderText(tr("user (optional)"))
        self.password = SecretField(tr("password"))
        self.error = FieldError()
        for edit in (self.address, self.user, self.password.edit):
            edit.textChanged.connect(self._on_edit)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.address, 0, 0, 1, 2)
        sign_in = QLabel(tr("Sign-in:"))
        grid.addWidget(sign_in, 1, 0)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.user, 1)
        row_layout.addWidget(self.password, 1)
        grid.addWidget(row, 1, 1)
        grid.addWidget(self.error, 2, 0, 1, 2)
        grid.setColumnStretch(1, 1)

    def set_url(self, url: str | None) -> None:
        bare, user, password = split_credentials(url or "")
        for edit, value in ((self.address, bare), (self.user, user), (self.password.edit, password)):
            edit.blockSignals(True)
            edit.setText(value)
            edit.blockSignals(False)
        self.error.clear()

    def url(self) -> str | None:
        address = self.address.text().strip()
        user, password = self.user.text().strip(), self.password.text()
        if not address:
            if user or password:
                return self._fail(tr("Enter the proxy address for this sign-in, e.g. http://127.0.0.1:8080."))
            self.error.clear()
            return None
        try:
            validated = proxy_url(address)
        except SettingError as exc:
            return self._fail(str(exc))
        bare, inline_user, inline_password = split_credentials(validated)
        self.error.clear()
        return join_credentials(bare, user or inline_user, password or inline_password)

    def _fail(self, message: str) -> None:
        self.error.error(message)
        refusal = SettingError(message)
        refusal.key = self.key
        raise refusal

    def _lift_credentials(self) -> None:
        """A pasted `user:pw@` moves into the sign-in fields, where the password is masked."""
        bare, user, password = split_credentials(self.address.text())
        if user or password:
            self.address.setText(bare)
            self.user.setText(user)
            self.password.setText(password)

    def _on_edit(self) -> None:
        if self.error.kind == "error":
            self.error.clear()
        self.changed.emit()
