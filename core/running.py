"""Which process owns a data folder right now: a pid file, so offline commands (restore) never pull the
store out from under a running Quotagate."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core import paths

PID_FILE = "quotagate.pid"


@dataclass(frozen=True)
class Owner:
    pid: int
    port: int


def claim(folder: Path, port: int) -> None:
    target = folder / PID_FILE
    target.write_text(json.dumps({"pid": os.getpid(), "port": port}))
    paths.make_private(target)


def release(folder: Path) -> None:
    owner = current_owner(folder)
    if owner is not None and owner.pid == os.getpid():
        (folder / PID_FILE).unlink(missing_ok=True)


def current_owner(folder: Path) -> Owner | None:
    """The live process holding `folder`, or None (a stale file from a crash counts as none)."""
    try:
        data = json.loads((folder / PID_FILE).read_text())
        owner = Owner(int(data["pid"]), int(data["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if owner.pid == os.getpid():
        return owner
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return owner
    return owner
