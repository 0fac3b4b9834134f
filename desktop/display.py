"""Deciding, before Qt is touched, whether a GUI can start here.

Qt aborts the whole process when its platform plugin cannot load, so this has to be known in advance.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import sys
from pathlib import Path

from core.i18n import tr

# Libraries Qt's xcb plugin links to that minimal systems lack, with the Debian package providing each.
_XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-shape": "libxcb-shape0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-image": "libxcb-image0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}


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
        return tr("no display is available (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if local and not Path(f"/tmp/.X11-unix/X{local.group(1)}").exists():
        return tr("the X display {display} is not running", display=display)
    missing = [package for library, package in _XCB_LIBRARIES.items() if ctypes.util.find_library(library) is None]
    if missing:
        return tr("Qt's X11 support needs {packages} (sudo apt-get install {apt_packages})",
                  packages=", ".join(missing), apt_packages=" ".join(missing))
    return None
