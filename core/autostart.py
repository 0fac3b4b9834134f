"""'Start at login' on Linux desktops: an XDG autostart entry in `$XDG_CONFIG_HOME/autostart`."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

ENTRY_NAME = "quotagate.desktop"


def autostart_dir() -> Path:
    config_home = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(config_home) / "autostart"


def entry_path() -> Path:
    return autostart_dir() / ENTRY_NAME


def launch_command() -> list[str]:
    """How to start this same installation of Quotagate from a login session."""
    if getattr(sys, "frozen", False):  # PyInstaller bundle
        return [sys.executable]
    script = Path(sys.executable).with_name("quotagate")
    if script.exists():
        return [str(script)]
    found = shutil.which("quotagate")
    if found:
        return [found]
    return [sys.executable, "-m", "core.cli"]


def is_enabled() -> bool:
    return entry_path().is_file()


def enable() -> Path:
    path = entry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    exec_line = " ".join(shlex.quote(part) for part in launch_command())
    path.write_text(
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Quotagate\n"
        "Comment=AI quota glance and local AI gateway\n"
        f"Exec={exec_line}\n"
        "Icon=quotagate\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n",
        encoding="utf-8",
    )
    return path


def disable() -> None:
    entry_path().unlink(missing_ok=True)


def set_enabled(enabled: bool) -> None:
    if enabled:
        enable()
    else:
        disable()
