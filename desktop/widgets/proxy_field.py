"""A proxy address entry: scheme://host:port, with the sign-in kept in separate fields so that a proxy
password is masked like every other secret."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from core.i18n import tr
from core.secrets import mask_url_credentials
from desktop.widgets.feedback import SecretField, StatusLabel

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def proxy_placeholder() -> str:
    return tr("http://127.0.0.1:8080 or socks5://127.0.0.1:1080")


class ProxyUrlError(ValueError):
    """The message says what to type instead."""


def validate_proxy_url(text: str) -> str:
    """A usable proxy URL (scheme lower-cased, no trailing slash), or ProxyUrlError saying what is wrong."""
    text = (text or "").strip()
    if not text:
        raise ProxyUrlError(tr("Enter the proxy address, e.g. http://127.0.0.1:8080."))
    if "://" not in text:
        raise ProxyUrlError(tr("Start the proxy address with http://, https://, socks5:// or socks5h:// "
                               "(e.g. http://127.0.0.1:8080)."))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise ProxyUrlError(tr("'{scheme}://' proxies are not supported: use http://, https://, socks5:// "
                               "or socks5h://.", scheme=parts.scheme))
    if not parts.hostname:
        raise ProxyUrlError(tr("The proxy address needs a host, e.g. http://127.0.0.1:8080."))
    try:
        port = parts.port
    except ValueError:
        raise ProxyUrlError(tr("The proxy port must be a number from 1 to 65535.")) from None
    if port == 0:
        raise ProxyUrlError(tr("The proxy port must be a number from 1 to 65535."))
    if port is None and scheme.startswith("socks"):
        raise ProxyUrlError(tr("Add the SOCKS proxy's port, e.g. socks5://127.0.0.1:1080."))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ProxyUrlError(tr("A proxy address is just scheme://host:port, without a path."))
    return f"{scheme}://{parts.netloc}"


def split_credentials(url: str) -> tuple[str, str, str]:
    """`scheme://user:pw@host:port` -> (`scheme://host:port`, user, pw)."""
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url.strip(), "", ""
    host = parts.netloc.rpartition("@")[2]
    bare = f"{parts.scheme}://{host}" + (parts.path if parts.path not in ("", "/") else "")
    return bare, unquote(parts.username or ""), unquote(parts.password or "")


def join_credentials(url: str, user: str, password: str) -> str:
    if not user and not password:
        return url
    scheme, _, rest = url.partition("://")
    sign_in = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"{scheme}://{sign_in}@{rest}"


def mask_proxy(url: str | None) -> str:
    """What a window shows of a proxy URL: never its sign-in (the program's one rule for that)."""
    return mask_url_credentials(url.strip()) if url else ""


def scrub_proxy(text: str, url: str | None) -> str:
    """`text` (an error message, say) with the proxy's sign-in replaced, in case the network echoed it."""
    if not url:
        return text
    _, user, password = split_credentials(url)
    text = text.replace(url, mask_proxy(url))
    for secret in (password, quote(password, safe="")):
        if secret:
            text = text.replace(secret, "•••")
    return text


class ProxyField(QWidget):
    """Address plus optional sign-in. `url()` returns the full URL (or None when empty) or raises
    ProxyUrlError, which is also shown under the field."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, optional_hint: str = "") -> None:
        super().__init__(parent)
        self.address = QLineEdit()
        self.address.setPlaceholderText(optional_hint or proxy_placeholder())
        self.address.editingFinished.connect(self._lift_credentials)
        self.user = QLineEdit()
        self.user.setPlaceholderText(tr("user (optional)"))
        self.password = SecretField(tr("password"))
        self.error = StatusLabel()
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
            validated = validate_proxy_url(address)
        except ProxyUrlError as exc:
            return self._fail(str(exc))
        bare, inline_user, inline_password = split_credentials(validated)
        self.error.clear()
        return join_credentials(bare, user or inline_user, password or inline_password)

    def _fail(self, message: str) -> None:
        self.error.error(message)
        raise ProxyUrlError(message)

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
