"""One long action (a Test, a sign-in, a backup, an import): while it runs its status line counts the seconds
and a Cancel button stops it; its outcome then replaces that line.

Place `button_slot(trigger)` where the button that starts the action would go: while the action runs, Cancel
stands in that button's place (the slot is as wide as the wider of the two, so nothing moves). A page that
places `cancel_button` itself gets it hidden in a space kept for it. Pages ask `running()` to disable what
must wait."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPushButton, QSizePolicy, QStackedLayout, QWidget

from core.i18n import tr
from core.settings import ConfigError
from desktop.widgets.feedback import StatusLabel
from desktop.widgets.tasks import PageTasks

log = logging.getLogger(__name__)

T = TypeVar("T")


def elapsed_text(action: str, seconds: float) -> str:
    """"Testing coding… 2.4 s"."""
    return tr("{action} {seconds} s", action=action, seconds=f"{seconds:.1f}")


class LongAction(QObject):
    running_changed = Signal(bool)

    def __init__(self, tasks: PageTasks, status: StatusLabel, parent: QWidget | None = None,
                 cancel_text: str | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.status = status
        self.task: asyncio.Task[Any] | None = None
        self.cancel_button = QPushButton(cancel_text or tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        policy = self.cancel_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.cancel_button.setSizePolicy(policy)
        self.cancel_button.hide()
        self._slot: QStackedLayout | None = None
        self._trigger: QPushButton | None = None
        self._action = ""
        self._started = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)

    def button_slot(self, trigger: QPushButton) -> QWidget:
        """`trigger` and Cancel in one place: Cancel shows there while the action runs."""
        slot = QWidget()
        slot.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # the wider of the two, always
        self._trigger = trigger
        self._slot = QStackedLayout(slot)
        self._slot.setContentsMargins(0, 0, 0, 0)
        self._slot.addWidget(trigger)
        self._slot.addWidget(self.cancel_button)
        self.cancel_button.hide()  # the stack shows one of them at a time: the trigger until an action runs
        self._slot.setCurrentIndex(0)
        return slot

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def seconds(self) -> float:
        return time.perf_counter() - self._started

    def start(self, action: str, work: Callable[[], Awaitable[T]], done: Callable[[T, float], None],
              cancelled: Callable[[str], str], failed: Callable[[Exception], str] | None = None,
              cancellable: bool = True, expected: tuple[type[Exception], ...] = ()) -> asyncio.Task[None]:
        """Run `work()`, showing "`action` 1.2 s" meanwhile. Then `done(result, seconds)` reports the outcome
        (on `status`); Cancel shows `cancelled("1.2")`; an unexpected error shows `failed(error)`.
        `cancellable=False` for work that must not be left half-done (a restore): the seconds still count.
        `expected`: errors that are answers (a bad backup file), shown by `failed` but not logged."""
        if self.running():
            assert self.task is not None
            return self.task
        self._action, self._started = action, time.perf_counter()
        self._tick()
        self._show_cancel(cancellable)
        self._timer.start()
        task = self._tasks.start(self._run(work, done, cancelled, failed, (ConfigError, *expected)))
        task.add_done_callback(lambda _task: self._cancelled_before_start(cancelled))
        self.task = task
        self.running_changed.emit(True)
        return task

    def cancel(self) -> None:
        if self.running():
            assert self.task is not None
            self.task.cancel()

    def _tick(self) -> None:
        self.status.busy(elapsed_text(self._action, self.seconds()))

    async def _run(self, work: Callable[[], Awaitable[T]], done: Callable[[T, float], None],
                   cancelled: Callable[[str], str], failed: Callable[[Exception], str] | None,
                   expected: tuple[type[Exception], ...]) -> None:
        try:
            result = await work()
        except asyncio.CancelledError:
            self._stop()
            self.status.info(cancelled(f"{self.seconds():.1f}"))
        except Exception as exc:  # a refusal or an unexpected failure still ends the busy state with words
            self._stop()
            if not isinstance(exc, expected):  # a refusal is an answer; anything else goes to the log too
                log.exception("%s failed", self._action)
            self.status.error(failed(exc) if failed else tr("This did not work: {error}", error=exc))
        else:
            self._stop()
            done(result, self.seconds())
        finally:
            self.task = None
            self.running_changed.emit(False)

    def _cancelled_before_start(self, cancelled: Callable[[str], str]) -> None:
        """A task cancelled before it ran never reaches `_run`'s own clean-up."""
        if self._timer.isActive():
            self._stop()
            self.status.info(cancelled(f"{self.seconds():.1f}"))
            self.task = None
            self.running_changed.emit(False)

    def _stop(self) -> None:
        self._timer.stop()
        self._show_cancel(False)

    def _show_cancel(self, shown: bool) -> None:
        if self._slot is None or self._trigger is None:
            self.cancel_button.setVisible(shown)
            return
        had_focus = (self._trigger if shown else self.cancel_button).hasFocus()
        self._slot.setCurrentIndex(1 if shown else 0)
        if had_focus:  # the keyboard stays where it was: Space now cancels, then starts again
            (self.cancel_button if shown else self._trigger).setFocus()
