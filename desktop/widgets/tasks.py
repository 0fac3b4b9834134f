"""Async work started from Qt slots: tracked so a page can show it as busy, cancel it, and let tests wait."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Callable, Coroutine, TypeVar

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

T = TypeVar("T")


async def off_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (the store, decryption) in the default executor: the loop also serves the gateway."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


class PageTasks:
    """The asyncio tasks a page has started. Each coroutine reports its own expected errors to the user;
    anything unexpected is logged here rather than lost in a never-awaited task."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def busy(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def settle(self) -> None:
        """Wait until every task (including ones started meanwhile) has finished."""
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    def cancel_all(self, *_: Any) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: background work failed", self._owner, exc_info=task.exception())


class RefreshOnShowPage(QWidget):
    """A page whose data can change while it is hidden (through the management API, or as the gateway serves):
    it reads the data again, off the event loop, each time it is shown. Tests await `settle()`."""

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.tasks = PageTasks(owner)
        self.destroyed.connect(self.tasks.cancel_all)  # nothing outlives the window

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        if self.refresh_on_show():
            self.refresh_soon()
        super().showEvent(event)

    def refresh_on_show(self) -> bool:
        return True

    def can_refresh(self) -> bool:
        """Whether what the page reads is there: not while Quotagate starts or shuts down."""
        raise NotImplementedError

    def refresh_soon(self) -> None:
        if self.can_refresh():
            self.tasks.start(self.refresh())

    async def refresh(self) -> None:
        raise NotImplementedError

    async def settle(self) -> None:
        await self.tasks.settle()
