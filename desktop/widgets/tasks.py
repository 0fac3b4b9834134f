"""Async work started from Qt slots: tracked so a page can show it as busy, cancel it, and let tests wait."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Callable, Coroutine, TypeVar

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
