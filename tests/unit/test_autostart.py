"""'Start at login' writes and removes an XDG autostart entry."""

from __future__ import annotations

import shlex
from pathlib import Path

from core import autostart


def test_enable_writes_an_entry_under_xdg_config_home(isolated_environment: Path) -> None:
    path = autostart.enable()
    assert path == isolated_environment / ".config" / "autostart" / "quotagate.desktop"
    text = path.read_text()
    assert "[Desktop Entry]" in text and "Type=Application" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    command = shlex.split(exec_line.removeprefix("Exec="))
    assert Path(command[0]).exists()
    assert autostart.is_enabled()


def test_disable_removes_the_entry(isolated_environment: Path) -> None:
    autostart.enable()
    autostart.disable()
    assert not autostart.entry_path().exists()
    assert not autostart.is_enabled()
    autostart.disable()  # disabling twice is harmless
