"""One change to a tool's settings at a time, whoever asks: the settings window, the management API, or a
second Quotagate process (`quotagate serve` next to the desktop app) sharing the data folder.

Three layers, each for a reason: an OS lock on `<data>/cli-tools/<tool>.lock` serialises processes; a thread
lock serialises the executor threads of this process (cheap, and it does not depend on how the OS scopes file
locks to threads); `async_tool_lock` queues callers on the event loop before they take an executor thread, so
a burst of clicks and API calls waits on the loop instead of parking threads the gateway needs."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core import paths
from core.i18n import tr

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl

WAIT_SECONDS = 30.0  # a change takes milliseconds; waiting this long means another process is stuck

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()
_async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())


class LockTimeout(Exception):
    """Another process held the tool's lock for longer than `WAIT_SECONDS`."""


def lock_path(records_dir: Path, tool: str) -> Path:
    return records_dir / f"{tool}.lock"


@contextmanager
def tool_lock(records_dir: Path, tool: str, wait: float | None = None) -> Iterator[None]:
    """Hold the tool's lock in this process and across processes (blocking: call it off the event loop)."""
    wait = WAIT_SECONDS if wait is None else wait
    with _thread_lock(records_dir, tool):
        paths.ensure_private_dir(records_dir)
        fd = os.open(lock_path(records_dir, tool), os.O_RDWR | os.O_CREAT, paths.PRIVATE_FILE_MODE)
        try:
            _lock_file(fd, wait)
            try:
                yield
            finally:
                _unlock_file(fd)
        finally:
            os.close(fd)


def async_tool_lock(tool: str) -> asyncio.Lock:
    """The in-loop queue for one tool's changes (one per event loop: a lock belongs to the loop it waits on)."""
    loop = asyncio.get_running_loop()
    return _async_locks.setdefault(loop, {}).setdefault(tool, asyncio.Lock())


def _thread_lock(records_dir: Path, tool: str) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(str(lock_path(records_dir, tool)), threading.Lock())


def _lock_file(fd: int, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            if os.name == "nt":  # pragma: no cover
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise LockTimeout(tr("Another Quotagate process is changing this tool's settings; try again "
                                     "in a moment.")) from None
            time.sleep(0.02)


def _unlock_file(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
