"""The one way settings are committed in the windows: Save and Revert at the bottom right of the page, with
the unsaved hint and the outcome on one line to their left (each message replaces the last).

Why a Save/Revert pair rather than auto-save: the pages' settings are typed (proxy addresses, thresholds)
and some take effect at once and heavily (a new port moves the gateway), so half-typed values must not be
committed on every keystroke; the pair lets a whole form be checked by the configuration service once.

A page gives the bar three things: `state()` (what the form shows now, any comparable value), `show(state)`
(put a state back, for Revert) and `save()` (a coroutine that commits through the configuration service and
returns the message to show, or raises `ConfigError`). A refusal whose `key` names a registered field is
shown under that field and the focus moves there; others are shown on the bar's line."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from core.i18n import tr
from core.settings import ConfigError
from desktop.widgets.feedback import StatusLabel
from desktop.widgets.field_error import FieldError
from desktop.widgets.tasks import PageTasks

if TYPE_CHECKING:
    from core.configuration import Configuration
    from core.services import CoreServices

log = logging.getLogger(__name__)


class CommitBar(QWidget):
    dirty_changed = Signal(bool)
    saved = Signal()

    def __init__(self, tasks: PageTasks, state: Callable[[], Any], show: Callable[[Any], None],
                 save: Callable[[], Awaitable[str | None]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._state, self._show, self._save = state, show, save
        self._baseline: Any = None
        self._fields: dict[str, tuple[QWidget, FieldError]] = {}
        self.dirty = False
        self._saving = False
        self._pointing = False  # the line points at a field's message
        self.save_task: asyncio.Task[bool] | None = None
        self.status = StatusLabel()
        self.revert_button = QPushButton(tr("Revert"))
        self.revert_button.setToolTip(tr("Forget unsaved changes"))
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton(tr("Save"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.start_save)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status, 1)
        layout.addStretch(0)  # holds the buttons at the right while the line is empty
        layout.addWidget(self.revert_button)
        layout.addWidget(self.save_button)
        self.status.setMinimumHeight(self.save_button.sizeHint().height())  # the bar keeps its height
        self._update_buttons()

    # -- what the page registers -------------------------------------------------------------------------
    def watch(self, *signals: SignalInstance) -> None:
        """Inputs whose change may make the form differ from what is saved."""
        for signal in signals:
            signal.connect(self.check)

    def add_field(self, key: str, focus: QWidget, error: FieldError, *signals: SignalInstance) -> None:
        """A refusal naming `key` is shown in `error` and focuses `focus`; editing (`signals`) clears it."""
        self._fields[key] = (focus, error)
        for signal in signals:
            signal.connect(error.clear)
            signal.connect(self.check)

    def reset(self) -> None:
        """What the form shows now is what is saved (after loading it, or after a save)."""
        self._baseline = self._state()
        self.check()

    # -- state ------------------------------------------------------------------------------------------
    def check(self, *_: Any) -> None:
        dirty = self._baseline is not None and self._state() != self._baseline
        if self._pointing and not any(error.shown() for _focus, error in self._fields.values()):
            self._pointing = False  # the field was edited: its message is gone, so is the pointer to it
            self.status.clear()
        if self.status.kind in ("", "info", "ok") and not self.saving():
            if dirty:
                self.status.info(tr("Unsaved changes."))
            elif self.status.kind == "info":
                self.status.clear()
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)
        self._update_buttons()

    def saving(self) -> bool:
        return self._saving

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(self.dirty and not self.saving())
        self.revert_button.setEnabled(self.dirty and not self.saving())

    def clear_errors(self) -> None:
        for _focus, error in self._fields.values():
            error.clear()

    # -- actions ----------------------------------------------------------------------------------------
    def revert(self) -> None:
        if self._baseline is None or self.saving():
            return
        self._show(self._baseline)
        self.clear_errors()
        self._pointing = False
        self.status.clear()
        self.check()

    def start_save(self, *_: Any) -> asyncio.Task[bool]:
        self.save_task = self._tasks.start(self.save())
        return self.save_task

    async def save(self) -> bool:
        """Commit what the form shows; True when the configuration service accepted it."""
        if self._saving:
            return False
        self.clear_errors()
        self._pointing = False
        self._saving = True
        self.status.busy(tr("Saving…"))
        self._update_buttons()
        try:
            message = await self._save()
        except ConfigError as exc:
            self._refused(exc)
            return False
        except Exception as exc:  # unexpected: said in words, details in the log
            log.exception("Saving failed")
            self.status.error(tr("Not saved: {error}", error=exc))
            return False
        finally:
            self._saving = False
            self._update_buttons()
        self._baseline = self._state()  # as the page shows it after saving (stored values may read back tidied)
        self.status.ok(message or tr("Saved."))
        self.check()
        self.saved.emit()
        return True

    def _refused(self, exc: ConfigError) -> None:
        field = self._fields.get(exc.key or "")
        if field is None:
            self.status.error(tr("Not saved: {error}", error=exc))
            return
        focus, error = field
        error.error(str(exc))
        self._pointing = True
        self.status.error(tr("Not saved: see the message under the field."))
        focus.setFocus()


def configuration_of(services: CoreServices) -> Configuration:
    """The configuration service a page's Save goes through, or a refusal in words while Quotagate stops."""
    if services.configuration is None:
        raise ConfigError(tr("Quotagate is shutting down."))
    return services.configuration


def field_refusal(key: str, message: str) -> ConfigError:
    """A refusal to show under the field registered as `key` (for a core answer that is not an exception,
    such as a port the gateway could not move to)."""
    error = ConfigError(message)
    error.key = key
    return error
