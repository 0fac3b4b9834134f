"""The desktop's event loop: qasync's Qt integration with asyncio's own scheduling.

qasync turns every `call_soon`/`call_later` into a Qt timer of its own (start, fire, kill), which costs
about 40 % of the main thread once the gateway serves traffic in the desktop app, and keeps cancelled timers
until they would have fired. This loop schedules the way asyncio's `BaseEventLoop` does: `call_soon` appends
to the ready deque, `call_at` pushes on the timer heap (cancelled timers purged by the same rule), and one
precise Qt timer, armed for the next due time, runs one asyncio iteration per timer event: what was ready
when it fired, while callbacks scheduled meanwhile wait for the next event, so Qt's own events (input,
paints, the tray's timers) interleave with asyncio work.

qasync still provides the socket notifiers, the executors and `run_forever`/`run_until_complete`/`stop`.
`call_soon_threadsafe` is asyncio's: append, then write a byte to the loop's self-pipe, whose socket notifier
wakes the Qt thread (a Qt timer must not be started from another thread).

`QUOTAGATE_QT_LOOP=qasync` selects qasync's plain loop instead: a diagnostic, for A/B measurements and for
ruling this loop in or out when chasing a bug.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import os
from asyncio.base_events import _format_handle  # type: ignore[attr-defined]  # asyncio's own wording
from asyncio.events import _get_running_loop, _set_running_loop
from asyncio.log import logger as asyncio_logger
from collections.abc import Callable
from typing import Any

import qasync
from PySide6.QtCore import QCoreApplication, Qt, QTimer

log = logging.getLogger(__name__)

LOOP_ENV = "QUOTAGATE_QT_LOOP"

# BaseEventLoop's rule for purging cancelled timers: rebuild the heap when it holds more than this many
# timers and more than this fraction of them are cancelled; otherwise drop cancelled ones from its head.
_MIN_SCHEDULED_TIMER_HANDLES = 100
_MIN_CANCELLED_TIMER_HANDLES_FRACTION = 0.5
_MAX_WAIT_MS = 24 * 3600 * 1000  # asyncio's MAXIMUM_SELECT_TIMEOUT; QTimer takes an int of milliseconds
_NOW = -math.inf  # "the Qt timer fires at once"


class AsyncioQEventLoop(qasync.QEventLoop):
    """A qasync loop whose callbacks and timers are scheduled by asyncio's rules, driven by one Qt timer."""

    def __init__(self, app: QCoreApplication | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._wake_at: float | None = None  # loop time the Qt timer is armed for; None: not armed
        self._wakeup = QTimer()
        self._wakeup.setTimerType(Qt.TimerType.PreciseTimer)
        self._wakeup.setSingleShot(True)
        self._wakeup.timeout.connect(self._run_iteration)

    # -- scheduling ----------------------------------------------------------------------------------
    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> asyncio.Handle:
        handle = asyncio.BaseEventLoop.call_soon(self, callback, *args, context=context)
        if self._wake_at is not _NOW:
            self._wake_soon()
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any,
                   context: Any = None) -> asyncio.TimerHandle:
        return asyncio.BaseEventLoop.call_later(self, delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any,
                context: Any = None) -> asyncio.TimerHandle:
        timer = asyncio.BaseEventLoop.call_at(self, when, callback, *args, context=context)
        wake_at = self._wake_at
        if wake_at is None or when < wake_at:
            self._wake_by(when)
        return timer

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any,
                             context: Any = None) -> asyncio.Handle:
        # asyncio's way: the deque append is atomic, and a byte on the self-pipe fires its socket notifier in
        # the Qt thread, which arms the timer (a QTimer cannot be started from here). Returns a handle, as
        # asyncio does; qasync's queued signal returned none.
        self._check_closed()
        if self._debug:
            self._check_callback(callback, "call_soon_threadsafe")
        handle = self._call_soon(callback, args, context)
        self._write_to_self()
        return handle

    def _add_callback(self, handle: asyncio.Handle) -> None:
        # Signal handlers (add_signal_handler) land here; qasync's version started a timer per handle.
        if not handle._cancelled:
            self._ready.append(handle)
            if self._wake_at is not _NOW:
                self._wake_soon()

    # -- the Qt timer --------------------------------------------------------------------------------
    def _wake_soon(self) -> None:
        self._wakeup.start(0)
        self._wake_at = _NOW

    def _wake_by(self, when: float) -> None:
        """Arm the Qt timer to fire at `when` (loop time): rounded up to whole milliseconds, never early."""
        delay = when - self.time()
        self._wakeup.start(0 if delay <= 0 else min(math.ceil(delay * 1000), _MAX_WAIT_MS))
        self._wake_at = when if delay > 0 else _NOW

    def _run_iteration(self) -> None:
        """One asyncio iteration (BaseEventLoop._run_once without the select): move the due timers to the
        ready deque and run what is ready now; anything scheduled meanwhile runs at the next timer event."""
        self._wake_at = None  # single-shot: it just fired; scheduling below arms it again
        if self._closed:
            return
        # Qt may deliver the timer outside run_forever (a final processEvents, a test's qtbot.wait): the
        # callbacks still find this loop with asyncio.get_running_loop().
        entered = _get_running_loop() is None
        if entered:
            _set_running_loop(self)
        try:
            self._purge_cancelled_timers()
            ready = self._ready
            scheduled = self._scheduled
            end_time = self.time() + self._clock_resolution
            while scheduled and scheduled[0]._when < end_time:
                handle = heapq.heappop(scheduled)
                handle._scheduled = False
                ready.append(handle)
            if len(ready) > 1:
                # Armed before running anything: a callback that spins a nested Qt loop (a modal dialog's
                # exec()) leaves the rest of this iteration to the nested loop's timer events.
                self._wake_soon()
            debug = self._debug
            for _ in range(len(ready)):
                if not ready:  # a callback spun a nested Qt loop whose iterations took the rest
                    break
                handle = ready.popleft()
                if handle._cancelled:
                    continue
                if debug:
                    self._run_timed(handle)
                else:
                    handle._run()
            handle = None  # break the cycle an exception's traceback would make
        finally:
            if entered:
                _set_running_loop(None)
            self._arm_for_next()

    def _run_timed(self, handle: asyncio.Handle) -> None:
        """Debug mode (loop.set_debug(True), PYTHONASYNCIODEBUG): asyncio's slow-callback warning."""
        try:
            self._current_handle = handle
            started = self.time()
            handle._run()
            took = self.time() - started
            if took >= self.slow_callback_duration:
                asyncio_logger.warning("Executing %s took %.3f seconds", _format_handle(handle), took)
        finally:
            self._current_handle = None

    def _purge_cancelled_timers(self) -> None:
        scheduled = self._scheduled
        if (len(scheduled) > _MIN_SCHEDULED_TIMER_HANDLES and
                self._timer_cancelled_count / len(scheduled) > _MIN_CANCELLED_TIMER_HANDLES_FRACTION):
            kept = []
            for handle in scheduled:
                if handle._cancelled:
                    handle._scheduled = False
                else:
                    kept.append(handle)
            heapq.heapify(kept)
            self._scheduled = kept
            self._timer_cancelled_count = 0
        else:
            while scheduled and scheduled[0]._cancelled:
                self._timer_cancelled_count -= 1
                heapq.heappop(scheduled)._scheduled = False

    def _arm_for_next(self) -> None:
        if self._closed:
            return
        if self._ready:
            if self._wake_at is not _NOW:
                self._wake_soon()
            return
        if self._wake_at is _NOW:  # armed at the start of an iteration that left nothing ready
            self._wakeup.stop()
            self._wake_at = None
        if self._scheduled:
            when = self._scheduled[0]._when
            if self._wake_at is None or when < self._wake_at:
                self._wake_by(when)

    # -- lifetime ------------------------------------------------------------------------------------
    def close(self) -> None:
        super().close()
        self._wakeup.stop()
        self._wake_at = None


def new_event_loop(app: QCoreApplication) -> asyncio.AbstractEventLoop:
    """The loop the desktop app runs on; `QUOTAGATE_QT_LOOP=qasync` picks qasync's own (diagnostic)."""
    choice = os.environ.get(LOOP_ENV, "").strip().lower()
    if choice == "qasync":
        log.warning("%s=qasync: running on qasync's own scheduling (a diagnostic setting)", LOOP_ENV)
        return qasync.QEventLoop(app)
    if choice not in ("", "asyncio"):
        log.warning("%s=%r is not one of 'asyncio' (the default) or 'qasync'; using the default", LOOP_ENV,
                    choice)
    return AsyncioQEventLoop(app)
