"""Restart and shutdown on request (`POST /api/restart`, `POST /api/shutdown`): the program that runs the core
— the desktop app, or `quotagate serve` — installs what each means for it; the management API only asks.

Both are graceful: the asker gets its answer first, then requests in flight finish (the gateway drains),
queued writes are flushed and the store is closed, as on Quit or SIGTERM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)

Action = Callable[[], None]


@dataclass
class Lifecycle:
    restart: Action | None = None
    shutdown: Action | None = None


_installed = Lifecycle()


def install(restart: Action | None, shutdown: Action | None) -> None:
    """Called by the desktop app and by `quotagate serve` once they run; None: not possible here."""
    _installed.restart, _installed.shutdown = restart, shutdown


def uninstall() -> None:
    install(None, None)


def can(action: str) -> bool:
    return getattr(_installed, action) is not None


def request(action: str) -> bool:
    """Ask for "restart" or "shutdown"; False when this program installed no way to do it."""
    handler = getattr(_installed, action)
    if handler is None:
        return False
    log.info("%s requested through the management API", action.capitalize())
    handler()
    return True
