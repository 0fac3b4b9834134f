"""Where Quotagate keeps its files, and how they are protected.

Everything lives in one data folder so that a backup, a reset or a move is one folder. The folder and the
files in it are owner-only because they hold credentials.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "quotagate"
DATA_DIR_ENV = "QUOTAGATE_DATA_DIR"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def data_dir() -> Path:
    """The data folder: `$QUOTAGATE_DATA_DIR`, else the platform's user data folder."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def ensure_private_dir(path: Path) -> Path:
    """Create `path` if needed and make it owner-only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _chmod(path, PRIVATE_DIR_MODE)
    return path


def make_private(path: Path) -> None:
    """Restrict an existing file to its owner (no-op where the OS has no such modes)."""
    if path.exists():
        _chmod(path, PRIVATE_FILE_MODE)


def database_path(folder: Path) -> Path:
    return folder / "quotagate.sqlite"


def log_dir(folder: Path) -> Path:
    return folder / "logs"


def _chmod(path: Path, mode: int) -> None:
    if os.name == "posix":
        os.chmod(path, mode)
