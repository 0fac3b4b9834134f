"""`server.ClientWatch`: a connection cancels the plain-answer handlers still running when its client leaves
(the end-to-end case, a real client abandoning a request, is in test_dialect_routes.py)."""

from __future__ import annotations

import asyncio

from core.gateway.server import ClientWatch


async def test_a_watched_task_is_cancelled_when_the_client_leaves_and_says_why() -> None:
    watch = ClientWatch()
    task = asyncio.ensure_future(asyncio.sleep(10))
    assert watch.watch(task)
    watch.client_left()
    await asyncio.sleep(0)
    assert task.cancelled()
    assert watch.unwatch(task) is True
    assert watch.unwatch(task) is False  # once


async def test_a_task_no_longer_watched_is_left_alone() -> None:
    watch = ClientWatch()
    task = asyncio.ensure_future(asyncio.sleep(0.01))
    watch.watch(task)
    assert watch.unwatch(task) is False  # finished normally: not cancelled for leaving
    watch.client_left()
    await task
    assert not task.cancelled()


async def test_nothing_is_watched_after_the_client_left() -> None:
    watch = ClientWatch()
    watch.client_left()
    task = asyncio.ensure_future(asyncio.sleep(0))
    assert watch.watch(task) is False
    await task
