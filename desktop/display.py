"""Deciding, before Qt is touched, whether a GUI can start here.

Qt aborts the whole process when its platform plugin cannot load, so this has to be known in advance.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import sys
from pathlib import Path


def display_unavailable_reason() -> str | None:
    """Why no window can be shown here, or None when one can."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return None  # chosen explicitly (offscreen in tests, wayland, ...): trust it
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        return "no display is available (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if local and not Path(f"/tmp/.X11-unix/X{local.group(1)}").exists():
        return f"the X display {display} is not running"
    if ctypes.util.find_library("xcb-cursor") is None:
        return "Qt's X11 support needs libxcb-cursor0 (sudo apt-get install libxcb-cursor0)"
    return None
