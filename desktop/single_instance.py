"""One Quotagate per data folder: a second launch asks the first to show its window, then exits."""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

_SHOW = b"show\n"
_ACK = b"ok\n"
_TIMEOUT_MS = 2000


def instance_key(data_folder: Path) -> str:
    """A socket name per user and data folder (tests and portable setups run side by side)."""
    digest = hashlib.sha256(f"{getpass.getuser()}:{data_folder.resolve()}".encode()).hexdigest()[:16]
    return f"quotagate-{digest}"


class SingleInstance(QObject):
    show_requested = Signal()

    def __init__(self, data_folder: Path) -> None:
        super().__init__()
        self.key = instance_key(data_folder)
        self._server: QLocalServer | None = None

    def hand_over(self) -> bool:
        """If another instance is running, ask it to show itself and return True."""
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if not socket.waitForConnected(_TIMEOUT_MS):
            return False
        socket.write(_SHOW)
        socket.flush()
        socket.waitForBytesWritten(_TIMEOUT_MS)
        acknowledged = socket.waitForReadyRead(_TIMEOUT_MS) and bytes(socket.readAll().data()).startswith(_ACK)
        socket.disconnectFromServer()
        return acknowledged

    def listen(self) -> bool:
        """Become the instance others hand over to; False if another instance already is.

        A stale socket left by a crashed run is replaced, a live one never."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.key):
            if self._someone_answers():
                return False  # another instance won a simultaneous start
            QLocalServer.removeServer(self.key)
            if not server.listen(self.key):
                log.warning("Single-instance socket unavailable: %s", server.errorString())
                return False
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _someone_answers(self) -> bool:
        probe = QLocalSocket()
        probe.connectToServer(self.key)
        alive = probe.waitForConnected(_TIMEOUT_MS)
        probe.abort()
        return alive

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._on_message(s))
            socket.disconnected.connect(socket.deleteLater)

    def _on_message(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(_SHOW):
            log.info("A second launch asked this instance to show its window")
            socket.write(_ACK)
            socket.flush()
            self.show_requested.emit()
