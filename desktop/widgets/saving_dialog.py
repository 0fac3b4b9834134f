"""A dialog whose Save runs through the configuration service: it stays open, with the input, until the
change is accepted, and shows the service's refusal in words (the windows never validate on their own)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QWidget

from core.i18n import tr
from core.settings import ConfigError
from desktop.widgets.feedback import StatusLabel

log = logging.getLogger(__name__)

Saver = Callable[[dict[str, Any]], Awaitable[None]]


class SavingDialog(QDialog):
    """A dialog whose Save runs async: it stays open, with the input, until the store accepted it."""

    def __init__(self, parent: QWidget, title: str, save: Saver) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._save = save
        self.save_task: asyncio.Task[None] | None = None
        self.error = StatusLabel()
        # A refusal whose `key` is listed here moves the focus to that input (not left on Save).
        self.focus_for: dict[str, QWidget] = {}
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    def values(self) -> dict[str, Any]:
        """The input as typed; the configuration service checks it. ValueError for what cannot even be read."""
        raise NotImplementedError

    def submit(self) -> asyncio.Task[None] | None:
        try:
            values = self.values()
        except ValueError as exc:  # ConfigError is one: the proxy field applies the core's proxy rule
            self.error.error(str(exc))
            self._focus_refused(exc)
            return None
        self.save_task = asyncio.ensure_future(self._run_save(values))
        return self.save_task

    async def _run_save(self, values: dict[str, Any]) -> None:
        self.buttons.setEnabled(False)
        self.error.busy(tr("Saving…"))
        try:
            await self._save(values)
        except ConfigError as exc:  # the configuration's refusal says what to fix
            self.error.error(tr("Not saved: {error}.", error=str(exc).rstrip(".")))
            self._focus_refused(exc)
        except Exception as exc:
            log.exception("Saving failed")
            self.error.error(tr("Not saved: {error}", error=exc))
        else:
            self.error.clear()
            self.accept()
        finally:
            self.buttons.setEnabled(True)
            self.save_task = None

    def _focus_refused(self, exc: Exception) -> None:
        widget = self.focus_for.get(getattr(exc, "key", None) or "")
        if widget is not None:
            widget.setFocus()

    def reject(self) -> None:
        if self.save_task is None:  # never abandon a save half-way
            super().reject()
